// HTTP probe on nginx over HTTP and HTTPS, 1,000 requests on one keep-alive
// connection after a warm-up: wiretest's per-request latency against curl's
// `-w` times on the same URL, and its keep-alive rate against
// `wrk -c1 -t1`.
import { alternate, type Side } from "../_alternate.ts";
import { lastJson, type Proc } from "../_process.ts";
import type { BenchRow, RowContext, RowReport } from "../_row.ts";
import { denoScript } from "../_wiretest.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { nginxConfig } from "../../tests/_support/nginx.ts";
import { startNginx } from "../_nginx.ts";
import { freePort } from "../../tests/_support/peer.ts";

const BODY_BYTES = 1024;

function sizes(ctx: RowContext) {
  return ctx.mode === "quick"
    ? { count: 50, warmUp: 20, wrkSeconds: 1 }
    : { count: 1000, warmUp: 1000, wrkSeconds: 3 };
}

/** A wrk latency like "45.12us", "1.02ms" or "1.20s", in milliseconds. */
function wrkMs(text: string): number {
  const m = text.match(/([\d.]+)(us|ms|s)/);
  if (!m) return NaN;
  const scale = m[2] === "us" ? 1e-3 : m[2] === "ms" ? 1 : 1000;
  return Number(m[1]) * scale;
}

function nearestRank(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)))];
}

