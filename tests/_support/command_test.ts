import assert from "node:assert/strict";
import { killAfter, outputWithin, statusWithin, within } from "./command.ts";

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

Deno.test("statusWithin() kills a child that does not exit in time", async () => {
  const child = new Deno.Command("sleep", { args: ["30"], stdin: "null" }).spawn();
  await assert.rejects(
    statusWithin(child, 100, "sleep to exit"),
    /Timed out after 100 ms waiting for sleep to exit/,
  );
  assert.equal((await child.status).signal, "SIGKILL");
});

Deno.test("killAfter() ends a child that outlives its bound, so reading its output ends", async () => {
  const child = new Deno.Command("sleep", { args: ["30"], stdin: "null", stdout: "piped" })
    .spawn();
  using _ = killAfter(child, 100);
  const out = await child.output();
  assert.equal(out.signal, "SIGKILL");
});
