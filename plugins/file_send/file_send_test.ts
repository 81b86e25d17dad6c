import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { connectTcp } from "../../lib/transport/tcp.ts";
import { readFull } from "../../lib/transport/read_full.ts";
import type { Progress, Service } from "../../lib/plugin/types.ts";
import { DenoStreamConn } from "../../lib/transport/conn.ts";
import { runFileSender, startFileReceiver } from "./mod.ts";
import { encodeHeader, encodeTrailer } from "./protocol.ts";
import { commandOutput } from "../../tests/_support/command.ts";

const port = (s: Service) => (s.address as Deno.NetAddr).port;

async function setup(options: Record<string, unknown> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-recv-" });
  const logs: string[] = [];
  const receiver = await startFileReceiver({ dir, ...options }, {
    log: (_level, message) => logs.push(message),
  });
  return {
    dir,
    logs,
    receiver,
    target: `127.0.0.1:${port(receiver)}`,
    async [Symbol.asyncDispose]() {
      await receiver.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

async function tempFile(bytes: Uint8Array): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "wiretest-src-" });
  await Deno.writeFile(path, bytes);
  return path;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, off + 65536));
  return out;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Sends hand-made protocol bytes, then reads the receiver's answer (if any). */
async function rawExchange(target: string, parts: Uint8Array[], closeWrite = true) {
  const [, p] = target.split(":");
  using conn = await connectTcp({ port: Number(p) });
  for (const part of parts) await conn.write(part);
  if (closeWrite) await conn.closeWrite();
  const answer = new Uint8Array(4096);
  const n = await readFull(conn, answer, { timeout: 5000 });
  return new TextDecoder().decode(answer.subarray(0, n));
}

Deno.test("file-send framed mode stores the file whole and acknowledges", async () => {
  await using r = await setup();
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const src = await tempFile(data);
  const outcome = await runFileSender({ file: src, target: r.target, name: "data.bin" });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.bytes, data.length);
  assert.equal(outcome.facts.sha256, sha256(data));
  assert.equal((outcome.facts.ack as { sha256: string }).sha256, sha256(data));
  assert.deepEqual(await listing(r.dir), ["data.bin"]);
  assert.equal(sha256(await Deno.readFile(`${r.dir}/data.bin`)), sha256(data));
  assert.equal(r.receiver.stats().files_received, 1);
  await Deno.remove(src);
});

Deno.test("file-send waits for the acknowledgement under idle and whole timeouts of 2^31 ms", async () => {
  await using r = await setup({ idleTimeoutMs: 2 ** 31 });
  const data = randomBytes(3 * 1024 * 1024);
  const src = await tempFile(data);
  // The test's own bound, so a lost acknowledgement fails instead of waiting 2^31 ms.
  const bound = new AbortController();
  const timer = setTimeout(() => bound.abort(new Error("no acknowledgement in 30 s")), 30_000);
  const outcome = await runFileSender({
    file: src,
    target: r.target,
    name: "long.bin",
    idleTimeoutMs: 2 ** 31,
    timeoutMs: 2 ** 31,
  }, { signal: bound.signal }).finally(() => clearTimeout(timer));
  await Deno.remove(src);
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal((outcome.facts.ack as { sha256: string }).sha256, sha256(data));
  assert.deepEqual(await listing(r.dir), ["long.bin"]);
});

Deno.test("file-send sends an empty file", async () => {
  await using r = await setup();
  const src = await tempFile(new Uint8Array(0));
  const outcome = await runFileSender({ file: src, target: r.target, name: "empty" });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal((await Deno.stat(`${r.dir}/empty`)).size, 0);
  await Deno.remove(src);
});

Deno.test("file-send never overwrites an existing file unless told to", async () => {
  await using r = await setup();
  await Deno.writeTextFile(`${r.dir}/keep.txt`, "original");
  const src = await tempFile(new TextEncoder().encode("intruder"));
  const outcome = await runFileSender({ file: src, target: r.target, name: "keep.txt" });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "exists");
  assert.match(outcome.error!.message, /refused it: .*exists/);
  assert.equal(await Deno.readTextFile(`${r.dir}/keep.txt`), "original");
  assert.deepEqual(await listing(r.dir), ["keep.txt"]);
  await Deno.remove(src);
});

