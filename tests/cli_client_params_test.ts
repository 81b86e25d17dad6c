// A one-shot client command sends its params to the plugin's process once,
// with the run, and the process validates them there before the role runs:
// no separate check message and round trip before it (bench row `startup`).
// What is validated and what a failure prints stay as they were.
import assert from "node:assert/strict";
import { deno, errorLines, MAIN, ROOT } from "./_support/deno_process.ts";

const MANIFEST = `${ROOT}/tests/fixtures/params_parses/manifest.json`;

function wiretest(...args: string[]) {
  return deno(["run", "-A", MAIN, ...args], { timeoutMs: 60_000 });
}

Deno.test("wiretest run parses an isolated plugin's params once, with the run", async () => {
  // The fixture's parsed params hold a Date, so its process keeps no parse
  // to reuse: each message carrying the params is one more parse.
  const r = await wiretest("run", "params-parses", "--count", "2", "--json", "--plugins", MANIFEST);
  assert.equal(r.code, 0, r.stderr);
  const outcome = JSON.parse(r.stdout);
  assert.equal(outcome.metrics.count, 2);
  assert.equal(outcome.metrics.parses, 1);
});

Deno.test("invalid params still fail as a usage error naming the flag, and the role never runs", async () => {
  const r = await wiretest("run", "params-parses", "--count", "9", "--json", "--plugins", MANIFEST);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.deepEqual(errorLines(r.stderr), [
    'error: Cannot use params for plugin "params-parses" (client): --count Too big: expected number to be <=3',
  ]);
});

Deno.test("a built-in's invalid params fail the same way in the process started early", async () => {
  const r = await wiretest("echo", "127.0.0.1:9", "--count=-3");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.deepEqual(errorLines(r.stderr), [
    'error: Cannot use params for plugin "echo" (client): --count Too small: expected number to be >=1',
  ]);
});
