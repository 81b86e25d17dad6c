// A UDP proxy flooded with sources: every new (address, port) that sends one
// datagram opens a flow, a socket of its own, for udpFlowIdleMs (60 s). A
// Python sender that opens a fresh socket per datagram made one flow and one
// descriptor each, with no cap (the TCP relay's maxConnections did not apply),
// until the process ran out of descriptors. maxConnections caps flows too:
// datagrams from new sources beyond it are dropped and counted in
// `rejected`, and the flows already open keep working.
import assert from "node:assert/strict";
import { formatAddress } from "../../lib/transport/address.ts";
import { bindUdp, libcUdpRefusal } from "../../lib/transport/unstable_udp.ts";
import type { Service } from "../../lib/plugin/types.ts";
import { runProxyClient, startProxyServer } from "../../plugins/proxy/mod.ts";
import { outputWithin } from "../_support/command.ts";
import { pythonUdpEcho } from "../_support/peer.ts";

const LOOPBACK = [{ hostname: "127.0.0.1", port: 0 }];

// One datagram from each of `count` fresh sockets (a new source port each).
const FLOOD = `
import socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"flood", ("127.0.0.1", port))
    s.close()
print("sent", count)
`;

for (const io of ["deno", "libc"] as const) {
  Deno.test({
    name:
      `proxy (UDP, ${io} sockets): a flood of new sources is capped by maxConnections; open flows keep working`,
    ignore: io === "libc" && libcUdpRefusal(LOOPBACK) !== undefined,
    async fn() {
      await using echo = await pythonUdpEcho();
      const service: Service = await startProxyServer({
        seed: 3,
        io,
        protocol: "udp",
        upstream: `127.0.0.1:${echo.port}`,
        maxConnections: 40,
      });
      try {
        const api = formatAddress(service.address);
        const step = await runProxyClient({ api });
        assert.equal(step.ok, true, step.error?.message);
        const port = Number(String(step.facts.listen).split(":")[1]);
        const target = { hostname: "127.0.0.1", port };
        // A client whose flow is open before the flood.
        using client = bindUdp();
        await client.send(new Uint8Array([7]), target);
        assert.deepEqual((await client.receive({ timeout: 5000 })).data, new Uint8Array([7]));

        const out = await outputWithin("python3", {
          args: ["-c", FLOOD, String(port), "400"],
        }, 60_000);
        assert.equal(out.code, 0, out.stderr);
        // Let the relay take in what is queued, then the client's flow still works.
        await new Promise((r) => setTimeout(r, 500));
        await client.send(new Uint8Array([8]), target);
        let back: Uint8Array | undefined;
        for (let i = 0; i < 20 && back?.[0] !== 8; i++) {
          back = (await client.receive({ timeout: 5000 })).data;
        }
        assert.deepEqual(back, new Uint8Array([8]));

        const c = (await runProxyClient({ api })).metrics;
        assert.equal(c.active, 40, JSON.stringify(c));
        assert.equal(c.flows, 40, JSON.stringify(c));
        // Some of the flood may be lost in the kernel's buffer before the relay reads it.
        assert.ok(c.rejected > 0 && c.flows + c.rejected <= 401, JSON.stringify(c));
        assert.equal(c.errors, 0, JSON.stringify(c));
      } finally {
        await service.close();
      }
    },
  });
}