Deno.test("file-send receiver refuses an existing name on the header alone, before any body byte", async () => {
  // The sender announces 1 GiB and sends none of it: the refusal must come
  // from the header, long before the receiver's idle timeout.
  await using r = await setup({ idleTimeoutMs: 30_000 });
  await Deno.writeTextFile(`${r.dir}/keep.txt`, "original");
  const answer = await rawExchange(r.target, [encodeHeader("keep.txt", 1024 ** 3)], false);
  assert.ok(answer.startsWith("WTFA\x01"), "a refusal");
  assert.match(answer, /"code":"exists"/);
  assert.equal(await Deno.readTextFile(`${r.dir}/keep.txt`), "original");
});

Deno.test("file-send replaces an existing file with overwrite", async () => {
  await using r = await setup({ overwrite: true });
  await Deno.writeTextFile(`${r.dir}/f.txt`, "old");
  const src = await tempFile(new TextEncoder().encode("new"));
  const outcome = await runFileSender({ file: src, target: r.target, name: "f.txt" });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(await Deno.readTextFile(`${r.dir}/f.txt`), "new");
  await Deno.remove(src);
});

Deno.test("file-send receiver refuses files over its size limit before any byte is stored", async () => {
  await using r = await setup({ maxBytes: 1000 });
  const src = await tempFile(randomBytes(4 * 1024 * 1024));
  const outcome = await runFileSender({ file: src, target: r.target, name: "big.bin" });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "too-large");
  assert.ok(outcome.metrics.bytes === undefined || outcome.metrics.bytes < 4 * 1024 * 1024);
  assert.deepEqual(await listing(r.dir), []);
  assert.equal(r.receiver.stats().rejected, 1);
  await Deno.remove(src);
});

Deno.test("file-send sender refuses names that are paths before connecting", async () => {
  for (const name of ["../x", "/etc/passwd", "a/b", "a\\b", "..", "nul\0byte"]) {
    const src = await tempFile(new Uint8Array(1));
    const outcome = await runFileSender({ file: src, target: "127.0.0.1:9", name });
    assert.equal(outcome.ok, false, name);
    assert.equal(outcome.error?.code, "bad-name", name);
    await Deno.remove(src);
  }
});

Deno.test("file-send receiver refuses traversal names from a hostile sender", async () => {
  await using r = await setup();
  for (const name of ["../escape", "/abs", "sub/dir", "..", "x\0y"]) {
    const answer = await rawExchange(r.target, [encodeHeader(name, 1), new Uint8Array([1])]);
    assert.match(answer, /"code":"bad-name"/, name);
  }
  assert.deepEqual(await listing(r.dir), []);
  const parent = await listing(`${r.dir}/..`);
  assert.ok(!parent.includes("escape"));
});

Deno.test("file-send receiver refuses names with control characters or a temporary file's name", async () => {
  await using r = await setup();
  const temp = `.wiretest-${crypto.randomUUID()}.part`;
  for (const name of ["a\nb", "bell\u0007", "del\u007f", temp]) {
    const answer = await rawExchange(r.target, [encodeHeader(name, 1), new Uint8Array([1])]);
    assert.match(answer, /"code":"bad-name"/, JSON.stringify(name));
  }
  assert.deepEqual(await listing(r.dir), []);
  // The name is quoted with its line break escaped: one log line, not two.
  assert.ok(r.logs.some((line) => line.includes('"a\\nb"')), r.logs.join("|"));
});

