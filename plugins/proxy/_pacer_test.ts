import assert from "node:assert/strict";
import { CATCH_UP_MS, Pacer } from "./_pacer.ts";

// The pacer's own arithmetic, on a made-up clock: what the bandwidth toxic
// schedules, free of how late this machine's timers fire.

Deno.test("pacer: pieces queued at once leave one link-time apart, from their arrival", () => {
  const pacer = new Pacer(1000); // 1000 KB/s = 1000 bytes per ms
  const dues: number[] = [];
  let now = 0;
  for (let i = 0; i < 5; i++) {
    // Each piece is scheduled when the one before it left, on time.
    now = pacer.due(100_000, 0, now);
    dues.push(now);
  }
  assert.deepEqual(dues, [100, 200, 300, 400, 500]);
});

Deno.test("pacer: a wake-up up to the catch-up bound late costs no rate; the next piece is not moved", () => {
  const pacer = new Pacer(1000);
  assert.equal(pacer.due(100_000, 0, 0), 100);
  // Woken CATCH_UP_MS late: the next piece is still due at 200.
  assert.equal(pacer.due(100_000, 0, 100 + CATCH_UP_MS), 200);
});

Deno.test("pacer: after a longer stall at most the catch-up bound is made good (no burst of the whole stall)", () => {
  const pacer = new Pacer(500);
  assert.equal(pacer.due(50_000, 0, 0), 100);
  // The event loop was blocked 1 s; the piece due at 100 left at 1100. The
  // next start CATCH_UP_MS before now, not back at 100 (which would let the
  // next 500 KB through at once): one more piece now, then the rate again.
  const now = 1100;
  assert.equal(pacer.due(50_000, 0, now), now - CATCH_UP_MS + 100);
  assert.equal(pacer.due(50_000, 0, now), now - CATCH_UP_MS + 200);
});

Deno.test("pacer: an idle link gives no credit; data after a pause starts from its arrival", () => {
  const pacer = new Pacer(1000);
  assert.equal(pacer.due(1000, 0, 0), 1);
  assert.equal(pacer.due(1000, 5000, 5000), 5001);
  // Arrived while the link was busy: after the piece before it.
  assert.equal(pacer.due(1000, 5000.5, 5001), 5002);
});
