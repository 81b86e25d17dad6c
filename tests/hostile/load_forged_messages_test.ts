// A third-party plugin's code shares its process with the load engine, and
// can write frames of its own on the socket to the host (Deno's internals
// are reachable from plugin code): a forged load report or interval fails
// that step, typed, and the run goes on.
import assert from "node:assert/strict";
import { deno, MAIN, ROOT } from "../_support/deno_process.ts";

const DIR = `${ROOT}/tests/fixtures/load_forger`;
const wiretest = (args: string[]) => deno(["run", "-A", MAIN, ...args], { timeoutMs: 120_000 });

Deno.test("wiretest test: a forged load report errs its step, named; the other fixture still runs", async () => {
  const r = await wiretest([
    "test",
    `${DIR}/forged_report.wire.yaml`,
    `${DIR}/plain_echo.wire.yaml`,
    "--plugins",
    `${DIR}/manifest.json`,
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stdout,
    /ERROR\s+forged report[\s\S]*the plugin's process sent a malformed load report \("iterations"\)/,
  );
  assert.match(r.stdout, /^ok\s+plain echo beside the forger/m);
  assert.match(r.stdout, /1 passed, 0 failed, 1 error/);
});

Deno.test("wiretest test: a forged load interval (abortOnBreach) errs its step, named", async () => {
  const r = await wiretest([
    "test",
    `${DIR}/forged_interval.wire.yaml`,
    "--plugins",
    `${DIR}/manifest.json`,
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /sent a malformed load interval \("correctedMaxMs"\)/);
});

Deno.test("wiretest load: a forged load report is one line, exit 1", async () => {
  const r = await wiretest([
    "load",
    "load-forger",
    "--forge",
    "report",
    "--plugins",
    `${DIR}/manifest.json`,
    "--vus",
    "1",
    "--duration",
    "1s",
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr.trim(),
    `error: Cannot run load: the plugin's process sent a malformed load report ("iterations")`,
  );
});

Deno.test("wiretest load --hdr-log: a plugin flooding load intervals is stopped, its log stays small", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = `${dir}/flood.hlog`;
    const r = await wiretest([
      "load",
      "load-forger",
      "--forge",
      "flood",
      "--plugins",
      `${DIR}/manifest.json`,
      "--vus",
      "1",
      "--duration",
      "2s",
      "--hdr-log",
      log,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: Cannot run plugin "load-forger": Cannot run load: the plugin's process sent more than one load interval a second$/m,
    );
    // The header and, at most, the slack's few intervals (two lines each).
    const lines = (await Deno.readTextFile(log)).trimEnd().split("\n");
    assert.ok(lines.length <= 4 + 2 * 10, `${lines.length} lines`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
