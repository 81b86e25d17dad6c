/**
 * Running plugin roles from code: {@linkcode runClient} and
 * {@linkcode startServer} validate params, build the context, and turn
 * failures into an {@linkcode Outcome}.
 *
 * @module
 */
import { createContext, type CreateContextOptions } from "./context.ts";
import { type ParamsSchema, validateParams } from "./params_schema.ts";

// Kept importable from here, where it was first declared.
export { ParamsError, type ParamsIssue } from "./params_schema.ts";
import type { ClientRole, Outcome, OutcomeError, Plugin, ServerRole, Service } from "./types.ts";

/**
 * Validates params against a role's schema.
 *
 * @param plugin The plugin (for the message).
 * @param role `"server"` or `"client"`.
 * @param schema The role's params schema.
 * @param input The raw params (from a fixture, the CLI or code).
 * @returns The parsed params, defaults filled in.
 * @throws {TypeError} Naming every field that is wrong.
 *
 * @example Rejecting a bad field
 * ```ts
 * import { parseParams } from "./run.ts";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const schema = z.object({ count: z.number().int().positive() });
 * assert.throws(
 *   () => parseParams({ name: "echo" }, "client", schema, { count: -1 }),
 *   /Cannot use params for plugin "echo" \(client\): "count"/,
 * );
 * ```
 */
export function parseParams<T>(
  plugin: Pick<Plugin, "name">,
  role: "server" | "client",
  schema: ParamsSchema<T>,
  input: unknown,
): T {
  return validateParams(schema, input, `plugin "${plugin.name}" (${role})`);
}

/**
 * Describes an error for an {@linkcode Outcome}: name, message and code.
 *
 * @param error What was thrown.
 * @returns A serialisable description.
 *
 * @example Describing a typed error
 * ```ts
 * import { ConnectionError } from "@wiretest/wiretest";
 * import { describeError } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const e = new ConnectionError({ code: "reset", operation: "read", address: "127.0.0.1:1" });
 * assert.deepEqual(describeError(e), { name: "ConnectionError", message: e.message, code: "reset" });
 * ```
 */
export function describeError(error: unknown): OutcomeError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string"
      ? { name: error.name, message: error.message, code }
      : { name: error.name, message: error.message };
  }
  return { name: "Error", message: String(error) };
}

/** Options for {@linkcode runClient} and {@linkcode startServer}. */
export type RunOptions = CreateContextOptions;

/**
 * Runs a plugin's client role: validates `input`, runs with a context built
 * from `options`, and returns the {@linkcode Outcome}. A failed exchange
 * (refused, timed out, wrong bytes…) does not throw: it comes back as
 * `ok: false` with `error` set, and whatever metrics were gathered.
 *
 * @param plugin A plugin with a client role.
 * @param input Params for the client role, typed from its schema's input
 * (from a fixture or the CLI they are `unknown` and checked at run time).
 * @param options Timeout, deadline, signal, log and progress sinks.
 * @returns What the client observed.
 * @throws {TypeError} When the plugin has no client role or the params are invalid.
 *
 * @example Running a client role
 * ```ts
 * import { definePlugin, runClient } from "@wiretest/wiretest/plugin";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const fails = definePlugin({
 *   name: "fails",
 *   version: "1.0.0",
 *   description: "Always fails.",
 *   client: { params: z.object({}), run: () => Promise.reject(new RangeError("too big")) },
 * });
 * const outcome = await runClient(fails, {});
 * assert.equal(outcome.ok, false);
 * assert.equal(outcome.error?.name, "RangeError");
 * ```
 */
export async function runClient<C, CI>(
  plugin: Plugin<unknown, C, unknown, CI>,
  input: NoInfer<CI>,
  options: RunOptions = {},
): Promise<Outcome> {
  if (!plugin.client) {
    throw new TypeError(`Cannot run plugin "${plugin.name}": it has no client role`);
  }
  const params = parseParams(plugin, "client", plugin.client.params, input);
  return await runClientRole(plugin.client, params, options);
}

/**
 * Runs a client role with params already validated (by the in-process
 * executor, once, at prepare): builds the context and turns a throw into
 * an `ok: false` outcome. Not public: `runClient` is.
 */
export async function runClientRole<C>(
  role: ClientRole<C, unknown>,
  params: C,
  options: RunOptions = {},
): Promise<Outcome> {
  using ctx = createContext(options);
  try {
    return await role.run(params, ctx);
  } catch (error) {
    return { ok: false, metrics: {}, facts: {}, error: describeError(error) };
  }
}

/**
 * Starts a plugin's server role after validating `input`.
 *
 * @param plugin A plugin with a server role.
 * @param input Params for the server role, typed from its schema's input.
 * @param options Signal (closing the service when it aborts), log and progress sinks.
 * @returns The running service; close it when done.
 * @throws {TypeError} When the plugin has no server role or the params are invalid.
 *
 * @example Starting and stopping a service
 * ```ts
 * import { definePlugin, startServer } from "@wiretest/wiretest/plugin";
 * import { listenTcp } from "@wiretest/wiretest/transport";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const sink = definePlugin({
 *   name: "sink",
 *   version: "1.0.0",
 *   description: "Accepts nothing, listens only.",
 *   server: {
 *     params: z.object({}),
 *     serve: () => {
 *       const listener = listenTcp();
 *       return Promise.resolve({
 *         address: listener.addr,
 *         stats: () => ({}),
 *         close: () => Promise.resolve(listener.close()),
 *       });
 *     },
 *   },
 * });
 * const service = await startServer(sink, {});
 * assert.equal(service.address.transport, "tcp");
 * await service.close();
 * ```
 */
export async function startServer<S, SI>(
  plugin: Plugin<S, unknown, SI, unknown>,
  input: NoInfer<SI>,
  options: Omit<RunOptions, "timeout" | "deadline"> = {},
): Promise<Service> {
  if (!plugin.server) {
    throw new TypeError(`Cannot start plugin "${plugin.name}": it has no server role`);
  }
  const params = parseParams(plugin, "server", plugin.server.params, input);
  return await startServerRole(plugin.server, params, options);
}

/**
 * Starts a server role with params already validated (by the in-process
 * executor, once, at prepare); aborting `options.signal` closes the service.
 * Not public: `startServer` is.
 */
export async function startServerRole<S>(
  role: ServerRole<S, unknown>,
  params: S,
  options: Omit<RunOptions, "timeout" | "deadline"> = {},
): Promise<Service> {
  const ctx = createContext(options);
  let service: Service;
  try {
    service = await role.serve(params, ctx);
  } catch (error) {
    ctx[Symbol.dispose]();
    throw error;
  }
  const close = service.close.bind(service);
  let closing: Promise<void> | undefined;
  const onAbort = () => void (closing ??= close());
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  return {
    address: service.address,
    stats: () => service.stats(),
    ...(service.facts ? { facts: service.facts } : {}),
    close: () => {
      ctx.signal.removeEventListener("abort", onAbort);
      ctx[Symbol.dispose]();
      return closing ??= close();
    },
  };
}
