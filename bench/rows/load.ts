// `wiretest load` against the load tools people already run, side by side:
// HTTP keep-alive GETs on nginx with 8 connections for 10 s (closed model)
// against autocannon (npm) and wrk; RESP PING on redis-server with 8
// connections against redis-benchmark; UDP ping at 20,000 datagrams/s for
// 10 s against a Node.js peer that drops every 100th datagram (rate achieved,
// loss exact); and wiretest's own cost: CPU per 10,000 requests and peak RSS
// of a 60 s run at 10,000 requests/s (process tree: the CLI and its plugin
// process), with its RSS at 10 s to show it flat.
import { fileURLToPath } from "node:url";
import { alternate, type Side } from "../_alternate.ts";
import { lastJson, wholeJson } from "../_process.ts";
import type { BenchRow, CheckReport, RowContext, RowReport } from "../_row.ts";
import { cli } from "../_wiretest.ts";
import { nginxConfig } from "../../tests/_support/nginx.ts";
import { startNginx } from "../_nginx.ts";
import { freePort, waitForTcp } from "../../tests/_support/peer.ts";

const CONNECTIONS = 8;
const UDP_RATE = 20_000;
const DROP_EVERY = 100;
const COST_RATE = 10_000;
const DROP_PEER = fileURLToPath(
  new URL("../../tests/data/load/udp_drop_every.mjs", import.meta.url),
);
const RESP_MANIFEST = fileURLToPath(
  new URL("../../examples/plugins/resp/manifest.json", import.meta.url),
);

function sizes(ctx: RowContext) {
  return ctx.mode === "quick"
    ? { seconds: 1, warmUp: 1, costSeconds: 3, pairs: 1, benchmarkRequests: 20_000 }
    : {
      seconds: 10,
      warmUp: 2,
      costSeconds: 60,
      pairs: Math.min(ctx.pairs, 3),
      benchmarkRequests: 1_000_000,
    };
}

/** A wrk latency like "45.12us", "1.02ms" or "1.20s", in milliseconds. */
function wrkMs(text: string): number {
  const m = text.match(/([\d.]+)(us|ms|s)/);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 1e-3 : m[2] === "ms" ? 1 : 1000);
}

/** CPU seconds and resident memory of a process and its descendants, from /proc. */
function treeUsage(root: number): { cpuS: Map<number, number>; rssMiB: number } {
  const cpuS = new Map<number, number>();
  let rssMiB = 0;
  const visit = (pid: number, depth: number) => {
    if (depth > 8) return;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime, fields 14 and 15 (11 and 12 after the command), in ticks of 1/100 s.
      cpuS.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
      const rss = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+)/m);
      if (rss) rssMiB += Number(rss[1]) / 1024;
      for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
        const children = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
        for (const child of children.trim().split(/\s+/).filter(Boolean)) {
          visit(Number(child), depth + 1);
        }
      }
    } catch {
      // Gone between listing and reading.
    }
  };
  visit(root, 0);
  return { cpuS, rssMiB };
}

