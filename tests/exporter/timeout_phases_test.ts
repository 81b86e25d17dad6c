// A probe that times out reports the phases it finished, as blackbox_exporter
// does (prober/http.go adds connect once it has the connection, processing
// once the response started): a Python server that accepts (and, for https,
// completes the handshake) and never answers.
import assert from "node:assert/strict";
import { freePort, ignoreWithout, spawnPeer, waitForListen } from "../_support/peer.ts";
import { makeCertificates } from "../_support/certs.ts";
import { get, samples, testExporter } from "./_exporter.ts";

const CONFIG = `modules:
  http:
    plugin: http-probe
  https:
    plugin: http-probe
    with: { insecure: true }
`;

// argv: port, then cert and key files for TLS. Holds every connection open.
const SILENT = `
import socket, ssl, sys, time
port = int(sys.argv[1])
context = None
if len(sys.argv) > 2:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(16)
server.settimeout(1)
held = []
end = time.time() + 60
while time.time() < end:
    try:
        conn, _ = server.accept()
    except socket.timeout:
        continue
    if context:
        conn.settimeout(5)
        try:
            conn = context.wrap_socket(conn, server_side=True)
        except Exception:
            continue
    held.append(conn)
`;

function phases(text: string): Record<string, number> {
  const values = samples(text);
  const out: Record<string, number> = {};
  for (const phase of ["resolve", "connect", "tls", "processing", "transfer"]) {
    const value = values.get(`probe_http_duration_seconds{phase="${phase}"}`);
    assert.ok(value !== undefined, `no ${phase} phase in:\n${text}`);
    out[phase] = value;
  }
  return out;
}

Deno.test({
  name: "exporter: a probe that times out reports the connect (and TLS) it finished",
  ignore: ignoreWithout("python3", "openssl"),
  async fn(t) {
    await using ex = await testExporter(CONFIG);
    await using certs = await makeCertificates();
    await t.step("http: connected, never answered", async () => {
      const port = freePort();
      await using _peer = spawnPeer("python3", ["-c", SILENT, String(port)]);
      await waitForListen(port);
      const answer = await get(
        `${ex.base}/probe?module=http&target=http://127.0.0.1:${port}/`,
        { "X-Prometheus-Scrape-Timeout-Seconds": "1.5" },
      );
      const values = samples(answer.text);
      assert.equal(values.get("probe_success"), 0, answer.text);
      const p = phases(answer.text);
      assert.ok(p.connect > 0, `connect ${p.connect}`);
      assert.deepEqual([p.resolve, p.tls, p.processing, p.transfer], [0, 0, 0, 0]);
    });
    await t.step("https: handshake done, never answered", async () => {
      const port = freePort();
      await using _peer = spawnPeer("python3", [
        "-c",
        SILENT,
        String(port),
        certs.certFile,
        certs.keyFile,
      ]);
      await waitForListen(port);
      const answer = await get(
        `${ex.base}/probe?module=https&target=https://127.0.0.1:${port}/`,
        { "X-Prometheus-Scrape-Timeout-Seconds": "1.5" },
      );
      const values = samples(answer.text);
      assert.equal(values.get("probe_success"), 0, answer.text);
      const p = phases(answer.text);
      assert.ok(p.connect > 0, `connect ${p.connect}`);
      assert.ok(p.tls > 0, `tls ${p.tls}`);
      assert.deepEqual([p.resolve, p.processing, p.transfer], [0, 0, 0]);
    });
  },
});
