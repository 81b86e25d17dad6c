// The HTTPS responder against clients that start a TLS handshake and never
// finish it (a partial ClientHello from Python's raw sockets, then silence):
// the handshake is part of the first request head, so headersTimeoutMs bounds
// it even with the idle timeout off; without that, such clients held their
// slots under maxConnections for ever. (Deno's TLS server keeps the socket of
// a connection closed mid-handshake open until the client leaves: README,
// "Limits and defaults", says so; the responder's own slot and counters are
// what this checks.)
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

Deno.test("https responder: a TLS handshake that never finishes is closed by headersTimeoutMs, idle timeout off", async () => {
  await using certs = await makeCertificates();
  using ctx = createContext();
  const service = await serveHttp(
    validateParams(httpServerParams, {
      certFile: certs.certFile,
      keyFile: certs.keyFile,
      headersTimeoutMs: 500,
      idleTimeoutMs: 0,
      maxConnections: 3,
    }),
    ctx,
  );
  try {
    const port = (service.address as Deno.NetAddr).port;
    // Three half handshakes fill the cap; held 5 s, ten times 500 ms.
    const out = await outputWithin("python3", {
      args: ["-c", HALF_HANDSHAKE, String(port), "3", "5"],
    }, 30_000);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), "READY");
    const stats = service.stats();
    assert.equal(stats.headers_timeouts, 3);
    assert.equal(stats.active, 0);
  } finally {
    await within(service.close(), 20_000, "the responder to close");
  }
});