const row: BenchRow = {
  id: "load",
  title: "Load: HTTP on nginx, RESP PING, UDP at 20,000/s, own cost",
  order: 35,
  programs: ["nginx", "wrk", "redis-server", "redis-benchmark", "node"],
  async run(ctx: RowContext): Promise<RowReport> {
    const { seconds, warmUp, costSeconds, pairs, benchmarkRequests } = sizes(ctx);
    const round = { ...ctx, pairs };
    const dir = ctx.tmp;
    await Deno.mkdir(`${dir}/www`);
    await Deno.writeFile(`${dir}/www/bench.bin`, crypto.getRandomValues(new Uint8Array(1024)));
    const httpPort = freePort();
    const url = `http://127.0.0.1:${httpPort}/bench.bin`;
    const redisPort = freePort();
    const redisTarget = `127.0.0.1:${redisPort}`;
    const wiretest = (args: string[]) => cli(ctx.root, args);
    // `wiretest load … --json` whose every request must succeed: its summary.
    const wiretestLoad = async (args: string[]) => {
      const [cmd, full] = wiretest(["load", ...args, "--json"]);
      const r = wholeJson((await ctx.procs.run(cmd, full, { cwd: ctx.root })).stdout);
      if (r.errors !== 0) throw new Error(`wiretest counted ${r.errors} errors`);
      return r;
    };
    const duration = (warm: boolean) => `${warm ? warmUp : seconds}s`;

    const sides: Side[] = [
      {
        id: "wiretest-http",
        label: `wiretest load http-probe --vus ${CONNECTIONS}`,
        async sample(warm) {
          const r = await wiretestLoad([
            "http-probe",
            url,
            "--vus",
            String(CONNECTIONS),
            "--duration",
            duration(warm),
          ]);
          return { rps: Number(r.rate), p50_ms: Number((r.latency as { p50: number }).p50) };
        },
      },
      {
        id: "autocannon",
        label: `autocannon -c ${CONNECTIONS}`,
        programs: ["node"],
        async sample(warm) {
          const out = await ctx.procs.run("npx", [
            "-y",
            "autocannon",
            "-c",
            String(CONNECTIONS),
            "-d",
            warm ? String(warmUp) : String(seconds),
            "-j",
            url,
          ]);
          const r = lastJson(out.stdout);
          const requests = r.requests as { average: number; total: number };
          const latency = r.latency as { p50: number };
          if (Number(r.non2xx) > 0 || Number(r.errors) > 0) {
            throw new Error("autocannon saw errors");
          }
          return { rps: requests.total / Number(r.duration), p50_ms: latency.p50 };
        },
      },
      {
        id: "wrk",
        label: `wrk -t1 -c${CONNECTIONS}`,
        programs: ["wrk"],
        async sample(warm) {
          const out = await ctx.procs.run("wrk", [
            "-t1",
            `-c${CONNECTIONS}`,
            `-d${duration(warm)}`,
            "--latency",
            url,
          ]);
          const rps = Number(out.stdout.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
          if (/Non-2xx|Socket errors/.test(out.stdout) || !Number.isFinite(rps)) {
            throw new Error(`wrk failed: ${out.stdout.slice(-400)}`);
          }
          return { rps, p50_ms: wrkMs(out.stdout.match(/^\s+50%\s+(\S+)/m)?.[1] ?? "") };
        },
      },
      {
        id: "wiretest-resp",
        label: `wiretest load resp --vus ${CONNECTIONS} (PING, isolated third-party plugin)`,
        async sample(warm) {
          const r = await wiretestLoad([
            "resp",
            redisTarget,
            "--plugins",
            RESP_MANIFEST,
            "--vus",
            String(CONNECTIONS),
            "--duration",
            duration(warm),
          ]);
          return { rps: Number(r.rate) };
        },
      },
      {
        id: "redis-benchmark",
        label: `redis-benchmark -t ping -c ${CONNECTIONS} (PING_MBULK)`,
        programs: ["redis-benchmark"],
        async sample(warm) {
          const out = await ctx.procs.run("redis-benchmark", [
            "-p",
            String(redisPort),
            "-t",
            "ping",
            "-c",
            String(CONNECTIONS),
            "-q",
            "-n",
            String(warm ? benchmarkRequests / 10 : benchmarkRequests),
          ]);
          const text = out.stdout.replaceAll("\r", "\n");
          const rps = Number(text.match(/PING_MBULK: ([\d.]+) requests per second/)?.[1]);
          if (!Number.isFinite(rps)) throw new Error(`redis-benchmark: ${text.slice(-300)}`);
          return { rps };
        },
      },
    ];
    const metrics = [
      { key: "rps", label: "throughput", unit: "req/s", better: "higher" as const },
      { key: "p50_ms", label: "median latency", unit: "ms", better: "lower" as const },
    ];
    const comparisons = [
      {
        label: "HTTP keep-alive rate, wiretest / autocannon",
        metric: "rps",
        a: "wiretest-http",
        b: "autocannon",
        target: { op: ">=" as const, value: 1.0, text: "≥ 1.0× autocannon" },
      },
      {
        label: "HTTP keep-alive rate, wiretest / wrk",
        metric: "rps",
        a: "wiretest-http",
        b: "wrk",
        target: { op: ">=" as const, value: 0.5, text: "≥ 0.5× wrk" },
      },
      {
        label: "HTTP median latency, wiretest / wrk",
        metric: "p50_ms",
        a: "wiretest-http",
        b: "wrk",
        target: { op: "<=" as const, value: 1.5, text: "≤ 1.5× wrk's" },
      },
      {
        label: "RESP PING rate, wiretest / redis-benchmark",
        metric: "rps",
        a: "wiretest-resp",
        b: "redis-benchmark",
        target: { op: ">=" as const, value: 0.5, text: "≥ 0.5× redis-benchmark" },
      },
    ];

    const udpRun = async (): Promise<{ rate: number; exact: boolean; detail: string }> => {
      const port = freePort("udp");
      const peer = ctx.procs.spawn("node", [DROP_PEER, String(port), String(DROP_EVERY), "120"]);
      await peer.waitFor(/ready/);
      const [cmd, args] = wiretest([
        "load",
        "udp-ping",
        `127.0.0.1:${port}`,
        "--rate",
        String(UDP_RATE),
        "--duration",
        `${seconds}s`,
        "--max-vus",
        "3000",
        "--pre-allocated-vus",
        "1000",
        "--timeout-ms",
        "2000",
        "--json",
      ]);
      const proc = ctx.procs.spawn(cmd, args, { cwd: ctx.root });
      const exit = await proc.exited;
      const r = wholeJson(exit.stdout);
      const peerExit = await peer.stop("SIGTERM");
      const m = /received (\d+) dropped (\d+) echoed (\d+)/.exec(peerExit.stdout);
      if (!m) throw new Error(`the dropping peer printed no counts: ${peerExit.stdout}`);
      const [received, dropped] = [Number(m[1]), Number(m[2])];
      const errors = r.errorsByType as Record<string, number>;
      const lost = errors["no-reply"] ?? 0;
      const exact = lost === dropped && Number(r.errors) === lost &&
        Number(r.iterations) === received;
      return {
        rate: Number(r.rate) / UDP_RATE,
        exact,
        detail: `sent ${r.iterations}, peer received ${received} and dropped ${dropped}; ` +
          `wiretest counted ${lost} no-reply of ${r.errors} errors, rate ${
            Number(r.rate).toFixed(0)
          }/s, dropped arrivals ${r.dropped}`,
      };
    };

    const costRun = async (): Promise<CheckReport[]> => {
      const [cmd, args] = wiretest([
        "load",
        "http-probe",
        url,
        "--rate",
        String(COST_RATE),
        "--duration",
        `${costSeconds}s`,
        "--max-vus",
        "64",
        "--json",
      ]);
      const proc = ctx.procs.spawn(cmd, args, { cwd: ctx.root });
      const cpu = new Map<number, number>();
      let peak = 0;
      let atTen: number | undefined;
      const started = performance.now();
      while (!proc.done) {
        const usage = treeUsage(proc.pid);
        for (const [pid, s] of usage.cpuS) cpu.set(pid, Math.max(cpu.get(pid) ?? 0, s));
        peak = Math.max(peak, usage.rssMiB);
        if (atTen === undefined && performance.now() - started >= 10_000) atTen = usage.rssMiB;
        await new Promise((r) => setTimeout(r, 250));
      }
      const exit = await proc.exited;
      const r = wholeJson(exit.stdout);
      const cpuSeconds = [...cpu.values()].reduce((a, b) => a + b, 0);
      const iterations = Number(r.iterations);
      const checks: CheckReport[] = [
        {
          label:
            `CPU per 10,000 requests (${COST_RATE}/s for ${costSeconds} s, CLI and plugin process)`,
          value: cpuSeconds / (iterations / 10_000),
          unit: "s",
          detail:
            `${iterations} requests, ${r.errors} errors, rate ${Number(r.rate).toFixed(0)}/s, ` +
            `${cpuSeconds.toFixed(1)} CPU s (sampled every 250 ms)`,
        },
        {
          label: `peak RSS, ${costSeconds} s at ${COST_RATE}/s (CLI and plugin process together)`,
          value: peak,
          unit: "MiB",
          ...(atTen === undefined ? {} : { detail: `${atTen.toFixed(0)} MiB at 10 s` }),
        },
      ];
      if (atTen !== undefined) {
        checks.push({
          label: "RSS growth from 10 s to the peak (flat: histograms, not samples)",
          value: peak / atTen,
          unit: "×",
          target: { op: "<=", value: 1.2, text: "≤ 1.2× (flat)" },
          met: peak / atTen <= 1.2,
        });
      }
      return checks;
    };

    const nginx = await startNginx(
      ctx.procs,
      dir,
      nginxConfig({
        dir,
        httpPort,
        httpsPort: freePort(),
        certFile: "",
        keyFile: "",
        keepaliveRequests: 10_000_000,
        httpExtra: "keepalive_timeout 600s;",
      }).replace(
        /\n\s*listen [^\n]* ssl;\n\s*ssl_certificate [^\n]*\n\s*ssl_certificate_key [^\n]*/,
        "",
      ),
      [httpPort],
    );
    const redis = ctx.procs.spawn("redis-server", [
      "--port",
      String(redisPort),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
    try {
      await waitForTcp(redisPort, 10_000);
      const result = await alternate(round, sides, metrics, comparisons);
      const checks: CheckReport[] = [];
      const udp = [];
      for (let i = 0; i < pairs; i++) udp.push(await udpRun());
      const rates = udp.map((u) => u.rate).sort((a, b) => a - b);
      const rate = rates[Math.floor(rates.length / 2)];
      checks.push({
        label:
          `UDP ping at ${UDP_RATE}/s for ${seconds} s: rate achieved / asked (median of ${pairs})`,
        value: rate,
        unit: "×",
        target: { op: "within", value: 0.02, text: "within 2%" },
        met: Math.abs(rate - 1) <= 0.02,
        detail: `runs: ${rates.map((r) => r.toFixed(3)).join(", ")}`,
      });
      checks.push({
        label: `UDP loss against a peer dropping every ${DROP_EVERY}th datagram, counted exactly`,
        value: udp.filter((u) => u.exact).length,
        unit: `of ${pairs} runs`,
        target: { op: ">=", value: pairs, text: "every run exact" },
        met: udp.every((u) => u.exact),
        detail: udp.map((u) => u.detail).join(" | "),
      });
      checks.push(...await costRun());
      return {
        params: {
          connections: CONNECTIONS,
          seconds,
          udp_rate: UDP_RATE,
          drop_every: DROP_EVERY,
          cost_rate: COST_RATE,
          cost_seconds: costSeconds,
          rounds: pairs,
        },
        metrics,
        ...result,
        checks,
        notes: [
          "wiretest runs isolated (the default): the CLI starts the plugin's process, which runs " +
          "the whole VU loop and sends the report back; http-probe keeps one keep-alive " +
          "connection per VU, resp (the example third-party plugin, through its manifest) one " +
          "connection per VU and one PING per iteration.",
          "autocannon (npm, through npx) and wrk -t1 with the same 8 connections and duration; " +
          "nginx serves a 1 KiB static file from one worker.",
          "redis-benchmark -t ping runs PING_INLINE and PING_MBULK; the MBULK figure (a RESP " +
          "array, as wiretest sends) is compared.",
          "UDP: open model at 20,000/s, timeoutMs 2000 (a lost ping holds its VU that long, so " +
          "up to 3,000 VUs, 1,000 opened before the clock), a Node.js peer " +
          "(tests/data/load/udp_drop_every.mjs) dropping every 100th datagram it receives; exact " +
          "means wiretest's no-reply count equals the peer's drops and its iterations the peer's " +
          "receipts. The Python peer used before (udp_drop_every.py) fell further behind on this " +
          "loaded machine (15,407/s achieved against the Node peer's 19,481/s, one pair).",
          "Cost: the CLI and its plugin process sampled from /proc every 250 ms (CPU of the " +
          "last 250 ms may be missed); the open model at 10,000 requests/s on nginx.",
        ],
      };
    } finally {
      await nginx.stop();
      await redis.stop();
    }
  },
};

export default row;
