// probe_ip_addr_hash and probe_ip_protocol after a redirect to another
// host, side by side with Debian's blackbox_exporter: blackbox hashes the
// address the target's own name resolved to, before any redirect, and so
// does wiretest (the first hop's server), whether the last hop answered or
// was refused.
import assert from "node:assert/strict";
import { freePort, ignoreWithout, spawnPeer, waitForTcp } from "../_support/peer.ts";
import { get, samples, testExporter } from "./_exporter.ts";
import { startBlackbox } from "./_peers.ts";

// Answers every request with a redirect to argv[3], or with 200 without it.
const PEER = String.raw`
import socket, sys, threading
answer = (b"HTTP/1.1 302 Found\r\nLocation: " + sys.argv[3].encode() + b"\r\nContent-Length: 0\r\n\r\n"
  if len(sys.argv) > 3 else b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
def serve(c):
  try:
    data = b""
    while b"\r\n\r\n" not in data:
      d = c.recv(4096)
      if not d: return
      data += d
    c.sendall(answer)
  finally:
    c.close()
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
while True:
  c, _ = s.accept()
  threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

Deno.test({
  name:
    "exporter side by side with blackbox_exporter: after a redirect to another host, the IP metrics are the target's own",
  ignore: ignoreWithout("python3", "prometheus-blackbox-exporter"),
}, async () => {
  const there = freePort();
  const refused = freePort();
  const toThere = freePort();
  const toRefused = freePort();
  await using _there = spawnPeer("python3", ["-c", PEER, "127.0.0.2", String(there)]);
  await using _a = spawnPeer("python3", [
    "-c",
    PEER,
    "127.0.0.1",
    String(toThere),
    `http://127.0.0.2:${there}/`,
  ]);
  await using _b = spawnPeer("python3", [
    "-c",
    PEER,
    "127.0.0.1",
    String(toRefused),
    `http://127.0.0.2:${refused}/`,
  ]);
  await waitForTcp(there, undefined, "127.0.0.2");
  await waitForTcp(toThere);
  await waitForTcp(toRefused);
  await using blackbox = await startBlackbox(`modules:
  follow:
    prober: http
    timeout: 5s
    http: { preferred_ip_protocol: ip4 }
`);
  await using wiretest = await testExporter(`modules:
  follow:
    plugin: http-probe
    timeout: 5s
    with: { followRedirects: true }
`);
  for (
    const [port, success] of [[toThere, 1], [toRefused, 0]] as const
  ) {
    // By name: both look "localhost" up (127.0.0.1), then follow to 127.0.0.2.
    // IPv4-mapped, the address is IPv4 to Go (To4()): protocol 4, its hash.
    for (
      const target of [
        `http://127.0.0.1:${port}/`,
        `http://localhost:${port}/`,
        `http://[::ffff:127.0.0.1]:${port}/`,
      ]
    ) {
      const probe = async (base: string) => {
        const answer = await get(
          `${base}/probe?module=follow&target=${encodeURIComponent(target)}`,
        );
        assert.equal(answer.status, 200, answer.text);
        return samples(answer.text);
      };
      const b = await probe(blackbox.base);
      const w = await probe(wiretest.base);
      for (const name of ["probe_success", "probe_ip_protocol", "probe_ip_addr_hash"]) {
        assert.equal(w.get(name), b.get(name), `${target}: ${name}`);
      }
      assert.equal(b.get("probe_success"), success, target);
      // 127.0.0.1's FNV-1a hash, not 127.0.0.2's (3618585652).
      assert.equal(w.get("probe_ip_addr_hash"), 3668918509, target);
    }
  }
});
