// Hostile fixture (a pull request in CI): the built-in file-send, granted
// read everywhere, is told to send /proc/self/environ, where the plugin's
// environment is. Deno refuses it to any process without --allow-all; the
// step must fail with a message that says so, not one about an "all" grant
// that no manifest could ever give ("grants no all access").
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandOutput } from "../_support/command.ts";

const CLI = new URL("../../lib/cli/main.ts", import.meta.url).pathname;

Deno.test("sending /proc/self/environ fails with a denial that names --allow-all, and nothing arrives", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-environ-" });
  try {
    await Deno.mkdir(join(dir, "loot"));
    await Deno.writeTextFile(
      join(dir, "environ.wire.yaml"),
      `name: environ
services:
  sink: { plugin: file-send, with: { dir: "${join(dir, "loot")}" } }
steps:
  - plugin: file-send
    with: { file: /proc/self/environ, target: "\${services.sink.addr}", name: environ }
`,
    );
    const out = await commandOutput(Deno.execPath(), {
      // The runner confines plugins to the fixture's folder: allowed here, the
      // read reaches Deno's own --allow-all rule for /proc/self/environ.
      args: [
        "run",
        "-A",
        CLI,
        "test",
        "--allow-files",
        "/proc/self",
        "--allow-files",
        join(dir, "loot"),
        "environ.wire.yaml",
      ],
      cwd: dir,
      env: { NO_COLOR: "1", WIRETEST_HOSTILE_SECRET: "s3cr3t" },
    }, 60_000);
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 1, stdout);
    assert.match(
      stdout,
      /permission denied: access to "\/proc\/self\/environ" needs every permission \(Deno's --allow-all\), which no manifest entry can grant/,
    );
    assert.ok(!stdout.includes("all access"), stdout);
    assert.deepEqual([...Deno.readDirSync(join(dir, "loot"))], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
