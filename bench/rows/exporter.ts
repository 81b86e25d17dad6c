// Prometheus probes of an nginx URL, one after another, scraped from
// wiretest's exporter (plugins isolated, as `wiretest exporter` runs) and
// from Debian's blackbox_exporter: each probe's wall time as the scraper
// sees it (request sent to exposition read).
import { alternate, type Side } from "../_alternate.ts";
import type { Proc } from "../_process.ts";
import type { BenchRow, RowContext, RowReport } from "../_row.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { nginxConfig } from "../../tests/_support/nginx.ts";
import { freePort, waitForTcp } from "../../tests/_support/peer.ts";

function sizes(ctx: RowContext) {
  return ctx.mode === "quick" ? { probes: 5 } : { probes: 50 };
}

async function probeMs(base: string, target: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(
    `${base}/probe?module=http_2xx&target=${encodeURIComponent(target)}`,
    {
      headers: { "X-Prometheus-Scrape-Timeout-Seconds": "10" },
      signal: AbortSignal.timeout(15_000),
    },
  );
  const text = await response.text();
  const ms = performance.now() - started;
  if (!/^probe_success 1$/m.test(text)) {
    throw new Error(`Cannot use the probe: it did not succeed:\n${text.slice(0, 400)}`);
  }
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const row: BenchRow = {
  id: "exporter",
  title: "Prometheus probe of an nginx URL: wiretest exporter vs blackbox_exporter",
  order: 60,
  programs: ["nginx", "openssl", "prometheus-blackbox-exporter"],
  async run(ctx: RowContext): Promise<RowReport> {
    const { probes } = sizes(ctx);
    if (!ctx.has("nginx") || !ctx.has("openssl")) {
      throw new Error("Cannot run the exporter row: nginx and openssl are needed for the target");
    }
    const dir = ctx.tmp;
    await Deno.mkdir(`${dir}/www`);
    await Deno.writeTextFile(`${dir}/www/index.html`, "x".repeat(1024));
    const certs = await makeCertificates();
    const httpPort = freePort();
    const target = `http://127.0.0.1:${httpPort}/index.html`;
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
          const times: number[] = [];
          for (let i = 0; i < (warm ? 3 : probes); i++) {
            times.push(await probeMs(`http://127.0.0.1:${port}`, target));
          }
          return { probe_ms: median(times) };
        },
        async stop() {
          await proc?.stop();
        },
      };
    };
    await Deno.writeTextFile(
      `${dir}/exporter.yaml`,
      "modules:\n  http_2xx:\n    plugin: http-probe\n    timeout: 5s\n",
    );
    await Deno.writeTextFile(
      `${dir}/blackbox.yml`,
      "modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http: { preferred_ip_protocol: ip4 }\n",
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
    ];
    const comparisons = [{
      label: "probe wall time, wiretest / blackbox_exporter",
      metric: "probe_ms",
      a: "wiretest",
      b: "blackbox",
      target: { op: "<=" as const, value: 1.2, text: "≤ 1.2× blackbox_exporter" },
    }];
    try {
      await Deno.writeTextFile(
        `${dir}/nginx.conf`,
        nginxConfig({
          dir,
          httpPort,
          httpsPort: freePort(),
          certFile: certs.certFile,
          keyFile: certs.keyFile,
        }),
      );
      nginx = ctx.procs.spawn("nginx", [
        "-p",
        dir,
        "-c",
        `${dir}/nginx.conf`,
        "-e",
        `${dir}/error.log`,
      ]);
      await waitForTcp(httpPort, 10_000);
      const result = await alternate(ctx, sides, metrics, comparisons);
      return {
        params: { probes_per_sample: probes, target: "nginx, 1 KiB static file over http" },
        metrics,
        ...result,
        checks: [],
        notes: [
          "Each sample: probes one after another from a scraper in the bench process; the " +
          "median of their wall times (request sent to exposition read).",
          "wiretest runs each probe in a warm isolated plugin process (params validated there, " +
          "then run): two round trips to that process per probe besides the HTTP exchange.",
        ],
      };
    } finally {
      await nginx?.stop();
      await certs.cleanup();
    }
  },
};

export default row;