const row: BenchRow = {
  id: "http-probe",
  title: "HTTP probe on nginx, 1,000 keep-alive requests",
  order: 30,
  programs: ["nginx", "curl", "wrk", "openssl"],
  async run(ctx: RowContext): Promise<RowReport> {
    const { count, warmUp, wrkSeconds } = sizes(ctx);
    if (!ctx.has("nginx") || !ctx.has("openssl")) {
      throw new Error("Cannot run the HTTP row: nginx and openssl are needed for the server");
    }
    const dir = ctx.tmp;
    await Deno.mkdir(`${dir}/www`);
    const body = new Uint8Array(BODY_BYTES);
    crypto.getRandomValues(body);
    await Deno.writeFile(`${dir}/www/bench.bin`, body);
    const certs = await makeCertificates();
    let nginx: Proc | undefined;
    const httpPort = freePort();
    const httpsPort = freePort();
    const urls = {
      http: `http://127.0.0.1:${httpPort}/bench.bin`,
      https: `https://127.0.0.1:${httpsPort}/bench.bin`,
    };

    const wiretestSide = (scheme: "http" | "https"): Side => ({
      id: `wiretest-${scheme}`,
      label: `wiretest probe (${scheme})`,
      async sample(warm) {
        const args = [urls[scheme], String(warm ? warmUp : count), String(warmUp)];
        if (scheme === "https") args.push(certs.caCertFile);
        const [cmd, full] = denoScript(ctx.root, "wiretest_http_probe.ts", args);
        const r = lastJson((await ctx.procs.run(cmd, full, { cwd: ctx.root })).stdout);
        return { p50_ms: Number(r.p50_ms), p99_ms: Number(r.p99_ms), rps: Number(r.rps) };
      },
    });
    const curlSide = (scheme: "http" | "https"): Side => ({
      id: `curl-${scheme}`,
      label: `curl -w (${scheme})`,
      programs: ["curl"],
      async sample(warm) {
        // One curl, many URLs: it reuses the connection as a keep-alive client does.
        const config = `${dir}/curl-${scheme}.conf`;
        const n = warm ? warmUp : warmUp + count;
        await Deno.writeTextFile(
          config,
          `url = "${urls[scheme]}"\noutput = "/dev/null"\n`.repeat(n),
        );
        const args = ["-s", "-S", "-K", config, "-w", "%{time_total} %{num_connects}\n"];
        if (scheme === "https") args.push("--cacert", certs.caCertFile);
        const out = await ctx.procs.run("curl", args);
        const lines = out.stdout.trim().split("\n");
        if (lines.length !== n) throw new Error(`curl printed ${lines.length} of ${n} timings`);
        const measured = lines.slice(warm ? 0 : warmUp).map((l) => Number(l.split(" ")[0]) * 1000);
        const connects = lines.reduce((sum, l) => sum + Number(l.split(" ")[1]), 0);
        if (connects !== 1) throw new Error(`curl opened ${connects} connections, not 1`);
        const sorted = Float64Array.from(measured).sort();
        const seconds = measured.reduce((a, b) => a + b, 0) / 1000;
        return {
          p50_ms: nearestRank(sorted, 50),
          p99_ms: nearestRank(sorted, 99),
          rps: measured.length / seconds,
        };
      },
    });
    const wrkSide = (scheme: "http" | "https"): Side => ({
      id: `wrk-${scheme}`,
      label: `wrk -c1 -t1 (${scheme})`,
      programs: ["wrk"],
      async sample(warm) {
        const out = await ctx.procs.run("wrk", [
          "-c1",
          "-t1",
          `-d${warm ? 1 : wrkSeconds}s`,
          "--latency",
          urls[scheme],
        ]);
        const text = out.stdout;
        const rps = Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
        const errors = text.match(/Non-2xx or 3xx responses: (\d+)|Socket errors: .*/);
        if (errors || !Number.isFinite(rps)) throw new Error(`wrk failed: ${text.slice(-400)}`);
        return {
          p50_ms: wrkMs(text.match(/^\s+50%\s+(\S+)/m)?.[1] ?? ""),
          p99_ms: wrkMs(text.match(/^\s+99%\s+(\S+)/m)?.[1] ?? ""),
          rps,
        };
      },
    });

    const sides: Side[] = [
      wiretestSide("http"),
      curlSide("http"),
      wrkSide("http"),
      wiretestSide("https"),
      curlSide("https"),
      wrkSide("https"),
    ];
    const metrics = [
      { key: "p50_ms", label: "median latency", unit: "ms", better: "lower" as const },
      { key: "p99_ms", label: "p99 latency", unit: "ms", better: "lower" as const },
      { key: "rps", label: "keep-alive rate", unit: "req/s", better: "higher" as const },
    ];
    const comparisons = (["http", "https"] as const).flatMap((s) => [
      {
        label: `${s}: median total, wiretest / curl`,
        metric: "p50_ms",
        a: `wiretest-${s}`,
        b: `curl-${s}`,
        target: { op: "within" as const, value: 0.15, text: "within ±15% of curl" },
      },
      {
        label: `${s}: keep-alive rate, wiretest / wrk`,
        metric: "rps",
        a: `wiretest-${s}`,
        b: `wrk-${s}`,
        target: { op: ">=" as const, value: 0.5, text: "≥ 0.5× wrk -c1" },
      },
    ]);
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
          keepaliveRequests: 1_000_000,
          httpExtra: "keepalive_timeout 600s;",
        }),
        [httpPort, httpsPort],
      );
      const result = await alternate(ctx, sides, metrics, comparisons);
      return {
        params: {
          requests: count,
          warm_up: warmUp,
          body_bytes: BODY_BYTES,
          wrk_seconds: wrkSeconds,
        },
        metrics,
        ...result,
        checks: [],
        notes: [
          "wiretest: the http-probe client role (repeat on one keep-alive connection) after a " +
          "warm-up on another connection; latency is each request's total (request sent to " +
          "body read), HdrHistogram percentiles.",
          "curl: one process given the URL warm-up + count times (one connection, checked), " +
          "time_total of each request after the warm-up ones; rate = requests / sum of totals.",
          "wrk runs for a duration (it has no request count), one thread, one connection.",
          `nginx serves a ${BODY_BYTES}-byte static file; HTTPS with a certificate from a ` +
          "throw-away CA that wiretest and curl verify (wrk does not verify).",
        ],
      };
    } finally {
      await nginx?.stop();
      await certs.cleanup();
    }
  },
};

export default row;
