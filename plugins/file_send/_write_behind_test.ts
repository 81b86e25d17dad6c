import assert from "node:assert/strict";
import { WriteBehind } from "./_write_behind.ts";

function tempPath(): Promise<string> {
  return Deno.makeTempFile({ prefix: "wiretest-write-behind-" });
}

Deno.test("WriteBehind writes chunks in order while the caller refills the other buffer", async () => {
  const path = await tempPath();
  try {
    const file = await Deno.open(path, { write: true, truncate: true });
    // A sync after every chunk: the early syncs run beside the writes.
    const out = new WriteBehind(file, path, 1);
    const buffers = [new Uint8Array(1000), new Uint8Array(1000)];
    const expected: number[] = [];
    for (let i = 0; i < 20; i++) {
      const chunk = buffers[i % 2].fill(i);
      expected.push(...chunk);
      await out.write(chunk);
    }
    await out.finish();
    file.close();
    assert.deepEqual(await Deno.readFile(path), new Uint8Array(expected));
    assert.equal(out.failed.aborted, false);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("WriteBehind finish() waits for the early sync a write started and closes its handle", async () => {
  const path = Deno.makeTempFileSync({ prefix: "wiretest-write-behind-" });
  const file = await Deno.open(path, { write: true, truncate: true });
  const out = new WriteBehind(file, path, 1);
  await out.write(new Uint8Array(1024 * 1024).fill(1));
  await out.finish();
  // Nothing awaited from here on: a sync still in flight would fail the
  // test's op sanitizer, a handle left open its resource sanitizer.
  file.close();
  assert.equal(Deno.statSync(path).size, 1024 * 1024);
  Deno.removeSync(path);
});

Deno.test("WriteBehind aborts its signal and throws on the next call when a write fails", async () => {
  const path = await tempPath();
  try {
    // A handle without write access: every write fails.
    using file = await Deno.open(path, { read: true });
    const out = new WriteBehind(file);
    await out.write(new Uint8Array(10));
    await out.close();
    assert.equal(out.failed.aborted, true);
    assert.ok(out.failed.reason instanceof Error);
    await assert.rejects(out.write(new Uint8Array(10)), (error) => error === out.failed.reason);
    await assert.rejects(out.finish(), (error) => error === out.failed.reason);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("WriteBehind goes on without early syncs when it cannot open a second handle", async () => {
  const path = await tempPath();
  try {
    const file = await Deno.open(path, { write: true, truncate: true });
    // The early syncs' handle is opened by path: a path that does not exist
    // makes it fail, as running out of descriptors would.
    const out = new WriteBehind(file, `${path}.missing/x`, 1);
    await out.write(new Uint8Array(1000).fill(7));
    await out.write(new Uint8Array(1000).fill(8));
    await out.finish();
    file.close();
    assert.equal(out.failed.aborted, false);
    assert.equal((await Deno.readFile(path)).length, 2000);
  } finally {
    await Deno.remove(path);
  }
});
