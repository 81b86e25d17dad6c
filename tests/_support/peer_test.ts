import assert from "node:assert/strict";
import { outputWithin, within } from "./command.ts";

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

Deno.test("outputWithin() kills a child that outlives its bound and says so", async () => {
  await assert.rejects(
    outputWithin("sleep", { args: ["30"] }, 200),
    /Cannot finish "sleep 30": still running after 200 ms, killed/,
  );
});

Deno.test("within() rejects a wait that does not settle in time", async () => {
  let release = () => {};
  const never = new Promise<void>((ok) => release = ok);
  await assert.rejects(within(never, 50, "a reply"), /Timed out after 50 ms waiting for a reply/);
  release();
  assert.equal(await within(Promise.resolve(7), 50, "a value"), 7);
});
