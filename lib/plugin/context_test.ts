import assert from "node:assert/strict";
import echo from "../../plugins/echo/mod.ts";
import httpProbe from "../../plugins/http_probe/mod.ts";
import { formatAddress } from "../transport/address.ts";
import { createContext } from "./context.ts";
import { runClient, startServer } from "./run.ts";

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOUR_MS = 3_600_000;

Deno.test("createContext() with timeout 0 is aborted at once with a TimeoutError", () => {
  using ctx = createContext({ timeout: 0 });
  assert.equal(ctx.signal.aborted, true);
  assert.equal((ctx.signal.reason as DOMException).name, "TimeoutError");
  assert.ok(ctx.deadline! <= Date.now());
});

Deno.test("createContext() with timeout 1 ms aborts with a TimeoutError", async () => {
  using ctx = createContext({ timeout: 1 });
  await settle(50);
  assert.equal(ctx.signal.aborted, true);
  assert.equal((ctx.signal.reason as DOMException).message, "Deadline of 1 ms passed");
});

Deno.test("createContext() with 2^31 ms or 700 hours does not abort early", async () => {
  const before = Date.now();
  using long = createContext({ timeout: 2 ** 31 });
  using hours = createContext({ timeout: 700 * HOUR_MS });
  using byDeadline = createContext({ deadline: Date.now() + 700 * HOUR_MS });
  await settle(100);
  for (const ctx of [long, hours, byDeadline]) assert.equal(ctx.signal.aborted, false);
  assert.ok(long.deadline! >= before + 2 ** 31);
});

Deno.test("createContext() with timeout Infinity has no deadline and does not abort", async () => {
  using ctx = createContext({ timeout: Infinity });
  await settle(50);
  assert.equal(ctx.deadline, undefined);
  assert.equal(ctx.signal.aborted, false);
});

Deno.test("createContext() follows its signal and refuses a negative or NaN timeout", () => {
  const outer = new AbortController();
  using ctx = createContext({ signal: outer.signal, timeout: 2 ** 31 });
  outer.abort("stopped");
  assert.equal(ctx.signal.reason, "stopped");
  assert.throws(() => createContext({ timeout: -1 }), RangeError);
  assert.throws(() => createContext({ timeout: NaN }), RangeError);
});

for (const timeout of [Infinity, 2 ** 31, 700 * HOUR_MS]) {
  Deno.test(`runClient() with timeout ${timeout} completes a 1 s echo exchange over TCP`, async () => {
    const server = await startServer(echo, {});
    try {
      // 1 s: a timeout that overflowed to 1 ms would cut it, and a loaded
      // machine has time for a first round trip (100 ms could pass without).
      const outcome = await runClient(
        echo,
        { target: formatAddress(server.address), durationMs: 1000 },
        { timeout },
      );
      assert.equal(outcome.ok, true, outcome.error?.message);
      assert.ok(outcome.metrics.round_trips > 0);
    } finally {
      await server.close();
    }
  });
}

Deno.test("runClient() with timeout Infinity completes an HTTP probe of a slow server", async () => {
  const server = await startServer(httpProbe, { body: "hi", delayMs: 50 });
  try {
    const url = `http://${formatAddress(server.address)}/`;
    const outcome = await runClient(httpProbe, { url }, { timeout: Infinity });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.status, 200);
  } finally {
    await server.close();
  }
});

Deno.test("runClient() with timeout 0 fails the exchange as timed out", async () => {
  const server = await startServer(echo, {});
  try {
    const outcome = await runClient(
      echo,
      { target: formatAddress(server.address), count: 3 },
      { timeout: 0 },
    );
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, "TimeoutError");
  } finally {
    await server.close();
  }
});

Deno.test("runClient() reports a context deadline that cuts an HTTP probe short as a typed TimeoutError", async () => {
  const server = await startServer(httpProbe, { body: "hi", delayMs: 5_000 });
  try {
    const url = `http://${formatAddress(server.address)}/`;
    // 2.5 s: well past the connect even on a loaded machine, well before the answer.
    const outcome = await runClient(httpProbe, { url }, { timeout: 2_500 });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, "TimeoutError");
    // Not the context's DOMException: what was being waited for, and where.
    assert.match(
      outcome.error!.message,
      /^Cannot read from 127\.0\.0\.1:\d+: timed out after \d+ ms/,
    );
  } finally {
    await server.close();
  }
});
