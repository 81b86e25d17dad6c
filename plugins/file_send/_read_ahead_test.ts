import assert from "node:assert/strict";
import { FileSendError } from "./protocol.ts";
import { readAhead } from "./_read_ahead.ts";

async function fileWith(bytes: Uint8Array): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "wiretest-read-ahead-" });
  await Deno.writeFile(path, bytes);
  return path;
}

const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i * 7) % 251);

Deno.test("readAhead() yields the first size bytes in chunks of at most chunkSize", async () => {
  const data = bytes(10_000);
  const path = await fileWith(data);
  try {
    using file = await Deno.open(path);
    const got: number[] = [];
    const lengths: number[] = [];
    for await (const chunk of readAhead(file, 9_000, 4096, path)) {
      lengths.push(chunk.length);
      got.push(...chunk);
    }
    assert.deepEqual(lengths, [4096, 4096, 808]);
    assert.deepEqual(new Uint8Array(got), data.subarray(0, 9_000));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readAhead() throws a truncated FileSendError when the file is shorter than size", async () => {
  const path = await fileWith(bytes(5000));
  try {
    using file = await Deno.open(path);
    let seen = 0;
    await assert.rejects(
      async () => {
        for await (const chunk of readAhead(file, 8192, 4096, path)) seen += chunk.length;
      },
      (error) =>
        error instanceof FileSendError && error.code === "truncated" &&
        error.message.includes("it shrank to 5000 bytes"),
    );
    assert.equal(seen, 5000);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readAhead() leaves no read in flight when the caller stops early", async () => {
  const chunk = 4 * 1024 * 1024;
  const path = await fileWith(new Uint8Array(4 * chunk));
  try {
    const file = await Deno.open(path);
    let chunks = 0;
    for await (const _ of readAhead(file, 4 * chunk, chunk, path)) {
      if (++chunks === 2) break;
    }
    // The read of the third chunk is over (a handle with a read in flight
    // refuses synchronous calls), so the file may be closed.
    assert.equal(file.seekSync(0, Deno.SeekMode.Current), 3 * chunk);
    file.close();
    assert.equal(chunks, 2);
  } finally {
    await Deno.remove(path);
  }
});
