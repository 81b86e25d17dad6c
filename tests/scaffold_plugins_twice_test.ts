// A plugin made by `wiretest new plugin` is tested with its own fixture, which
// names `plugins: [./manifest.json]`; `wiretest test --plugins manifest.json`
// names the same manifest again. The same file twice defines the same plugin
// once: the fixture runs (it was refused as "already defined by manifest.json").
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { newCommand } from "../lib/cli/new_command.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CLI_TIMEOUT_MS = 60_000;

Deno.test("wiretest test --plugins names the manifest a fixture also names: it runs and passes", async () => {
  const parent = await Deno.makeTempDir({ prefix: "wiretest_twice_" });
  try {
    const dir = join(parent, "twice-ping");
    assert.equal(await newCommand(["plugin", "twice-ping", "--dir", dir, "--wiretest", ROOT]), 0);
    // `deno task wiretest` runs this, resolved to the checkout through `links`.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "jsr:@wiretest/wiretest@^0.1/cli",
        "test",
        "--plugins",
        "manifest.json",
        "twice-ping.wire.yaml",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stdout + stderr);
    assert.match(stdout, /^ok\s+twice-ping answers every PING with a PONG/m);
    assert.match(stdout, /1 passed, 0 failed/);
    assert.doesNotMatch(stdout + stderr, /already defined/);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
