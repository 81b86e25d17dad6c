// udp-ping against one peer process that misbehaves in every way at once
// (plugins/udp_ping/client_test.ts checks each way alone, in process), and
// against a storm of junk. UDP has no connection to fail: the run must end
// on its schedule, classify every reply exactly, and keep its memory flat.
import assert from "node:assert/strict";
import { record, runClientProcess, startHostile } from "./_support/process.ts";

const SLACK_MS = 3000;

// Both I/O paths: the runtime's sockets and libc through FFI.
for (const io of ["deno", "libc"] as const) {
  Deno.test(`udp-ping classifies duplicated, reordered, late, cut, foreign and oversized replies (io ${io})`, async () => {
    const plan = ["hold", "dup", "late", "cut", "foreign", "oversize", "drop"];
    // A timeout beyond any stall of a loaded machine, so only the "late"
    // echoes come late; they leave once a ping arrives 1.6 s after theirs,
    // 2 s before the last one does.
    await using peer = await startHostile("udp-mixed", { plan: [...plan, ...plan], late: 1.6 });
    const count = 70, intervalMs = 50, timeoutMs = 1500;
    const { outcome, ms, growthKb, hwmKb } = await runClientProcess("udp-ping", {
      target: `127.0.0.1:${peer.port}`,
      count,
      intervalMs,
      timeoutMs,
      io,
    });
    record(`udp-ping: every misbehaviour at once (70 pings, io ${io})`, { ms, growthKb, hwmKb });
    assert.equal(outcome.facts.io, io);
    assert.equal(outcome.ok, true, outcome.error?.message);
    const m = outcome.metrics;
    // Per round of 7: hold and dup are received (hold after a newer one:
    // reordered), dup once more, late past its timeout, cut and oversize
    // malformed, foreign from another port, drop lost. Pings 14-69 are echoed.
    assert.deepEqual(
      {
        sent: m.sent,
        received: m.received,
        reordered: m.reordered,
        duplicates: m.duplicates,
        late: m.late,
        malformed: m.malformed,
        foreign: m.foreign,
        lost: m.lost,
      },
      {
        sent: 70,
        received: 60,
        reordered: 2,
        duplicates: 2,
        late: 2,
        malformed: 4,
        foreign: 2,
        lost: 10,
      },
    );
    assert.ok(ms < count * intervalMs + timeoutMs + SLACK_MS, `took ${ms} ms`);
    assert.ok(growthKb < 32 * 1024, `memory grew by ${growthKb} KiB`);
  });

  Deno.test(`udp-ping ends on schedule with flat memory under a storm of junk datagrams (io ${io})`, async () => {
    await using peer = await startHostile("udp-junk-storm", { junk: 50 });
    const count = 20, intervalMs = 20, timeoutMs = 500;
    const { outcome, ms, growthKb, hwmKb } = await runClientProcess("udp-ping", {
      target: `127.0.0.1:${peer.port}`,
      count,
      intervalMs,
      timeoutMs,
      io,
    });
    assert.equal(outcome.facts.io, io);
    record(`udp-ping: 50 junk datagrams before each echo (io ${io})`, {
      ms,
      growthKb,
      hwmKb,
      foreign: outcome.metrics.foreign,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    // The kernel may drop some of a burst; what arrives is junk or an echo.
    assert.ok(outcome.metrics.foreign >= 50, `foreign ${outcome.metrics.foreign}`);
    assert.ok(outcome.metrics.foreign <= count * 50);
    assert.ok(outcome.metrics.received >= 1);
    assert.equal(outcome.metrics.malformed, 0);
    assert.ok(ms < count * intervalMs + timeoutMs + SLACK_MS, `took ${ms} ms`);
    assert.ok(growthKb < 32 * 1024, `memory grew by ${growthKb} KiB`);
  });
}
