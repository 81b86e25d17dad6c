/**
 * wiretest: test network protocols over the wire.
 *
 * The root is small and stable: the plugin contract ({@linkcode definePlugin}
 * and its types, params and their errors, {@linkcode runClient} /
 * {@linkcode startServer} for a plugin's own tests), the typed network
 * errors, addresses and TCP. Everything else is behind a sub-path by
 * audience:
 *
 * - plugin authors: `./plugin` (the whole contract: outcome declarations,
 *   input files, contexts), `./transport` (TCP, Unix, TLS, serving
 *   connections), `./codec`, `./metrics`, and `./unstable-udp`
 *   (experimental: needs `--unstable-net`);
 * - hosts that run plugins: `./host` (executors, registry, manifests,
 *   isolation);
 * - fixtures: `./fixture` (parsing), `./runner`, `./report`, `./testing`;
 * - the command line: `./cli`; the built-in plugins: `./plugins/<name>`.
 *
 * @example Typed errors name the operation and address
 * ```ts
 * import { ConnectionError, connectTcp, listenTcp } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const listener = listenTcp();
 * const port = listener.addr.port;
 * listener.close();
 * await assert.rejects(connectTcp({ port }), (err: unknown) => {
 *   assert.ok(err instanceof ConnectionError);
 *   assert.equal(err.code, "refused");
 *   return true;
 * });
 * ```
 *
 * @module
 */
export {
  ConnectionError,
  type ConnectionErrorCode,
  type NetErrorOptions,
  type NetOperation,
  PermissionDeniedError,
  TimeoutError,
} from "./lib/errors.ts";
export type {
  ClientRole,
  Context,
  LogLevel,
  Outcome,
  OutcomeError,
  Plugin,
  Progress,
  ServerRole,
  Service,
} from "./lib/plugin/types.ts";
export { definePlugin, type PluginDefinition } from "./lib/plugin/define_plugin.ts";
export {
  type JsonSchemaOptions,
  ParamsError,
  type ParamsInput,
  type ParamsIssue,
  type ParamsOutput,
  type ParamsSchema,
  type SchemaIssue,
  type SchemaResult,
} from "./lib/plugin/params_schema.ts";
export type { CreateContextOptions } from "./lib/plugin/context.ts";
export { runClient, type RunOptions, startServer } from "./lib/plugin/run.ts";
export type {
  Address,
  Conn,
  IoOptions,
  Listener,
  StreamTransport,
  TimingMarks,
} from "./lib/transport/types.ts";
export { formatAddress, type HostPort, parseHostPort } from "./lib/transport/address.ts";
export {
  connectTcp,
  type ConnectTcpOptions,
  listenTcp,
  type ListenTcpOptions,
  type TcpListener,
} from "./lib/transport/tcp.ts";
