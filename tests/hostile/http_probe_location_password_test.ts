// A server's Location may carry user info in forms the URL parser reads as
// user info although they do not start with "scheme://": scheme-relative
// ("//bob:pw@host/"), backslashes ("http:\\bob:pw@host/") or extra slashes
// ("http:///bob:pw@host/"). facts.redirects[].location showed those raw
// while README promises every URL's password as ***.
import assert from "node:assert/strict";
import { deno, MAIN } from "../_support/deno_process.ts";
import { redactPasswords } from "../../lib/plugin/redact_passwords.ts";

// Answers each connection with a redirect to the next Location given, then
// stops; prints its port first.
const REDIRECTOR = `
import json, socket, sys
locations = json.loads(sys.argv[1])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
ls.settimeout(60)
print(ls.getsockname()[1], flush=True)
for location in locations:
    c, _ = ls.accept()
    c.settimeout(10)
    c.recv(65536)
    c.sendall(("HTTP/1.1 302 Found\\r\\nLocation: " + location +
               "\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n").encode("latin-1"))
    c.close()
`;

Deno.test("http-probe shows a Location's password as *** however its slashes are written", async () => {
  for (
    const location of [
      "//bob:topsecret@127.0.0.1:9/",
      "http:\\\\bob:topsecret@127.0.0.1:9/",
      "http:///bob:topsecret@127.0.0.1:9/",
      "http:/\\bob:topsecret@127.0.0.1:9/",
    ]
  ) {
    const server = new Deno.Command("python3", {
      args: ["-c", REDIRECTOR, JSON.stringify([location])],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      const { value } = await reader.read();
      const port = Number(value?.trim());
      assert.ok(port > 0, `redirector printed ${value}`);
      const ran = await deno([
        "run",
        "-A",
        MAIN,
        "probe",
        `http://127.0.0.1:${port}/`,
        "--follow-redirects",
        "--json",
        "--debug",
      ], { timeoutMs: 60_000 });
      const all = ran.stdout + ran.stderr;
      assert.ok(!all.includes("topsecret"), `${location}:\n${all}`);
      const outcome = JSON.parse(ran.stdout);
      const hop = outcome.facts.redirects[0];
      assert.match(hop.location, /bob:\*\*\*@127\.0\.0\.1:9\//, location);
    } finally {
      try {
        server.kill("SIGKILL");
      } catch { /* it ends after its one answer */ }
      await reader.cancel();
      await server.status;
      await server.stderr.cancel();
    }
  }
});

Deno.test("redactPasswords leaves text that only looks like user info alone", () => {
  assert.equal(redactPasswords("at 12:30:45@host"), "at 12:30:45@host");
  assert.equal(redactPasswords("Cannot GET /a:b@c"), "Cannot GET /a:b@c");
  assert.equal(redactPasswords("http://alice:pw@h/"), "http://alice:***@h/");
  assert.equal(redactPasswords('"//bob:pw@h/"'), '"//bob:***@h/"');
  assert.equal(redactPasswords("https:\\\\bob:pw@h/"), "https:\\\\bob:***@h/");
});
