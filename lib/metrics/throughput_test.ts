import assert from "node:assert/strict";
import { connectTcp, listenTcp } from "../transport/tcp.ts";
import { Throughput } from "./throughput.ts";

/** Waits on a timer that fires (so nothing is left pending for the sanitizer). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("Throughput reports zero time and zero rates before start()", () => {
  const throughput = new Throughput();
  throughput.add(100);
  assert.equal(throughput.running, false);
  assert.deepEqual(throughput.snapshot(), {
    bytes: 100,
    ops: 1,
    seconds: 0,
    bytesPerSecond: 0,
    mibPerSecond: 0,
    opsPerSecond: 0,
  });
});

Deno.test("stop() before start() changes nothing", () => {
  const throughput = new Throughput().stop();
  assert.equal(throughput.running, false);
  assert.equal(throughput.seconds, 0);
});

Deno.test("seconds grows while running", async () => {
  const throughput = new Throughput().start();
  const first = throughput.seconds;
  await sleep(20);
  assert.equal(throughput.running, true);
  assert.ok(throughput.seconds > first, `${throughput.seconds} > ${first}`);
});

Deno.test("stop() freezes seconds and the rates", async () => {
  const throughput = new Throughput().start();
  throughput.add(4096, 4);
  await sleep(10);
  throughput.stop();
  const stopped = throughput.snapshot();
  await sleep(10);
  assert.equal(throughput.running, false);
  assert.ok(stopped.seconds > 0);
  assert.deepEqual(throughput.snapshot(), stopped);
});

Deno.test("stop() a second time keeps the first stop time", async () => {
  const throughput = new Throughput().start();
  await sleep(5);
  const seconds = throughput.stop().seconds;
  await sleep(5);
  assert.equal(throughput.stop().seconds, seconds);
});

Deno.test("rates are the counts divided by the elapsed seconds", async () => {
  const throughput = new Throughput().start();
  throughput.add(3 * 1024 * 1024, 3);
  await sleep(10);
  throughput.stop();
  const seconds = throughput.seconds;
  assert.equal(throughput.bytesPerSecond, (3 * 1024 * 1024) / seconds);
  assert.equal(throughput.mibPerSecond, 3 / seconds);
  assert.equal(throughput.opsPerSecond, 3 / seconds);
});

Deno.test("start() begins a new measurement with zero counts", () => {
  const throughput = new Throughput().start();
  throughput.add(10);
  throughput.stop();
  throughput.start();
  assert.equal(throughput.running, true);
  assert.equal(throughput.bytes, 0);
  assert.equal(throughput.ops, 0);
});

Deno.test("add() counts one operation by default and any number when given", () => {
  const throughput = new Throughput().start();
  throughput.add(10);
  throughput.add(20, 0);
  throughput.add(0, 5);
  assert.equal(throughput.bytes, 30);
  assert.equal(throughput.ops, 6);
});

Deno.test("add() throws RangeError for negative, fractional or non-finite counts", () => {
  const throughput = new Throughput().start();
  for (const bad of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => throughput.add(bad), {
      name: "RangeError",
      message: `Cannot count bytes: "${bad}" is not a non-negative integer`,
    });
    assert.throws(() => throughput.add(1, bad), {
      name: "RangeError",
      message: `Cannot count operations: "${bad}" is not a non-negative integer`,
    });
  }
  assert.equal(throughput.bytes, 0);
  assert.equal(throughput.ops, 0);
});

Deno.test("snapshot() is a plain object unaffected by later counts", () => {
  const throughput = new Throughput().start();
  throughput.add(8);
  const snapshot = throughput.snapshot();
  throughput.add(8);
  assert.equal(Object.getPrototypeOf(snapshot), Object.prototype);
  assert.equal(snapshot.bytes, 8);
  assert.equal(throughput.bytes, 16);
});

Deno.test({
  name: "Throughput measures a real 4 MiB TCP transfer on loopback",
  permissions: { net: true },
}, async () => {
  const total = 4 * 1024 * 1024;
  using listener = listenTcp();
  using client = await connectTcp({ port: listener.addr.port, timeout: 2000 });
  using server = await listener.accept({ timeout: 2000 });
  const received = new Throughput().start();
  const sending = (async () => {
    const chunk = new Uint8Array(64 * 1024);
    for (let sent = 0; sent < total; sent += chunk.length) {
      await client.write(chunk, { timeout: 5000 });
    }
    await client.closeWrite();
  })();
  const buffer = new Uint8Array(64 * 1024);
  for (let i = 0; i < total; i++) {
    const n = await server.read(buffer, { timeout: 5000 });
    if (n === null) break;
    received.add(n, 0);
  }
  received.add(0, 1);
  received.stop();
  await sending;

  const snapshot = received.snapshot();
  assert.equal(snapshot.bytes, total);
  assert.equal(snapshot.ops, 1);
  assert.ok(snapshot.mibPerSecond > 0);
  assert.equal(snapshot.mibPerSecond, 4 / snapshot.seconds);
});
