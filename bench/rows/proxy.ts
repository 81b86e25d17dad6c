// Fault-injection proxy with no toxics, against a socat relay measured in
// the same run: the round-trip time each adds over a direct connection
// (TCP, 64 B ping-pong; UDP, 64 B pings), and TCP echo throughput through
// each. The client and the upstream are the same Node peers for every side.
import { alternate, type Side } from "../_alternate.ts";
import { lastJson, type Proc } from "../_process.ts";
import type { BenchRow, RowContext, RowReport } from "../_row.ts";
import { cli } from "../_wiretest.ts";
import { freePort, waitForListen } from "../../tests/_support/peer.ts";

const MIB = 1024 * 1024;
const SIZE = 64;

function counts(ctx: RowContext) {
  return ctx.mode === "quick"
    ? { count: 500, warmUp: 100, bytes: 8 * MIB }
    : { count: 10_000, warmUp: 1_000, bytes: 256 * MIB };
}

const row: BenchRow = {
  id: "proxy",
  title: "Proxy without toxics: added RTT and throughput, against a socat relay",
  order: 60,
  programs: ["node", "socat"],
  async run(ctx: RowContext): Promise<RowReport> {
    const { count, warmUp, bytes } = counts(ctx);
    const peers = `${ctx.root}/bench/peers`;
    const started: Proc[] = [];
    const spawnPort = async (cmd: string, args: string[], pattern: RegExp) => {
      const proc = ctx.procs.spawn(cmd, args, { cwd: ctx.root });
      started.push(proc);
      return Number((await proc.waitFor(pattern, 30_000))[1]);
    };
    // The upstreams: Node's TCP echo and UDP echo.
    const tcpEcho = await spawnPort("node", [`${peers}/node_echo_server.mjs`, "0"], /"port":(\d+)/);
    const udpEcho = await spawnPort(
      "node",
      [`${peers}/node_udp_echo_server.mjs`, "0"],
      /"port":(\d+)/,
    );

    // The median round trip of a Node client (TCP or UDP) to `port`.
    const rtt = async (client: string, port: number, warm: boolean) => {
      const out = await ctx.procs.run("node", [
        `${peers}/${client}`,
        String(port),
        String(warm ? warmUp : count),
        String(warmUp),
        String(SIZE),
      ], { timeoutMs: 120_000 });
      return Number(lastJson(out.stdout).p50_ms);
    };
    const tcpRtt = (port: number, warm: boolean) => rtt("node_tcp_rtt_client.mjs", port, warm);
    const udpRtt = (port: number, warm: boolean) => rtt("node_udp_ping_client.mjs", port, warm);
    const throughput = async (port: number, warm: boolean) => {
      const out = await ctx.procs.run("node", [
        `${peers}/node_echo_client.mjs`,
        String(port),
        String(warm ? bytes / 8 : bytes),
        String(64 * 1024),
      ], { timeoutMs: 300_000 });
      const r = lastJson(out.stdout);
      if (r.mismatches !== 0) throw new Error(`Cannot use the sample: ${JSON.stringify(r)}`);
      return Number(r.mib_s);
    };
    // One sample: the path's RTTs minus the direct ones measured just before.
    const sample = (tcp: () => number, udp: () => number) => async (warm: boolean) => {
      const tcpDirect = await tcpRtt(tcpEcho, warm);
      const tcpPath = await tcpRtt(tcp(), warm);
      const udpDirect = await udpRtt(udpEcho, warm);
      const udpPath = await udpRtt(udp(), warm);
      return {
        tcp_added_us: Math.max(0, tcpPath - tcpDirect) * 1000,
        udp_added_us: Math.max(0, udpPath - udpDirect) * 1000,
        tcp_p50_us: tcpPath * 1000,
        mib_s: await throughput(tcp(), warm),
      };
    };

    let wiretestTcp = 0;
    let wiretestUdp = 0;
    let socatTcp = 0;
    let socatUdp = 0;
    const sides: Side[] = [
      {
        id: "wiretest",
        label: "wiretest proxy (no toxics)",
        async start() {
          wiretestTcp = freePort();
          wiretestUdp = freePort("udp");
          const config = `${ctx.tmp}/proxies.json`;
          await Deno.writeTextFile(
            config,
            JSON.stringify([
              { name: "tcp", listen: `127.0.0.1:${wiretestTcp}`, upstream: `127.0.0.1:${tcpEcho}` },
              {
                name: "udp",
                protocol: "udp",
                listen: `127.0.0.1:${wiretestUdp}`,
                upstream: `127.0.0.1:${udpEcho}`,
              },
            ]),
          );
          const [cmd, args] = cli(ctx.root, ["proxy", "--port", "0", "--config", config, "--json"]);
          const proc = ctx.procs.spawn(cmd, args, { cwd: ctx.root });
          started.push(proc);
          await proc.waitFor(/"event":"listening"/, 30_000);
        },
        sample: sample(() => wiretestTcp, () => wiretestUdp),
      },
      {
        id: "socat",
        label: "socat relays (TCP-LISTEN…TCP:, UDP4-LISTEN…UDP4:)",
        programs: ["socat"],
        async start() {
          socatTcp = freePort();
          socatUdp = freePort("udp");
          started.push(ctx.procs.spawn("socat", [
            `TCP-LISTEN:${socatTcp},bind=127.0.0.1,reuseaddr,fork`,
            `TCP:127.0.0.1:${tcpEcho}`,
          ]));
          // -T 1: a child forked per client ends after 1 s of silence; without it the
          // children outlive the parent and hold its output open.
          started.push(ctx.procs.spawn("socat", [
            "-T",
            "1",
            `UDP4-LISTEN:${socatUdp},bind=127.0.0.1,reuseaddr,fork`,
            `UDP4:127.0.0.1:${udpEcho}`,
          ]));
          await waitForListen(socatTcp);
        },
        sample: sample(() => socatTcp, () => socatUdp),
      },
    ];
    const metrics = [
      { key: "tcp_added_us", label: "TCP added p50 RTT", unit: "µs", better: "lower" as const },
      { key: "udp_added_us", label: "UDP added p50 RTT", unit: "µs", better: "lower" as const },
      { key: "tcp_p50_us", label: "TCP p50 RTT through it", unit: "µs", better: "lower" as const },
      { key: "mib_s", label: "TCP echo throughput", unit: "MiB/s", better: "higher" as const },
    ];
    try {
      const result = await alternate(ctx, sides, metrics, [
        {
          label: "TCP added latency: wiretest / socat",
          metric: "tcp_added_us",
          a: "wiretest",
          b: "socat",
          target: { op: "<=", value: 1.5, text: "≤ 1.5× socat's" },
        },
        {
          label: "UDP added latency: wiretest / socat",
          metric: "udp_added_us",
          a: "wiretest",
          b: "socat",
          target: { op: "<=", value: 1.5, text: "≤ 1.5× socat's" },
        },
        {
          label: "TCP throughput: wiretest / socat",
          metric: "mib_s",
          a: "wiretest",
          b: "socat",
          target: { op: ">=", value: 0.8, text: "≥ 0.8× socat's" },
        },
      ]);
      const added = result.sides.find((s) => s.id === "wiretest")?.metrics.tcp_added_us;
      return {
        params: { count, warm_up: warmUp, size_bytes: SIZE, echo_bytes: bytes },
        metrics,
        ...result,
        checks: added
          ? [{
            label: "wiretest proxy added p50 RTT per TCP round trip",
            value: added.spread.median,
            unit: "µs",
            target: { op: "<=", value: 100, text: "≤ 100 µs (toxiproxy's claim)" },
            met: added.spread.median <= 100,
          }]
          : [],
        notes: [
          "Added RTT: the p50 of `count` 64-byte round trips through the relay minus the p50 " +
          "of as many direct ones to the same Node echo server, measured just before, in each " +
          "sample; the same Node clients for every side.",
          "wiretest's proxy is `wiretest proxy --config` (the plugin in its own process, " +
          "isolated as the CLI runs it, with FFI for libc as the built-in manifest grants), " +
          "relaying toxic-free TCP connections and UDP on libc sockets in Workers (a TCP " +
          "connection moves to node:net once its proxy has a toxic).",
        ],
      };
    } finally {
      for (const proc of started) await proc.stop();
    }
  },
};

export default row;
