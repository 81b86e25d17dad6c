// TCP echo, 1 GiB each way in 64 KiB chunks: wiretest's echo server and
// client (the CLI, two processes) against a Node `net` pair, a Python
// asyncio pair and `iperf3 --bidir` (per direction, the loopback limit).
// Every client verifies the echo and times connect to last byte itself.
import { alternate, type Side } from "../_alternate.ts";
import { lastJson, type Proc, wholeJson } from "../_process.ts";
import type { BenchRow, RowContext, RowReport } from "../_row.ts";
import { cli, serve, type Served } from "../_wiretest.ts";
import { freePort, waitForListen } from "../../tests/_support/peer.ts";

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;

function sizes(ctx: RowContext) {
  return ctx.mode === "quick"
    ? { bytes: 4 * MIB, warmUp: 1 * MIB }
    : { bytes: 1024 * MIB, warmUp: 64 * MIB };
}

const row: BenchRow = {
  id: "tcp-echo",
  title: "TCP echo, 1 GiB each way, 64 KiB chunks",
  order: 10,
  programs: ["node", "python3", "iperf3"],
  async run(ctx: RowContext): Promise<RowReport> {
    const { bytes, warmUp } = sizes(ctx);
    const size = (warm: boolean) => String(warm ? warmUp : bytes);
    // Every byte came back, and every byte was the one sent.
    const checked = (r: Record<string, unknown>, who: string, warm: boolean) => {
      if (r.mismatches !== 0 || Number(r.bytes) !== Number(size(warm))) {
        throw new Error(`Cannot use ${who}'s sample: echo not verified: ${JSON.stringify(r)}`);
      }
      return { mib_s: Number(r.mib_s) };
    };

    let wiretest: Served | undefined;
    let node: Proc | undefined;
    let nodePort = 0;
    let python: Proc | undefined;
    let pythonPort = 0;
    let iperf: Proc | undefined;
    let iperfPort = 0;
    const peers = `${ctx.root}/bench/peers`;

    const sides: Side[] = [
      {
        id: "wiretest",
        label: "wiretest echo server + client (CLI)",
        async start() {
          wiretest = await serve(ctx.procs, ctx.root, "echo", ["--idle-timeout-ms", "0"]);
        },
        async sample(warm) {
          const [cmd, args] = cli(ctx.root, [
            "echo",
            `${wiretest!.host}:${wiretest!.port}`,
            "--payload-size",
            size(warm),
            "--chunk-size",
            String(CHUNK),
            "--timeout-ms",
            "600000",
            "--json",
          ]);
          const out = wholeJson((await ctx.procs.run(cmd, args, { cwd: ctx.root })).stdout);
          const m = out.metrics as Record<string, number>;
          if (out.ok !== true) {
            throw new Error(`wiretest echo failed: ${JSON.stringify(out.error)}`);
          }
          return checked(
            {
              mismatches: m.mismatches,
              bytes: m.bytes_received,
              mib_s: m.throughput_mib_s,
            },
            "wiretest",
            warm,
          );
        },
        stop: async () => void await wiretest?.proc.stop(),
      },
      {
        id: "node",
        label: "Node net echo pair",
        programs: ["node"],
        async start() {
          node = ctx.procs.spawn("node", [`${peers}/node_echo_server.mjs`, "0"]);
          nodePort = Number((await node.waitFor(/"port":(\d+)/))[1]);
        },
        async sample(warm) {
          const out = await ctx.procs.run("node", [
            `${peers}/node_echo_client.mjs`,
            String(nodePort),
            size(warm),
            String(CHUNK),
          ]);
          return checked(lastJson(out.stdout), "node", warm);
        },
        stop: async () => void await node?.stop(),
      },
      {
        id: "python",
        label: "Python asyncio echo pair",
        programs: ["python3"],
        async start() {
          python = ctx.procs.spawn("python3", [`${peers}/python_echo_server.py`, "0"]);
          pythonPort = Number((await python.waitFor(/"port": (\d+)/))[1]);
        },
        async sample(warm) {
          const out = await ctx.procs.run("python3", [
            `${peers}/python_echo_client.py`,
            String(pythonPort),
            size(warm),
            String(CHUNK),
          ]);
          return checked(lastJson(out.stdout), "python", warm);
        },
        stop: async () => void await python?.stop(),
      },
      {
        id: "iperf3",
        label: "iperf3 --bidir (per direction)",
        programs: ["iperf3"],
        async start() {
          iperfPort = freePort();
          iperf = ctx.procs.spawn("iperf3", ["-s", "-B", "127.0.0.1", "-p", String(iperfPort)]);
          // iperf3 counts a probe connection as a failed test: look, do not touch.
          await waitForListen(iperfPort, 10_000);
        },
        async sample(warm) {
          const out = await ctx.procs.run("iperf3", [
            "-c",
            "127.0.0.1",
            "-p",
            String(iperfPort),
            "--bidir",
            "-n",
            size(warm),
            "-l",
            String(CHUNK),
            "-J",
          ]);
          const end = (wholeJson(out.stdout).end ?? {}) as Record<string, Record<string, number>>;
          const rate = (s: Record<string, number> | undefined) =>
            s ? s.bytes / s.seconds / MIB : NaN;
          const up = rate(end.sum_received);
          const down = rate(end.sum_received_bidir_reverse);
          return { mib_s: (up + down) / 2, up_mib_s: up, down_mib_s: down };
        },
        stop: async () => void await iperf?.stop(),
      },
    ];

    const metrics = [
      { key: "mib_s", label: "throughput", unit: "MiB/s", better: "higher" as const },
      { key: "up_mib_s", label: "client→server", unit: "MiB/s", better: "higher" as const },
      { key: "down_mib_s", label: "server→client", unit: "MiB/s", better: "higher" as const },
    ];
    const result = await alternate(ctx, sides, metrics, [
      {
        label: "wiretest / Node",
        metric: "mib_s",
        a: "wiretest",
        b: "node",
        target: { op: ">=", value: 1.5, text: "≥ 1.5× Node" },
      },
      {
        label: "wiretest / Python",
        metric: "mib_s",
        a: "wiretest",
        b: "python",
        target: { op: ">=", value: 2.5, text: "≥ 2.5× Python" },
      },
      {
        label: "wiretest / iperf3 per direction",
        metric: "mib_s",
        a: "wiretest",
        b: "iperf3",
        target: { op: ">=", value: 0.5, text: "≥ 0.5× iperf3 per direction" },
      },
    ]);
    return {
      params: { bytes_each_way: bytes, chunk_bytes: CHUNK, warm_up_bytes: warmUp },
      metrics,
      ...result,
      checks: [],
      notes: [
        "Throughput is bytes echoed back per second, timed by each client from just before " +
        "connecting to the last byte of the echo (iperf3: its receivers' own reports, the mean " +
        "of the two directions).",
        "Every client compares the echo with what it sent (wiretest byte by byte in native " +
        "compares, Node Buffer.equals, Python bytes comparison).",
      ],
    };
  },
};

export default row;
