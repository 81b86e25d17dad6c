import assert from "node:assert/strict";
import { FOREIGN, HEADER_SIZE, MAGIC, MALFORMED, PingPacket } from "./_packet.ts";

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
  assert.equal(packet.check(echo, times, 2), 1);
});

Deno.test("PingPacket.check() calls a datagram of another run or without magic foreign", () => {
  const packet = new PingPacket(HEADER_SIZE, 1);
  const times = new Float64Array([3]);
  assert.equal(packet.check(sent(new PingPacket(HEADER_SIZE, 2), 0, 3), times, 1), FOREIGN);
  assert.equal(packet.check(new Uint8Array(HEADER_SIZE), times, 1), FOREIGN);
  assert.equal(packet.check(sent(packet, 0, 3).subarray(0, 7), times, 1), FOREIGN);
});

Deno.test("PingPacket.check() calls a cut, garbled or unsent echo malformed", () => {
  const packet = new PingPacket(64);
  const times = new Float64Array([5, 6]);
  const good = sent(packet, 0, 5);
  assert.equal(packet.check(good.subarray(0, 63), times, 1), MALFORMED);
  const longer = new Uint8Array(65);
  longer.set(good);
  assert.equal(packet.check(longer, times, 1), MALFORMED);
  const padding = good.slice();
  padding[63] ^= 1;
  assert.equal(packet.check(padding, times, 1), MALFORMED);
  assert.equal(packet.check(sent(packet, 0, 5.5), times, 1), MALFORMED);
  assert.equal(packet.check(sent(packet, 1, 6), times, 1), MALFORMED);
});
