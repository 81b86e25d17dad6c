import assert from "node:assert/strict";
import {
  FOREIGN,
  HEADER_SIZE,
  MAGIC,
  MALFORMED,
  PingPacket,
  WARM_UP,
  WARM_UP_MAGIC,
} from "./_packet.ts";

function check(packet: PingPacket, data: Uint8Array, times: Float64Array, issued: number): number {
  return packet.check(data, data.length, times, issued);
}

function sent(packet: PingPacket, seq: number, at: number): Uint8Array {
  return packet.stamp(seq, at).slice();
}

Deno.test("PingPacket.stamp() writes magic, identifier, sequence and time big-endian", () => {
  const packet = new PingPacket(64, 0x01020304);
  const bytes = packet.stamp(7, 1.5);
  assert.equal(bytes.length, 64);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0), MAGIC);
  assert.deepEqual([...bytes.subarray(4, 12)], [1, 2, 3, 4, 0, 0, 0, 7]);
  assert.equal(view.getFloat64(12), 1.5);
});

Deno.test("PingPacket.check() returns the sequence number of an intact echo", () => {
  const packet = new PingPacket(100);
  const times = new Float64Array([10.25, 20.5]);
  const echo = sent(packet, 1, times[1]);
  assert.equal(check(packet, echo, times, 2), 1);
});

Deno.test("PingPacket.check() calls a datagram of another run or without magic foreign", () => {
  const packet = new PingPacket(HEADER_SIZE, 1);
  const times = new Float64Array([3]);
  assert.equal(check(packet, sent(new PingPacket(HEADER_SIZE, 2), 0, 3), times, 1), FOREIGN);
  assert.equal(check(packet, new Uint8Array(HEADER_SIZE), times, 1), FOREIGN);
  assert.equal(check(packet, sent(packet, 0, 3).subarray(0, 7), times, 1), FOREIGN);
});

Deno.test("PingPacket.check() calls a cut, garbled or unsent echo malformed", () => {
  const packet = new PingPacket(64);
  const times = new Float64Array([5, 6]);
  const good = sent(packet, 0, 5);
  assert.equal(check(packet, good.subarray(0, 63), times, 1), MALFORMED);
  const longer = new Uint8Array(65);
  longer.set(good);
  assert.equal(check(packet, longer, times, 1), MALFORMED);
  const padding = good.slice();
  padding[63] ^= 1;
  assert.equal(check(packet, padding, times, 1), MALFORMED);
  assert.equal(check(packet, sent(packet, 0, 5.5), times, 1), MALFORMED);
  assert.equal(check(packet, sent(packet, 1, 6), times, 1), MALFORMED);
});

Deno.test("PingPacket.check() calls a warm-up echo of this run WARM_UP, never a timed ping's", () => {
  const packet = new PingPacket(64, 9);
  const times = new Float64Array([5, 6]);
  const warm = packet.stampWarmUp(1, 6).slice();
  assert.equal(new DataView(warm.buffer).getUint32(0), WARM_UP_MAGIC);
  // Same number and time as timed ping 1: still a warm-up echo.
  assert.equal(check(packet, warm, times, 2), WARM_UP);
  assert.equal(packet.warmUpSeq, 1);
  // A timed stamp after a warm-up one carries the timed magic again.
  assert.equal(check(packet, sent(packet, 1, 6), times, 2), 1);
  // Another run's warm-up echo is foreign.
  assert.equal(check(packet, new PingPacket(64, 10).stampWarmUp(0, 5), times, 2), FOREIGN);
});

Deno.test("PingPacket.check() reads only the first length bytes of a reused buffer", () => {
  const packet = new PingPacket(HEADER_SIZE + 4);
  const times = new Float64Array([7]);
  const buffer = new Uint8Array(100).fill(0xff);
  buffer.set(packet.stamp(0, 7));
  assert.equal(packet.check(buffer, HEADER_SIZE + 4, times, 1), 0);
  assert.equal(packet.check(buffer, HEADER_SIZE + 5, times, 1), MALFORMED);
  // A padding of 600 bytes takes the native compare.
  const big = new PingPacket(HEADER_SIZE + 600);
  const bigBuffer = new Uint8Array(700);
  bigBuffer.set(big.stamp(0, 7));
  assert.equal(big.check(bigBuffer, HEADER_SIZE + 600, times, 1), 0);
  bigBuffer[HEADER_SIZE + 599] ^= 1;
  assert.equal(big.check(bigBuffer, HEADER_SIZE + 600, times, 1), MALFORMED);
});
