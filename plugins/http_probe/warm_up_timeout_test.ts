// The probe's timeoutMs is the target's: the warm-up before it (_warm_up.ts)
// is bounded on its own and not charged to it. Here the warm-up's responder
// is made slow on purpose (its listener accepts 150 ms late, so its three
// exchanges take at least 450 ms) and the probe's timeout is 400 ms: with
// the warm-up charged, the probe times out whatever the machine's speed;
// without, a loopback target has 400 ms to answer.
import assert from "node:assert/strict";
import { forgetWarmUps } from "./_warm_up.ts";
import { runHttpProbe, startHttpServer } from "./mod.ts";

const ACCEPT_DELAY_MS = 150;

/** Listeners opened while `fn` runs accept `ACCEPT_DELAY_MS` late. */
async function withSlowAccepts<T>(fn: () => Promise<T>): Promise<{ result: T; slowed: number }> {
  const listen = Deno.listen;
  let slowed = 0;
  const slow = (options: Deno.TcpListenOptions) => {
    const listener = listen(options);
    return new Proxy(listener, {
      get(target, key) {
        if (key === "accept") {
          return async () => {
            slowed++;
            await new Promise((resolve) => setTimeout(resolve, ACCEPT_DELAY_MS));
            return await target.accept();
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
  Object.defineProperty(Deno, "listen", { value: slow, configurable: true, writable: true });
  try {
    return { result: await fn(), slowed };
  } finally {
    Object.defineProperty(Deno, "listen", { value: listen, configurable: true, writable: true });
  }
}

Deno.test("http-probe: a slow warm-up is not charged to the target's timeoutMs", async () => {
  const server = await startHttpServer({ body: "ok" });
  try {
    const { port } = server.address as Deno.NetAddr;
    forgetWarmUps();
    const { result: outcome, slowed } = await withSlowAccepts(() =>
      runHttpProbe({ url: `http://127.0.0.1:${port}/`, timeoutMs: 400 })
    );
    // The warm-up really ran through the slowed listeners, all three times.
    assert.equal(slowed, 3);
    assert.equal(outcome.facts.warm_up, "loopback-exchange");
    assert.equal(outcome.error, undefined, JSON.stringify(outcome.error));
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.status, 200);
  } finally {
    await server.close();
  }
});
