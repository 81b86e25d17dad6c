import assert from "node:assert/strict";
import { outputWithin } from "./command.ts";

const NEEDS_MISSING = new URL("./testdata/needs_missing_peer.ts", import.meta.url).pathname;

async function runWithCi(ci: string | undefined) {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete env.CI;
  if (ci !== undefined) env.CI = ci;
  return await outputWithin(Deno.execPath(), {
    args: ["test", "-A", "--quiet", "--reporter", "dot", NEEDS_MISSING],
    env,
    clearEnv: true,
  });
}

Deno.test("ignoreWithout() fails a test needing a missing peer under CI=true, naming it", async () => {
  const r = await runWithCi("true");
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stdout, /peer program "wiretest-no-such-peer" is on PATH \(CI=true\)/);
  assert.match(r.stdout, /FAILED \| 0 passed \| 2 failed/);
});

Deno.test("ignoreWithout() reports a test needing a missing peer ignored outside CI", async () => {
  const r = await runWithCi(undefined);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /ok \| 0 passed \| 0 failed \| 1 ignored/);
});
