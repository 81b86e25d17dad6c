import assert from "node:assert/strict";
import { runConfinement } from "./confine.ts";

Deno.test("runConfinement() walks each fixture folder once per run, and apart from the others", async () => {
  const root = await Deno.makeTempDir({ prefix: "wiretest-confine-" });
  try {
    await Deno.mkdir(`${root}/a/.git`, { recursive: true });
    await Deno.mkdir(`${root}/b`);
    await Deno.mkdir(`${root}/tmp`);
    await Deno.symlink("/etc", `${root}/b/out`);
    const confine = runConfinement(`${root}/tmp`, []);
    const first = confine(`${root}/a/one.wire.yaml`);
    // The same folder: the walk's result is shared, not redone.
    assert.equal(confine(`${root}/a/two.wire.yaml`), first);
    assert.ok(first.deny.includes(`${root}/a/.git`));
    const other = confine(`${root}/b/three.wire.yaml`);
    assert.notEqual(other, first);
    assert.ok(other.deny.includes(`${root}/b/out`), "an outward symlink is denied");
    assert.deepEqual(other.read, [`${root}/b`, `${root}/tmp`]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
