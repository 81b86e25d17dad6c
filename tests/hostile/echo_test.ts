// The echo client against peers that echo wrong, stop, reset or never read.
// Each client runs in a process of its own: every case must end in a typed
// error before its deadline, with bounded memory, and no write may block
// forever.
import assert from "node:assert/strict";
import { record, runClientProcess, startHostile } from "./_support/process.ts";

const SLACK_MS = 3000;

async function echoAgainst(
  label: string,
  mode: string,
  peerOptions: Record<string, unknown>,
  params: Record<string, unknown>,
) {
  await using peer = await startHostile(mode, peerOptions);
  const timeoutMs = (params.timeoutMs as number | undefined) ?? 5000;
  const result = await runClientProcess("echo", { target: `127.0.0.1:${peer.port}`, ...params });
  const { outcome, ms, growthKb, hwmKb } = result;
  record(`echo: ${label}`, { ms, growthKb, hwmKb, error: outcome.error });
  assert.equal(outcome.ok, false, `${label}: the exchange succeeded`);
  assert.ok(ms < timeoutMs + SLACK_MS, `${label}: took ${ms} ms`);
  return result;
}

Deno.test("echo client counts every wrong byte and fails with a mismatch error", async () => {
  const { outcome, growthKb } = await echoAgainst("echoes wrong bytes", "echo-wrong", {
    every: 7,
  }, { payloadSize: 1000, count: 5 });
  assert.equal(outcome.error?.code, "mismatch");
  // Bytes at stream offsets 0, 7, 14… of 5000 are flipped: 715 of them.
  assert.equal(outcome.metrics.mismatches, 715);
  assert.equal(outcome.metrics.round_trips, 5);
  assert.equal(outcome.metrics.bytes_received, 5000);
  assert.ok(growthKb < 32 * 1024, `memory grew by ${growthKb} KiB`);
});

Deno.test("echo client times out on a peer that stops echoing half way", async () => {
  const { outcome } = await echoAgainst(
    "stops echoing half way, keeps the connection",
    "echo-half",
    { limit: 500 },
    { payloadSize: 1000, count: 3, timeoutMs: 1000 },
  );
  assert.equal(outcome.error?.name, "TimeoutError");
  assert.match(
    outcome.error!.message,
    /^Cannot read from 127\.0\.0\.1:\d+: timed out after 1000 ms$/,
  );
  assert.equal(outcome.metrics.bytes_received, 500);
  assert.equal(outcome.metrics.round_trips, 0);
});

Deno.test("echo client reports a peer that stops echoing half way and closes", async () => {
  const { outcome } = await echoAgainst(
    "stops echoing half way, closes",
    "echo-half",
    { limit: 500, then: "close" },
    { payloadSize: 1000 },
  );
  assert.equal(outcome.error?.name, "ConnectionError");
  assert.equal(outcome.error?.code, "closed");
  assert.match(outcome.error!.message, /after 500 of 1000 bytes of the echo$/);
});

Deno.test("echo client reports a reset in mid-stream as ConnectionError reset", async () => {
  const { outcome } = await echoAgainst(
    "resets mid-stream",
    "echo-reset",
    { limit: 500 },
    { payloadSize: 1000, count: 2 },
  );
  assert.equal(outcome.error?.name, "ConnectionError");
  assert.equal(outcome.error?.code, "reset");
});

Deno.test("echo client does not block forever writing to a peer that never reads", async () => {
  const { outcome, growthKb } = await echoAgainst(
    "accepts, never reads (16 MiB payload)",
    "no-read",
    {},
    { payloadSize: 16 * 1024 * 1024, timeoutMs: 1500 },
  );
  assert.equal(outcome.error?.name, "TimeoutError");
  assert.match(
    outcome.error!.message,
    /^Cannot write to 127\.0\.0\.1:\d+: timed out after 1500 ms$/,
  );
  assert.ok(outcome.metrics.bytes_sent < 16 * 1024 * 1024, "the kernel took the whole payload");
  // The payload is 16 MiB; what is in flight must not be copied over and over.
  assert.ok(growthKb < 96 * 1024, `memory grew by ${growthKb} KiB`);
});
