// UDP ping, 20,000 round trips of 64 bytes after a warm-up, one outstanding
// at a time: median and p99 RTT of wiretest's client and server against
// sockperf ping-pong, a Node dgram pair, and (same wiretest client) the
// seeds' Python echo server and Node's dgram server. A minimal Deno pair
// shows the runtime's own floor, to tell wiretest's cost from Deno's.
import { alternate, type Side } from "../_alternate.ts";
import { lastJson, type Proc } from "../_process.ts";
import type { BenchRow, RowContext, RowReport } from "../_row.ts";
import { cli, denoScript, serve, type Served } from "../_wiretest.ts";
import { freePort } from "../../tests/_support/peer.ts";

const SIZE = 64;
// The minimal Deno peers use Deno.listenDatagram, still behind a flag.
const UNSTABLE = ["--unstable-net"];

function counts(ctx: RowContext) {
  return ctx.mode === "quick"
    // sockperf runs for a time: 1 s logged no round trip at all on a loaded
    // machine (the smoke test's side measured nothing).
    ? { count: 300, warmUp: 100, sockperfSeconds: 3 }
    : { count: 20_000, warmUp: 2_000, sockperfSeconds: 3 };
}

/** Nearest-rank percentile of sorted values, as the Node client computes it. */
function nearestRank(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)))];
}