Deno.test("file-send receiver removes temporary files left by a killed receiver, not live ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-recv-" });
  const stale = `${dir}/.wiretest-${crypto.randomUUID()}.part`;
  const live = `${dir}/.wiretest-${crypto.randomUUID()}.part`;
  await Deno.writeTextFile(stale, "left behind");
  using held = await Deno.open(live, { write: true, create: true });
  await held.lock(true);
  await Deno.writeTextFile(`${dir}/keep.part`, "not ours");
  try {
    const receiver = await startFileReceiver({ dir });
    await receiver.close();
    assert.deepEqual(await listing(dir), [live.slice(dir.length + 1), "keep.part"].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file-send receiver rejects a sha256 mismatch and keeps nothing", async () => {
  await using r = await setup();
  const body = new TextEncoder().encode("hello");
  const wrong = new Uint8Array(32).fill(7);
  const answer = await rawExchange(r.target, [
    encodeHeader("h.txt", body.length),
    body,
    encodeTrailer(wrong),
  ]);
  assert.match(answer, /"code":"sha256-mismatch"/);
  assert.deepEqual(await listing(r.dir), []);
});

Deno.test("file-send receiver rejects a stream cut before the announced size", async () => {
  await using r = await setup();
  await rawExchange(r.target, [encodeHeader("cut.bin", 1000), new Uint8Array(10)]);
  // The receiver answers after cleaning up; wait until it counted the rejection.
  for (let i = 0; i < 1000 && r.receiver.stats().rejected === 0; i++) {
    await new Promise((ok) => setTimeout(ok, 10));
  }
  assert.equal(r.receiver.stats().rejected, 1);
  assert.match(r.logs.join("\n"), /connection closed after 10 of 1000 bytes/);
  assert.deepEqual(await listing(r.dir), []);
});

Deno.test("file-send receiver rejects a sender that sends more than it announced", async () => {
  await using r = await setup();
  const answer = await rawExchange(r.target, [encodeHeader("more.bin", 4), new Uint8Array(100)]);
  assert.match(answer, /"code":"oversize"/);
  assert.deepEqual(await listing(r.dir), []);
});

Deno.test("file-send receiver gives up on a stalled sender after its idle timeout", async () => {
  await using r = await setup({ idleTimeoutMs: 200 });
  const answer = await rawExchange(
    r.target,
    [encodeHeader("slow.bin", 100), new Uint8Array(5)],
    false,
  );
  assert.match(answer, /"code":"stalled"/);
  assert.deepEqual(await listing(r.dir), []);
});

Deno.test("file-send receiver answers a raw sender in framed mode with a protocol error", async () => {
  await using r = await setup();
  const answer = await rawExchange(r.target, [new TextEncoder().encode("just some bytes\n")]);
  assert.match(answer, /"code":"protocol"/);
  assert.deepEqual(await listing(r.dir), []);
});

Deno.test("file-send raw mode round trip between our sender and receiver", async () => {
  await using r = await setup({ mode: "raw", rawName: "raw.bin" });
  const data = randomBytes(1024 * 1024);
  const src = await tempFile(data);
  const outcome = await runFileSender({ file: src, target: r.target, mode: "raw" });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.facts.sha256, sha256(data));
  assert.equal(outcome.facts.peer_closed, true);
  // The receiver stores after EOF; wait for it to count the file.
  for (let i = 0; i < 1000 && r.receiver.stats().files_received === 0; i++) {
    await new Promise((ok) => setTimeout(ok, 10));
  }
  assert.equal(sha256(await Deno.readFile(`${r.dir}/raw.bin`)), sha256(data));
  await Deno.remove(src);
});

Deno.test("file-send sender reports a refused connection as a typed error", async () => {
  const src = await tempFile(new Uint8Array(1));
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const free = l.addr.port;
  l.close();
  const outcome = await runFileSender({ file: src, target: `127.0.0.1:${free}` });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "ConnectionError");
  assert.equal(outcome.error?.code, "refused");
  await Deno.remove(src);
});

