// Prometheus probes of an nginx URL, one after another, scraped from
// wiretest's exporter (plugins isolated, as `wiretest exporter` runs) and
// from Debian's blackbox_exporter: each probe's wall time as the scraper
// sees it (request sent to exposition read), over http and over https, and
// for https also the exporter's own `probe_duration_seconds`.
import { alternate, type Side } from "../_alternate.ts";
import type { Proc } from "../_process.ts";
import type { BenchRow, CheckReport, RowContext, RowReport } from "../_row.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { nginxConfig } from "../../tests/_support/nginx.ts";
import { startNginx } from "../_nginx.ts";
import { upperMedian } from "../_stats.ts";
import { freePort, waitForTcp } from "../../tests/_support/peer.ts";

// Probes each exporter answers before the rounds (each an http and an https
// probe). V8 compiles a function called once per probe with its optimizing
// tiers only after hundreds of calls (Maglev at 400, TurboFan at 3,000 by
// default): a fresh wiretest exporter's first 50 probes took 1.8 ms where
// the 500th took 1.4. An exporter scraped every 15 s for 100 targets answers
// 500 probes in about a minute; the first 50 are reported apart (FIRST_PROBES).
const WARM_PROBES = 500;
const FIRST_PROBES = 50;

function sizes(ctx: RowContext) {
  // The soak: `targets` probed once a second for `seconds` (100 × 60 s in full mode).
  if (ctx.mode === "quick") return { probes: 5, warm: 5, soak: { targets: 10, seconds: 3 } };
  if (ctx.mode === "full") {
    return { probes: 50, warm: WARM_PROBES, soak: { targets: 100, seconds: 60 } };
  }
  return { probes: 50, warm: WARM_PROBES, soak: { targets: 20, seconds: 10 } };
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? "not measured" : `${ms.toFixed(3)} ms`;
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

// The exporter's plugin processes: its children that run a plugin.
function pluginProcesses(pid: number): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const command = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (ppid === pid && command.includes("--no-prompt")) found.push(Number(entry.name));
    } catch { /* ended meanwhile */ }
  }
  return found;
}

// The soak: every target once a second; failed probes, and the exporter's
// RSS after the first second and at the end.
async function soak(
  ctx: RowContext,
  pid: number,
  base: string,
  target: string,
  size: { targets: number; seconds: number },
): Promise<CheckReport[]> {
  let failed = 0;
  const rss: number[] = [];
  const pluginRss: number[] = [];
  for (let second = 0; second < size.seconds; second++) {
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: size.targets }, (_, i) => probe(base, "http_2xx", `${target}?t=${i}`)),
    );
    failed += results.filter((r) => r.status === "rejected").length;
    rss.push(rssMiB(pid));
    pluginRss.push(Math.max(
      0,
      ...pluginProcesses(pid).map((p) => {
        try {
          return rssMiB(p);
        } catch {
          return 0;
        }
      }),
    ));
    await new Promise((ok) => setTimeout(ok, Math.max(0, 1000 - (performance.now() - started))));
  }
  ctx.log(
    `soak: ${failed} failed of ${size.targets * size.seconds}, RSS ${
      rss.map((r) => r.toFixed(0))
    } MiB`,
  );
  const growth = rss.at(-1)! - rss[0];
  return [
    {
      label: `soak ${size.targets} targets × ${size.seconds} s: failed probes`,
      value: failed,
      unit: "probes",
      target: { op: "<=", value: 0, text: "none" },
      met: failed === 0,
    },
    {
      label: `soak ${size.targets} targets × ${size.seconds} s: RSS growth after the first second`,
      value: growth,
      unit: "MiB",
      target: { op: "<=", value: 25, text: "≤ 25 MiB (flat)" },
      met: growth <= 25,
      detail: `RSS by second: ${rss.map((r) => r.toFixed(0)).join(" ")} MiB; the largest ` +
        `plugin process's: ${pluginRss.map((r) => r.toFixed(0)).join(" ")} MiB`,
    },
  ];
}

/** One probe's wall time as the scraper sees it and the exporter's `probe_duration_seconds`. */
interface Probed {
  wallMs: number;
  durationMs: number;
}

