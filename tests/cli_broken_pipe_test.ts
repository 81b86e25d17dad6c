// `wiretest … | head -1`: when the reader of standard output goes away, the
// CLI stops without a message and exits 141 (128 + SIGPIPE, what a shell
// shows for git or grep ended by SIGPIPE). A Python parent holds the real
// pipe: it reads one line then closes it (head -1), or closes it before the
// child starts (a reader gone before the first write).
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandOutput } from "./_support/command.ts";
import { ignoreWithout } from "./_support/peer.ts";

const MAIN = new URL("../lib/cli/main.ts", import.meta.url).pathname;

// argv: mode ("head" | "closed"), then the child's command line. Prints the
// child's exit code, then its stderr.
const PARENT = `
import os, subprocess, sys
mode, argv = sys.argv[1], sys.argv[2:]
if mode == "closed":
    r, w = os.pipe()
    os.close(r)
    child = subprocess.Popen(argv, stdout=w, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(w)
else:
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    child.stdout.readline()
    child.stdout.close()
err = child.stderr.read()
code = child.wait(timeout=50)
sys.stdout.write(str(code) + "\\n" + err.decode())
`;

const FIXTURE = `name: slow-enough
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", count: 20 }
`;

async function throughPipe(
  mode: "head" | "closed",
  args: string[],
): Promise<{ code: number; stderr: string }> {
  const out = await commandOutput("python3", {
    args: ["-c", PARENT, mode, Deno.execPath(), "run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1" },
  });
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const [code, ...stderr] = text.split("\n");
  return { code: Number(code), stderr: stderr.join("\n") };
}

Deno.test({
  name: "a reader that closes standard output early ends the CLI quietly with 141",
  ignore: ignoreWithout("python3"),
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-broken-pipe-" });
    try {
      const files = ["a", "b", "c", "d"].map((n) => join(dir, `${n}.wire.yaml`));
      for (const file of files) await Deno.writeTextFile(file, FIXTURE);
      for (const reporter of ["console", "tap", "jsonl"]) {
        await t.step(`test --reporter ${reporter} | head -1`, async () => {
          const r = await throughPipe("head", ["test", dir, "--reporter", reporter]);
          assert.equal(r.stderr, "");
          assert.equal(r.code, 141);
        });
      }
      await t.step("test --output - with the reader gone before the first write", async () => {
        const r = await throughPipe("closed", ["test", dir, "--reporter", "tap", "--output", "-"]);
        assert.equal(r.stderr, "");
        assert.equal(r.code, 141);
      });
      const jsonl = join(dir, "run.jsonl");
      const saved = await commandOutput(Deno.execPath(), {
        args: ["run", "-A", MAIN, "test", files[0], "--reporter", "jsonl", "--output", jsonl],
      });
      assert.equal(saved.code, 0, new TextDecoder().decode(saved.stderr));
      for (
        const args of [["schema"], ["reference"], ["report", "html", jsonl, "--output", "-"]]
      ) {
        await t.step(`${args.slice(0, 2).join(" ")} with the reader gone`, async () => {
          const r = await throughPipe("closed", args);
          assert.equal(r.stderr, "");
          assert.equal(r.code, 141);
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a broken pipe to a peer is still an error, not a quiet exit", async () => {
  // The peer closes at once: writing to it fails, and that is reported.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeFile(file, new Uint8Array(8 << 20));
    const out = await commandOutput(Deno.execPath(), {
      args: ["run", "-A", MAIN, "send", file, `127.0.0.1:${listener.addr.port}`, "--no-isolation"],
      env: { NO_COLOR: "1" },
    });
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(stderr, /^error: /);
  } finally {
    listener.close();
    await accepting;
    await Deno.remove(file);
  }
});