Deno.test("file-send receiver rejects a stream cut after several chunks and keeps no partial file", async () => {
  await using r = await setup();
  const size = 4 * 1024 * 1024;
  const sent = 2 * 1024 * 1024 + 512 * 1024 + 3;
  // The receiver writes each chunk while it reads the next, so the cut comes
  // while a write may still be in flight: it must finish before the cleanup.
  const answer = await rawExchange(r.target, [encodeHeader("cut.bin", size), randomBytes(sent)]);
  assert.match(answer, /"code":"truncated"/);
  assert.match(answer, new RegExp(`connection closed after ${sent} of ${size} bytes`));
  assert.deepEqual(await listing(r.dir), []);
  assert.equal(r.receiver.stats().files_received, 0);
});

Deno.test("file-send receiver and sender report progress up to the whole file", async () => {
  const received: Progress[] = [];
  const dir = await Deno.makeTempDir({ prefix: "wiretest-recv-" });
  const receiver = await startFileReceiver({ dir }, { progress: (p) => received.push(p) });
  try {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    const src = await tempFile(data);
    const sent: Progress[] = [];
    const outcome = await runFileSender(
      { file: src, target: `127.0.0.1:${port(receiver)}`, name: "p.bin" },
      { progress: (p) => sent.push(p) },
    );
    assert.equal(outcome.ok, true, outcome.error?.message);
    await Deno.remove(src);
    for (const updates of [sent, received]) {
      assert.deepEqual(updates.at(-1), {
        done: data.length,
        total: data.length,
        unit: "bytes",
        label: "p.bin",
      });
      const done = updates.map((p) => p.done);
      assert.deepEqual(done, [...done].sort((a, b) => a - b));
    }
  } finally {
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file-send sender reports a receiver that hangs up mid-transfer as a typed error", async () => {
  // A receiver that reads 1 MiB of a 32 MiB transfer and closes: the sender
  // fails while its next file read is in flight, and must leave none behind.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const peer = (async () => {
    using conn = await listener.accept();
    await readFull(new DenoStreamConn(conn, "tcp"), new Uint8Array(1024 * 1024));
  })();
  const src = await tempFile(new Uint8Array(32 * 1024 * 1024));
  try {
    const outcome = await runFileSender({
      file: src,
      target: `127.0.0.1:${listener.addr.port}`,
      name: "gone.bin",
    });
    await peer;
    assert.equal(outcome.ok, false);
    assert.ok(
      outcome.error?.name === "ConnectionError" ||
        (outcome.error?.name === "FileSendError" && outcome.error.code === "truncated"),
      JSON.stringify(outcome.error),
    );
  } finally {
    await Deno.remove(src);
  }
});

Deno.test({
  name:
    "file-send receiver stops waiting for a sender when its disk fills, before the idle timeout",
  // A full disk is a 1 MiB tmpfs, which only root can mount: shown as ignored, not passed.
  ignore: Deno.uid() !== 0,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-recv-full-" });
  const mount = await commandOutput("mount", {
    args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir],
    stdout: "null",
    stderr: "piped",
  });
  if (!mount.success) {
    await Deno.remove(dir);
    throw new Error(`Cannot mount a 1 MiB tmpfs: ${new TextDecoder().decode(mount.stderr).trim()}`);
  }
  // Ten minutes of idle timeout: only the failed write can end the wait.
  const receiver = await startFileReceiver({ dir, idleTimeoutMs: 600_000 });
  try {
    const size = 8 * 1024 * 1024;
    using conn = await connectTcp({ port: port(receiver) });
    // Two chunks and a byte, then silence with the connection open: the
    // second chunk's write fails while the receiver waits for the third.
    await conn.write(encodeHeader("full.bin", size));
    await conn.write(randomBytes(2 * 1024 * 1024 + 1));
    const answer = new Uint8Array(4096);
    const n = await readFull(conn, answer, { timeout: 20_000 });
    const text = new TextDecoder().decode(answer.subarray(0, n));
    assert.match(text, /"code":"io"/);
    assert.match(text, /No space left on device/);
    assert.deepEqual(await listing(dir), []);
  } finally {
    await receiver.close();
    await commandOutput("umount", { args: [dir] });
    await Deno.remove(dir, { recursive: true });
  }
});
