// The HTTPS responder against clients that start a TLS handshake and never
// finish it (a partial ClientHello from Python's raw sockets, then silence):
// the handshake is part of the first request head, so headersTimeoutMs bounds
// it even with the idle timeout off; without that, such clients held their
// slots under maxConnections for ever. Deno's TLS server (the default) keeps
// the socket of a connection closed mid-handshake open until the client
// leaves (README, "Limits and defaults", Transports); the node:tls server
// (tlsServer "node") frees it at once: /proc/self/fd is counted for both.
import assert from "node:assert/strict";
import { outputWithin, within } from "../_support/command.ts";
import { makeCertificates } from "../_support/certs.ts";
import { createContext } from "../../lib/plugin/context.ts";
import { validateParams } from "../../lib/plugin/params_schema.ts";
import { httpServerParams } from "../../plugins/http_probe/params.ts";
import { serveHttp } from "../../plugins/http_probe/server.ts";

// Sends the first 10 bytes of a ClientHello whose record says 512 follow,
// holds the connections `hold` s, then closes them.
const HALF_HANDSHAKE = `
import socket, sys, time
port, count, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03")
    socks.append(s)
print("READY", flush=True)
time.sleep(hold)
`;

function openFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

for (const tlsServer of ["deno", "node"] as const) {
  Deno.test(`https responder (tlsServer ${tlsServer}): a TLS handshake that never finishes is closed by headersTimeoutMs, idle timeout off`, async () => {
    await using certs = await makeCertificates();
    using ctx = createContext();
    const clients = 40;
    const service = await serveHttp(
      validateParams(httpServerParams, {
        certFile: certs.certFile,
        keyFile: certs.keyFile,
        headersTimeoutMs: 500,
        idleTimeoutMs: 0,
        maxConnections: clients,
        tlsServer,
      }),
      ctx,
    );
    try {
      const port = (service.address as Deno.NetAddr).port;
      const before = openFds();
      // The half handshakes fill the cap; held 6 s, twelve times 500 ms.
      const out = outputWithin("python3", {
        args: ["-c", HALF_HANDSHAKE, String(port), String(clients), "6"],
      }, 30_000);
      // While the clients still hold: every connection timed out, and (node)
      // its descriptor is gone. Bounded wait, ended by the last timeout well
      // inside the hold (up to 20 s from the spawn: a loaded machine may
      // take seconds to start Python, whose hold starts once it connected).
      for (let i = 0; i < 400 && service.stats().headers_timeouts < clients; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      for (let i = 0; i < 20 && openFds() > before + 10; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const extra = openFds() - before;
      const done = await out;
      assert.equal(done.code, 0, done.stderr);
      assert.equal(done.stdout.trim(), "READY");
      const stats = service.stats();
      assert.equal(stats.headers_timeouts, clients);
      assert.equal(stats.active, 0);
      if (tlsServer === "node") {
        assert.ok(extra <= 10, `${extra} descriptors open while the closed clients hold`);
      } else {
        // Deno.listenTls keeps them (README, Limits and defaults, Transports).
        assert.ok(extra >= clients / 2, `only ${extra} descriptors kept: update the README`);
      }
    } finally {
      await within(service.close(), 20_000, "the responder to close");
    }
  });
}