async function probe(base: string, module: string, target: string): Promise<Probed> {
  const started = performance.now();
  const response = await fetch(
    `${base}/probe?module=${module}&target=${encodeURIComponent(target)}`,
    {
      headers: { "X-Prometheus-Scrape-Timeout-Seconds": "10" },
      signal: AbortSignal.timeout(15_000),
    },
  );
  const text = await response.text();
  const wallMs = performance.now() - started;
  if (!/^probe_success 1$/m.test(text)) {
    throw new Error(`Cannot use the probe: it did not succeed:\n${text.slice(0, 400)}`);
  }
  const duration = /^probe_duration_seconds (\S+)$/m.exec(text);
  if (!duration) throw new Error("Cannot use the probe: it has no probe_duration_seconds");
  return { wallMs, durationMs: Number(duration[1]) * 1000 };
}

const row: BenchRow = {
  id: "exporter",
  title: "Prometheus probe of an nginx URL: wiretest exporter vs blackbox_exporter",
  order: 60,
  programs: ["nginx", "openssl", "prometheus-blackbox-exporter"],
  async run(ctx: RowContext): Promise<RowReport> {
    const { probes, warm: warmProbes, soak: soakSize } = sizes(ctx);
    // Median of each fresh exporter's first http probes, by side.
    const first = new Map<string, number>();
    if (!ctx.has("nginx") || !ctx.has("openssl")) {
      throw new Error("Cannot run the exporter row: nginx and openssl are needed for the target");
    }
    const dir = ctx.tmp;
    await Deno.mkdir(`${dir}/www`);
    await Deno.writeTextFile(`${dir}/www/index.html`, "x".repeat(1024));
    const certs = await makeCertificates();
    const httpPort = freePort();
    const httpsPort = freePort();
    const target = `http://127.0.0.1:${httpPort}/index.html`;
    // The same file over https, to the IP the certificate names (no name
    // lookup on either side: the difference to http is TLS alone).
    const httpsTarget = `https://127.0.0.1:${httpsPort}/index.html`;
    let nginx: Proc | undefined;

    const exporterSide = (
      id: string,
      label: string,
      programs: string[],
      start: (port: number) => Proc,
    ): Side => {
      const port = freePort();
      let proc: Proc | undefined;
      return {
        id,
        label,
        programs,
        async start() {
          proc = start(port);
          await waitForTcp(port, 30_000);
        },
        async sample(warm) {
          const base = `http://127.0.0.1:${port}`;
          const http: number[] = [];
          const httpsWall: number[] = [];
          const httpsDuration: number[] = [];
          // Alternated probe by probe, so drift hits both schemes alike.
          for (let i = 0; i < (warm ? warmProbes : probes); i++) {
            http.push((await probe(base, "http_2xx", target)).wallMs);
            const https = await probe(base, "https_2xx", httpsTarget);
            httpsWall.push(https.wallMs);
            httpsDuration.push(https.durationMs);
          }
          if (warm) {
            const fresh = upperMedian(http.slice(0, FIRST_PROBES));
            first.set(id, fresh);
            ctx.log(`  ${label}: first ${FIRST_PROBES} http probes' median ${fresh.toFixed(3)} ms`);
          }
          return {
            probe_ms: upperMedian(http),
            https_probe_ms: upperMedian(httpsWall),
            https_duration_ms: upperMedian(httpsDuration),
          };
        },
        extra: () => ({ first_probes_median_ms: first.get(id) }),
        async stop() {
          await proc?.stop();
        },
      };
    };
    await Deno.writeTextFile(
      `${dir}/exporter.yaml`,
      "modules:\n  http_2xx:\n    plugin: http-probe\n    timeout: 5s\n" +
        `  https_2xx:\n    plugin: http-probe\n    timeout: 5s\n    with: { caFile: "${certs.caCertFile}" }\n`,
    );
    await Deno.writeTextFile(
      `${dir}/blackbox.yml`,
      "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http: { preferred_ip_protocol: ip4 }\n" +
        "  https_2xx:\n    prober: http\n    timeout: 5s\n    http:\n" +
        `      preferred_ip_protocol: ip4\n      tls_config: { ca_file: "${certs.caCertFile}" }\n`,
    );
    const sides: Side[] = [
      exporterSide(
        "wiretest",
        "wiretest exporter (isolated)",
        [],
        (port) =>
          ctx.procs.spawn(Deno.execPath(), [
            "run",
            "-A",
            `${ctx.root}/lib/cli/main.ts`,
            "exporter",
            "--config",
            `${dir}/exporter.yaml`,
            "--listen",
            `127.0.0.1:${port}`,
          ], { cwd: ctx.root }),
      ),
      exporterSide(
        "blackbox",
        "blackbox_exporter 0.23 (Debian)",
        ["prometheus-blackbox-exporter"],
        (port) =>
          ctx.procs.spawn("prometheus-blackbox-exporter", [
            `--config.file=${dir}/blackbox.yml`,
            `--web.listen-address=127.0.0.1:${port}`,
          ]),
      ),
    ];
    const metrics = [
      { key: "probe_ms", label: "probe wall time (median)", unit: "ms", better: "lower" as const },
      {
        key: "https_probe_ms",
        label: "https probe wall time (median)",
        unit: "ms",
        better: "lower" as const,
      },
      {
        key: "https_duration_ms",
        label: "https probe_duration_seconds (median)",
        unit: "ms",
        better: "lower" as const,
      },
    ];
    const target12 = { op: "<=" as const, value: 1.2, text: "≤ 1.2× blackbox_exporter" };
    const comparisons = [
      {
        label: "probe wall time, wiretest / blackbox_exporter",
        metric: "probe_ms",
        a: "wiretest",
        b: "blackbox",
        target: target12,
      },
      {
        label: "https probe wall time, wiretest / blackbox_exporter",
        metric: "https_probe_ms",
        a: "wiretest",
        b: "blackbox",
        target: target12,
      },
      {
        label: "https probe_duration_seconds, wiretest / blackbox_exporter",
        metric: "https_duration_ms",
        a: "wiretest",
        b: "blackbox",
      },
    ];
    try {
      nginx = await startNginx(
        ctx.procs,
        dir,
        nginxConfig({
          dir,
          httpPort,
          httpsPort,
          certFile: certs.certFile,
          keyFile: certs.keyFile,
        }),
        [httpPort, httpsPort],
      );
      const result = await alternate(ctx, sides, metrics, comparisons);
      // The soak, on a wiretest exporter of its own, its heap capped as
      // README says to run one for days.
      const soakPort = freePort();
      const soaked = ctx.procs.spawn(Deno.execPath(), [
        "run",
        "-A",
        "--v8-flags=--max-old-space-size=64",
        `${ctx.root}/lib/cli/main.ts`,
        "exporter",
        "--config",
        `${dir}/exporter.yaml`,
        "--listen",
        `127.0.0.1:${soakPort}`,
      ], { cwd: ctx.root });
      let checks: CheckReport[];
      try {
        await waitForTcp(soakPort, 30_000);
        checks = await soak(ctx, soaked.pid, `http://127.0.0.1:${soakPort}`, target, soakSize);
      } finally {
        await soaked.stop();
      }
      return {
        params: {
          probes_per_sample: probes,
          warm_probes: warmProbes,
          target: "nginx, 1 KiB static file over http and over https (127.0.0.1, a test CA)",
          soak_targets: soakSize.targets,
          soak_seconds: soakSize.seconds,
        },
        metrics,
        ...result,
        checks,
        notes: [
          "Each sample: probes one after another from a scraper in the bench process; the " +
          "median of their wall times (request sent to exposition read).",
          `Each exporter answers ${warmProbes} http and https probes before the rounds (V8 ` +
          "optimizes code run once per probe after hundreds of calls). A fresh exporter's first " +
          `${FIRST_PROBES} http probes, median: wiretest ${fmtMs(first.get("wiretest"))}, ` +
          `blackbox_exporter ${fmtMs(first.get("blackbox"))}${
            first.has("wiretest") && first.has("blackbox")
              ? ` (${(first.get("wiretest")! / first.get("blackbox")!).toFixed(2)}×)`
              : ""
          }.`,
          "wiretest runs each probe in a warm isolated plugin process: one round trip to that " +
          "process per probe besides the HTTP exchange (the client prepared once per module " +
          "and target).",
          "The soak's exporter runs with --v8-flags=--max-old-space-size=64 (README, " +
          "Monitoring); its plugin processes get a 64 MiB heap from the exporter.",
        ],
      };
    } finally {
      await nginx?.stop();
      await certs.cleanup();
    }
  },
};

export default row;
