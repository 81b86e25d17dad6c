// A load run against a peer that names every failure anew: a RESP server
// (Python) answering each command with an error reply of a new kind. The
// error types come from the peer, so their count in the report is bounded.
import assert from "node:assert/strict";
import { deno, MAIN, ROOT } from "../_support/deno_process.ts";
import { freePort, spawnPeer, waitForTcp } from "../_support/peer.ts";

// Answers every RESP command with "-E<n> ..." (n counting up), one thread per connection.
const SERVER = `
import socket, sys, threading
n = [0]
lock = threading.Lock()
def serve(c):
    buf = b""
    with c:
        while True:
            data = c.recv(65536)
            if not data: return
            buf += data
            # One reply per complete command (an array ending its last bulk string).
            while True:
                if not buf.startswith(b"*"): return
                head, sep, rest = buf.partition(b"\\r\\n")
                if not sep: break
                parts = int(head[1:])
                pos, ok = 0, True
                for _ in range(parts):
                    line, sep2, after = rest[pos:].partition(b"\\r\\n")
                    if not sep2: ok = False; break
                    size = int(line[1:])
                    if len(after) < size + 2: ok = False; break
                    pos += len(line) + 2 + size + 2
                if not ok: break
                buf = rest[pos:]
                with lock:
                    n[0] += 1
                    k = n[0]
                c.sendall(b"-E%d \\x1b[31mcode\\r\\n" % k)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

Deno.test("wiretest load: a peer naming each failure anew gets at most 100 error types counted apart", async () => {
  const port = freePort();
  await using _peer = spawnPeer("python3", ["-c", SERVER, String(port)]);
  await waitForTcp(port);
  const r = await deno([
    "run",
    "-A",
    MAIN,
    "load",
    "resp",
    `127.0.0.1:${port}`,
    "--plugins",
    `${ROOT}/examples/plugins/resp/manifest.json`,
    "--rate",
    "1000",
    "--duration",
    "2s",
    "--json",
  ], { timeoutMs: 120_000 });
  assert.equal(r.code, 1, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.ok(json.errors >= 1000, `errors: ${json.errors}`);
  assert.equal(json.errors, json.iterations);
  const types = Object.keys(json.errorsByType);
  // 100 types apart, the rest together, and every error counted once.
  assert.equal(types.length, 101);
  assert.ok(types.includes("(other types)"));
  assert.equal(
    Object.values(json.errorsByType as Record<string, number>).reduce((a, b) => a + b, 0),
    json.errors,
  );
  assert.equal(json.errorsByType["(other types)"], json.errors - 100);
  // The summary line stays short too.
  const text = await deno([
    "run",
    "-A",
    MAIN,
    "load",
    "resp",
    `127.0.0.1:${port}`,
    "--plugins",
    `${ROOT}/examples/plugins/resp/manifest.json`,
    "--rate",
    "1000",
    "--duration",
    "1s",
  ], { timeoutMs: 120_000 });
  assert.equal(text.code, 1, text.stderr);
  assert.match(text.stdout, /\(other types\) \d+\)/);
  assert.ok(text.stdout.length < 4000, `summary of ${text.stdout.length} characters`);
});
