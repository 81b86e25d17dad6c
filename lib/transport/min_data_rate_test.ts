// The minimum-data-rate rule over real loopback sockets: a reader that
// bounds each read by the rule's deadline (on Date.now(), as the file-send
// receiver does) against peers that keep up, burst then stop, or trickle.
import assert from "node:assert/strict";
import { TimeoutError } from "../errors.ts";
import { connectTcp, listenTcp } from "./tcp.ts";
import type { Conn } from "./types.ts";
import { MinDataRateDeadline } from "./min_data_rate.ts";

// Every read is also bounded by this, so a broken rule fails instead of hanging.
const HARD_LIMIT_MS = 8000;

interface Outcome {
  bytes: number;
  /** How the reading ended. */
  end: "eof" | "too-slow" | "hard-limit";
}

/** Reads `conn` to its end, each read bounded by the rule's deadline once bytes came. */
async function readUnderRate(conn: Conn, rate: MinDataRateDeadline): Promise<Outcome> {
  const buffer = new Uint8Array(65_536);
  const hardLimit = Date.now() + HARD_LIMIT_MS;
  let bytes = 0;
  for (;;) {
    const deadline = Math.min(rate.deadline ?? Infinity, hardLimit);
    let n: number | null;
    try {
      n = await conn.read(buffer, { deadline });
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      return { bytes, end: deadline === hardLimit ? "hard-limit" : "too-slow" };
    }
    if (n === null) return { bytes, end: "eof" };
    const now = Date.now();
    if (bytes === 0) rate.start(now);
    rate.received(n, now);
    bytes += n;
  }
}

/** A loopback pair: `peer` is driven by the test, `reader` is read under the rule. */
async function pair(): Promise<{ reader: Conn; peer: Conn; [Symbol.dispose](): void }> {
  const listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  try {
    const accepted = listener.accept({ timeout: 5000 });
    const peer = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
    const reader = await accepted;
    return {
      reader,
      peer,
      [Symbol.dispose]: () => {
        reader.close();
        peer.close();
      },
    };
  } finally {
    listener.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("MinDataRateDeadline lets a peer four times above the rate send to its end", async () => {
  using p = await pair();
  // 5 ms a byte; a grace of 2 s, beyond the stalls of a loaded machine (a
  // stalled writer is silence to the rule), for 3 s of writing: a rule that
  // gave the bytes no credit would cut the peer after 2 s.
  const rate = new MinDataRateDeadline(200, 2000);
  const reading = readUnderRate(p.reader, rate);
  // 800 bytes/s: 20 bytes every 25 ms, 120 times.
  for (let i = 0; i < 120; i++) {
    await p.peer.write(new Uint8Array(20).fill(i), { timeout: 5000 });
    await sleep(25);
  }
  await p.peer.closeWrite();
  assert.deepEqual(await reading, { bytes: 2400, end: "eof" });
});

Deno.test("MinDataRateDeadline gives a burst no more than the grace of silence after it", async () => {
  using p = await pair();
  // 10,000 bytes at 100 bytes/s would be 100 s of credit: the grace (500 ms) caps it.
  const rate = new MinDataRateDeadline(100, 500);
  const reading = readUnderRate(p.reader, rate);
  await p.peer.write(new Uint8Array(10_000), { timeout: 5000 });
  assert.deepEqual(await reading, { bytes: 10_000, end: "too-slow" });
});

Deno.test("MinDataRateDeadline cuts a peer that trickles below the rate", async () => {
  using p = await pair();
  // 1,000 bytes/s asked; the peer sends 1 byte every 40 ms (25 bytes/s).
  const rate = new MinDataRateDeadline(1000, 300);
  const reading = readUnderRate(p.reader, rate);
  let sent = 0;
  const trickle = (async () => {
    for (let i = 0; i < 100 && !p.peer.closed; i++) {
      try {
        await p.peer.write(new Uint8Array([i]), { timeout: 1000 });
      } catch {
        return; // the reader gave up and closed
      }
      sent++;
      await sleep(40);
    }
  })();
  const outcome = await reading;
  p.reader.close();
  await trickle;
  assert.equal(outcome.end, "too-slow");
  // Cut long before the 100 bytes: about the grace's worth of them.
  assert.ok(outcome.bytes < 50, `${outcome.bytes} bytes read of ${sent} sent`);
});

Deno.test("MinDataRateDeadline at rate 0 sets no deadline: silence is left to the caller", async () => {
  using p = await pair();
  const rate = new MinDataRateDeadline(0, 100);
  assert.equal(rate.enabled, false);
  assert.equal(rate.writeAllowance(1_000_000), Infinity);
  const reading = readUnderRate(p.reader, rate);
  await p.peer.write(new Uint8Array(10), { timeout: 5000 });
  await sleep(300); // three graces of silence
  await p.peer.write(new Uint8Array(10), { timeout: 5000 });
  await p.peer.closeWrite();
  assert.deepEqual(await reading, { bytes: 20, end: "eof" });
  assert.equal(rate.deadline, undefined);
});
