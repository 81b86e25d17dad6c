import assert from "node:assert/strict";
import { formatLimit, readBounded, readStreamBounded } from "./read_bounded.ts";

Deno.test("readBounded() reads a file of exactly the limit and refuses one byte more", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeFile(file, new Uint8Array(100).fill(7));
    assert.equal((await readBounded(file, 100, "Cannot read")).length, 100);
    await assert.rejects(readBounded(file, 99, "Cannot read"), {
      name: "RangeError",
      message: "Cannot read: it is larger than the limit of 99 bytes",
    });
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("readBounded() counts what it reads, for files that report no size", async () => {
  // /proc files are regular files of size 0 whatever they hold.
  const path = "/proc/self/cmdline";
  assert.equal((await Deno.stat(path)).size, 0);
  const length = (await Deno.readFile(path)).length;
  assert.equal((await readBounded(path, length, "Cannot read")).length, length);
  await assert.rejects(readBounded(path, length - 1, "Cannot read"), {
    name: "RangeError",
    message: `Cannot read: it is larger than the limit of ${length - 1} bytes`,
  });
});

Deno.test("readBounded() refuses a FIFO without opening it, and a device", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/fifo`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(made.success);
    await assert.rejects(readBounded(fifo, 1024, "Cannot read"), {
      name: "InputFileError",
      message: "Cannot read: it is a FIFO, not a regular file",
    });
    await assert.rejects(readBounded("/dev/zero", 1024, "Cannot read"), {
      name: "InputFileError",
      message: "Cannot read: it is a character device, not a regular file",
    });
    await assert.rejects(readBounded(dir, 1024, "Cannot read"), {
      name: "InputFileError",
      message: "Cannot read: it is a directory, not a regular file",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readStreamBounded() cancels an endless stream past the limit", async () => {
  let pulls = 0;
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      controller.enqueue(new Uint8Array(1000));
    },
    cancel() {
      cancelled = true;
    },
  });
  await assert.rejects(readStreamBounded(endless, 4096, "Cannot fetch"), {
    name: "RangeError",
    message: "Cannot fetch: it is larger than the limit of 4 KiB",
  });
  assert.ok(cancelled);
  assert.ok(pulls <= 7, `pulled ${pulls} chunks`);
});

Deno.test("formatLimit() writes whole binary units, else bytes", () => {
  assert.deepEqual(
    [2 ** 20, 64 * 1024, 3 * 2 ** 30, 1000, 1536].map(formatLimit),
    ["1 MiB", "64 KiB", "3 GiB", "1000 bytes", "1536 bytes"],
  );
});
