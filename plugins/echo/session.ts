/**
 * The echo client's load session: one connection per virtual user, one
 * verified round trip per iteration.
 *
 * @module
 */
import type { ClientSession, Context, Outcome } from "../../lib/plugin/mod.ts";
import { describeError } from "../../lib/plugin/mod.ts";
import { TimeoutError } from "../../lib/transport/plain.ts";
import { prepareConnector } from "./_connect.ts";
import type { Tally } from "./_links.ts";
import { payloadFor } from "./_payload.ts";
import { type EchoClientParams, resolveTransport } from "./params.ts";

/**
 * Opens one connection to the echo target (UDP: one socket) for a load
 * run's VU; each iteration is one round trip of the payload, verified byte
 * for byte and bounded by `timeoutMs`. `count`, `connections` and
 * `durationMs` belong to a single run and are ignored here.
 *
 * @param params The echo client's params.
 * @param ctx The session's context (its signal aborts the connect).
 * @returns The session.
 *
 * @example Three round trips over one connection
 * ```ts
 * import { echoClientParams, openEchoSession, startEchoServer } from "@wiretest/wiretest/plugins/echo";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import { createContext } from "@wiretest/wiretest/plugin";
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const server = await startEchoServer({});
 * const params = validateParams(echoClientParams, { target: formatAddress(server.address) });
 * using ctx = createContext();
 * const session = await openEchoSession(params, ctx);
 * for (let i = 0; i < 3; i++) assert.equal((await session.iterate(ctx)).ok, true);
 * await session.close();
 * assert.equal(server.stats().connections, 1);
 * await server.close();
 * ```
 */
export async function openEchoSession(
  params: EchoClientParams,
  ctx: Context,
): Promise<ClientSession> {
  const transport = resolveTransport(params);
  const payload = payloadFor(params);
  const open = await prepareConnector(params, transport);
  const tally: Tally = { bytes_sent: 0, bytes_received: 0, mismatches: 0 };
  const link = await open(payload, tally, ctx.signal);
  return {
    async iterate(iteration: Context): Promise<Outcome> {
      const sent = tally.bytes_sent;
      const received = tally.bytes_received;
      const mismatches = tally.mismatches;
      let timedOut = false;
      // A round trip that overruns, or is aborted, closes the link: it fails.
      const timer = setTimeout(() => {
        timedOut = true;
        link.close();
      }, params.timeoutMs);
      const onAbort = () => link.close();
      iteration.signal.addEventListener("abort", onAbort, { once: true });
      const started = performance.now();
      let error: unknown;
      try {
        await link.roundTrip();
      } catch (e) {
        error = timedOut
          ? new TimeoutError({
            operation: transport === "udp" ? "receive" : "read",
            address: params.target,
            timeoutMs: params.timeoutMs,
            cause: e,
          })
          : e;
      } finally {
        clearTimeout(timer);
        iteration.signal.removeEventListener("abort", onAbort);
      }
      const metrics = {
        bytes_sent: tally.bytes_sent - sent,
        bytes_received: tally.bytes_received - received,
        mismatches: tally.mismatches - mismatches,
        rtt_ms: performance.now() - started,
      };
      if (error !== undefined) {
        return { ok: false, metrics, facts: {}, error: describeError(error) };
      }
      if (metrics.mismatches > 0) {
        return {
          ok: false,
          metrics,
          facts: {},
          error: {
            name: "MismatchError",
            code: "mismatch",
            message: `Cannot verify echo from ${params.target}: ${metrics.mismatches} bytes differ`,
          },
        };
      }
      return { ok: true, metrics, facts: {} };
    },
    close(): Promise<void> {
      link.close();
      return Promise.resolve();
    },
  };
}
