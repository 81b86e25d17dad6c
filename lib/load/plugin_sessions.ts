/**
 * Load sessions from a plugin's client role: its `session` hook when it has
 * one (a connection per VU), else its whole `run` per iteration, so any
 * plugin, third-party included, can be run as load.
 *
 * @module
 */
import { createContext } from "../plugin/context.ts";
import { describeError, parseParams } from "../plugin/run.ts";
import type { AnyPlugin, Context, Outcome } from "../plugin/types.ts";
import type { IterationResult } from "./_recorder.ts";
import type { LoadSession, SessionFactory } from "./run_load.ts";

/**
 * Sessions of a plugin loaded in this process. The params are checked once,
 * here, before any VU starts.
 *
 * @param plugin The plugin (it needs a client role).
 * @param input Its client params as written.
 * @returns A session factory for `runLoad`.
 * @throws {TypeError} When the plugin has no client role.
 * @throws {ParamsError} When the params are wrong.
 *
 * @example Echo round trips as load
 * ```ts
 * import { builtinRegistry } from "@wiretest/wiretest/host";
 * import { checkLoadPlan, pluginSessions, runLoad } from "@wiretest/wiretest/load";
 * import { startServer } from "@wiretest/wiretest/plugin";
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const echo = await builtinRegistry().load("echo");
 * const server = await startServer(echo, {});
 * const sessions = pluginSessions(echo, { target: formatAddress(server.address) });
 * const report = await runLoad(sessions, checkLoadPlan({ vus: 2, iterations: 20 }));
 * await server.close();
 * assert.equal(report.iterations, 20);
 * assert.equal(report.errors, 0);
 * // One connection per VU: the session hook keeps it.
 * assert.equal(server.stats().connections, 2);
 * ```
 */
export function pluginSessions(plugin: AnyPlugin, input: unknown): SessionFactory {
  const role = plugin.client;
  if (!role) throw new TypeError(`Cannot load plugin "${plugin.name}": it has no client role`);
  const params = parseParams(plugin, "client", role.params, input);
  const hook = role.session;
  if (hook === undefined) {
    return runSessions((signal) => {
      using ctx = createContext({ signal });
      return role.run(params, ctx);
    });
  }
  return async (_vu, signal) => {
    const ctx = createContext({ signal });
    let session;
    try {
      session = await hook.call(role, params, ctx);
    } catch (error) {
      ctx[Symbol.dispose]();
      throw error;
    }
    // The engine passes the same signal to every iteration: one context for
    // all of them, not a signal, listener and object per iteration.
    let iteration: Context | undefined;
    return {
      async iterate(signal: AbortSignal): Promise<IterationResult> {
        if (iteration?.signal !== signal) {
          iteration = { signal, log: ctx.log, progress: ctx.progress };
        }
        return iterationResult(await session.iterate(iteration));
      },
      async close(): Promise<void> {
        try {
          await session.close();
        } finally {
          ctx[Symbol.dispose]();
        }
      },
    };
  };
}

/**
 * The generic fallback: each iteration is one whole client run, through
 * any function that runs one (an isolated plugin's `runClient`, say).
 *
 * @param run Runs the client role once.
 * @returns A session factory for `runLoad`.
 *
 * @example Any function returning an outcome
 * ```ts
 * import { checkLoadPlan, runLoad, runSessions } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const report = await runLoad(
 *   runSessions(() => Promise.resolve({ ok: true, metrics: { bytes_sent: 3 }, facts: {} })),
 *   checkLoadPlan({ vus: 1, iterations: 4 }),
 * );
 * assert.equal(report.bytes, 12);
 * ```
 */
export function runSessions(run: (signal: AbortSignal) => Promise<Outcome>): SessionFactory {
  const session: LoadSession = {
    async iterate(signal: AbortSignal): Promise<IterationResult> {
      try {
        return iterationResult(await run(signal));
      } catch (error) {
        const e = describeError(error);
        return { ok: false, error: e.code ?? e.name };
      }
    },
    close: () => Promise.resolve(),
  };
  return () => Promise.resolve(session);
}

/** An outcome as the recorder counts it: bytes sent and received, the error's code or name. */
export function iterationResult(outcome: Outcome): IterationResult {
  const m = outcome.metrics ?? {};
  const bytes = (finite(m.bytes_sent) + finite(m.bytes_received)) || finite(m.bytes);
  return outcome.ok
    ? { ok: true, bytes }
    : { ok: false, bytes, error: outcome.error?.code ?? outcome.error?.name ?? "Failed" };
}

function finite(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}