const row: BenchRow = {
  id: "udp-ping",
  title: "UDP ping, 20,000 × 64 B round trips",
  order: 20,
  programs: ["sockperf", "python3", "node"],
  async run(ctx: RowContext): Promise<RowReport> {
    const { count, warmUp, sockperfSeconds } = counts(ctx);
    const peers = `${ctx.root}/bench/peers`;
    let wiretest: Served | undefined;
    let wiretestDeno: Served | undefined;
    let wiretestCli: Served | undefined;
    let sockperf: Proc | undefined;
    let sockperfPort = 0;
    let sockperfShort = 0;
    let python: Proc | undefined;
    let pythonPort = 0;
    let node: Proc | undefined;
    let nodePort = 0;
    let deno: Proc | undefined;
    let denoPort = 0;

    const wiretestClient = (port: () => number, io: "libc" | "deno") => async (warm: boolean) => {
      const [cmd, args] = denoScript(ctx.root, "wiretest_udp_ping.ts", [
        `127.0.0.1:${port()}`,
        String(warm ? warmUp : count),
        String(warmUp),
        String(SIZE),
        io,
      ]);
      return rtts(lastJson((await ctx.procs.run(cmd, args, { cwd: ctx.root })).stdout));
    };
    const rtts = (r: Record<string, unknown>) => {
      if (Number(r.lost) > 0) ctx.log(`  (${r.lost} pings lost)`);
      return { p50_ms: Number(r.p50_ms), p99_ms: Number(r.p99_ms), received: Number(r.received) };
    };

    // `wiretest ping` as users run it: isolated, io auto, its default warm-up (5 pings).
    const cliClient = async (warm: boolean) => {
      const [cmd, args] = cli(ctx.root, [
        "ping",
        `127.0.0.1:${wiretestCli!.port}`,
        "--count",
        String(warm ? warmUp : count),
        "--interval-ms",
        "0",
        "--size",
        String(SIZE),
        "--json",
      ]);
      const outcome = JSON.parse((await ctx.procs.run(cmd, args, { cwd: ctx.root })).stdout) as {
        metrics: Record<string, number>;
        facts: Record<string, unknown>;
      };
      if (outcome.facts.io !== "libc") {
        ctx.log(`  (wiretest ping measured with io ${outcome.facts.io})`);
      }
      return rtts({
        p50_ms: outcome.metrics.rtt_p50_ms,
        p99_ms: outcome.metrics.rtt_p99_ms,
        received: outcome.metrics.received,
        lost: outcome.metrics.lost,
      });
    };

    const sides: Side[] = [
      {
        id: "wiretest-cli",
        label: "wiretest CLI pair, isolated (serve udp-ping + ping, defaults)",
        async start() {
          wiretestCli = await serve(ctx.procs, ctx.root, "udp-ping", []);
        },
        sample: cliClient,
        stop: async () => void await wiretestCli?.proc.stop(),
      },
      {
        id: "wiretest",
        label: "wiretest pair, libc I/O (FFI)",
        async start() {
          // FFI is granted to the process, so the server runs in it (--no-isolation).
          wiretest = await serve(ctx.procs, ctx.root, "udp-ping", [
            "--no-isolation",
            "--io",
            "libc",
          ]);
        },
        sample: wiretestClient(() => wiretest!.port, "libc"),
        stop: async () => void await wiretest?.proc.stop(),
      },
      {
        id: "wiretest-deno",
        label: "wiretest pair, Deno sockets (isolated server)",
        async start() {
          wiretestDeno = await serve(ctx.procs, ctx.root, "udp-ping", ["--io", "deno"]);
        },
        sample: wiretestClient(() => wiretestDeno!.port, "deno"),
        stop: async () => void await wiretestDeno?.proc.stop(),
      },
      {
        id: "sockperf",
        label: "sockperf ping-pong pair",
        programs: ["sockperf"],
        async start() {
          sockperfPort = freePort("udp");
          sockperf = ctx.procs.spawn("sockperf", [
            "server",
            "-i",
            "127.0.0.1",
            "-p",
            String(sockperfPort),
          ]);
          await sockperf.waitFor(/to block on socket/);
        },
        async sample(warm) {
          const log = `${ctx.tmp}/sockperf.csv`;
          await ctx.procs.run("sockperf", [
            "ping-pong",
            "-i",
            "127.0.0.1",
            "-p",
            String(sockperfPort),
            "-m",
            String(SIZE),
            "-t",
            String(warm ? 1 : sockperfSeconds),
            "--full-rtt",
            "--full-log",
            log,
          ]);
          // sockperf runs for a time, not a count: take the first `count`
          // round trips it logged after its own warm-up.
          const values: number[] = [];
          for (const line of (await Deno.readTextFile(log)).split("\n")) {
            const m = line.match(/^\d+,\s*[\d.]+,\s*[\d.]+,\s*([\d.]+)$/);
            if (m) values.push(Number(m[1]) / 1000);
            if (values.length === count) break;
          }
          if (!warm && values.length < count) {
            sockperfShort = Math.max(sockperfShort, values.length);
          }
          const sorted = Float64Array.from(values).sort();
          return {
            p50_ms: nearestRank(sorted, 50),
            p99_ms: nearestRank(sorted, 99),
            received: values.length,
          };
        },
        stop: async () => void await sockperf?.stop(),
        extra: () => sockperfShort ? { fewer_round_trips_than_count: sockperfShort } : {},
      },
      {
        id: "wiretest-python",
        label: "wiretest client (libc) → Python echo server (seeds)",
        programs: ["python3"],
        async start() {
          python = ctx.procs.spawn("python3", [`${peers}/python_udp_echo_server.py`, "0"]);
          pythonPort = Number((await python.waitFor(/"port": (\d+)/))[1]);
        },
        sample: wiretestClient(() => pythonPort, "libc"),
        stop: async () => void await python?.stop(),
      },
      {
        id: "node",
        label: "Node dgram pair",
        programs: ["node"],
        async start() {
          node = ctx.procs.spawn("node", [`${peers}/node_udp_echo_server.mjs`, "0"]);
          nodePort = Number((await node.waitFor(/"port":(\d+)/))[1]);
        },
        async sample(warm) {
          const out = await ctx.procs.run("node", [
            `${peers}/node_udp_ping_client.mjs`,
            String(nodePort),
            String(warm ? warmUp : count),
            String(warmUp),
            String(SIZE),
          ]);
          return rtts(lastJson(out.stdout));
        },
        stop: async () => void await node?.stop(),
      },
      {
        id: "deno",
        label: "Deno minimal pair (runtime floor)",
        async start() {
          const [cmd, args] = denoScript(ctx.root, "deno_udp_echo_server.ts", ["0"], UNSTABLE);
          deno = ctx.procs.spawn(cmd, args, { cwd: ctx.root });
          denoPort = Number((await deno.waitFor(/"port":(\d+)/))[1]);
        },
        async sample(warm) {
          const [cmd, args] = denoScript(ctx.root, "deno_udp_ping_client.ts", [
            String(denoPort),
            String(warm ? warmUp : count),
            String(warmUp),
            String(SIZE),
          ], UNSTABLE);
          // It has no timeout of its own (a lost ping would wait forever): bound it here.
          const out = await ctx.procs.run(cmd, args, { cwd: ctx.root, timeoutMs: 120_000 });
          return rtts(lastJson(out.stdout));
        },
        stop: async () => void await deno?.stop(),
      },
      {
        id: "wiretest-node",
        label: "wiretest client (libc) → Node dgram server",
        programs: ["node"],
        // Shares the Node server started by the Node pair.
        sample: wiretestClient(() => nodePort, "libc"),
      },
    ];
    const metrics = [
      { key: "p50_ms", label: "median RTT", unit: "ms", better: "lower" as const },
      { key: "p99_ms", label: "p99 RTT", unit: "ms", better: "lower" as const },
    ];
    const result = await alternate(ctx, sides, metrics, [
      {
        label: "median: wiretest pair (libc) / sockperf pair",
        metric: "p50_ms",
        a: "wiretest",
        b: "sockperf",
        target: { op: "<=", value: 1.2, text: "median ≤ 1.2× sockperf" },
      },
      {
        label: "p99: wiretest pair (libc) / sockperf pair",
        metric: "p99_ms",
        a: "wiretest",
        b: "sockperf",
        target: { op: "<=", value: 1.5, text: "p99 ≤ 1.5× sockperf" },
      },
      {
        label: "median: wiretest CLI pair, isolated / sockperf pair",
        metric: "p50_ms",
        a: "wiretest-cli",
        b: "sockperf",
        target: { op: "<=", value: 1.2, text: "median ≤ 1.2× sockperf" },
      },
      {
        label: "p99: wiretest CLI pair, isolated / sockperf pair",
        metric: "p99_ms",
        a: "wiretest-cli",
        b: "sockperf",
        target: { op: "<=", value: 1.5, text: "p99 ≤ 1.5× sockperf" },
      },
      {
        label: "median: wiretest client (libc) / Node client, both → Node server",
        metric: "p50_ms",
        a: "wiretest-node",
        b: "node",
        target: { op: "<=", value: 1, text: "no slower than Node's own client" },
      },
      {
        label: "median: wiretest pair, Deno sockets / sockperf pair",
        metric: "p50_ms",
        a: "wiretest-deno",
        b: "sockperf",
      },
      {
        label: "median: wiretest pair / Node pair",
        metric: "p50_ms",
        a: "wiretest",
        b: "node",
      },
      {
        label: "median: wiretest pair / Deno minimal pair",
        metric: "p50_ms",
        a: "wiretest",
        b: "deno",
      },
      {
        label: "median: Deno minimal pair / sockperf pair",
        metric: "p50_ms",
        a: "deno",
        b: "sockperf",
      },
      {
        label: "median: Node pair / sockperf pair",
        metric: "p50_ms",
        a: "node",
        b: "sockperf",
      },
      {
        label: "median: wiretest server / Python server (wiretest client)",
        metric: "p50_ms",
        a: "wiretest",
        b: "wiretest-python",
      },
    ]);
    return {
      params: { count, warm_up: warmUp, size_bytes: SIZE, sockperf_seconds: sockperfSeconds },
      metrics,
      ...result,
      checks: [],
      notes: [
        "One ping outstanding at a time (wiretest flood mode, intervalMs 0); each client times " +
        "its own round trips (wiretest: HdrHistogram percentiles; Node and sockperf: exact " +
        "nearest-rank over the same count).",
        "sockperf runs for a duration, not a count: its first round trips after its own warm-up " +
        "are taken, as many as the others do.",
        "wiretest's libc pair is `wiretest serve udp-ping --no-isolation --io libc` and the " +
        "client role with io libc (kernel SO_TIMESTAMPNS arrival times); the Deno-sockets pair " +
        "is `wiretest serve udp-ping --io deno` (isolated, the CLI's default) and the client with " +
        "io deno. Clients run in-process by bench/peers/wiretest_udp_ping.ts, which warms up " +
        "before measuring. The Deno minimal pair is Deno.listenDatagram and nothing else.",
        "The CLI pair is `wiretest serve udp-ping` and `wiretest ping --interval-ms 0 --size 64` " +
        "with their defaults: isolated (a plugin process each, granted FFI for libc alone), io " +
        "auto (libc), its default warm-up (5 untimed pings, fact warm_up) and the bench's own " +
        "warm-up run; each sample is a new `wiretest ping` process.",
      ],
    };
  },
};

export default row;
