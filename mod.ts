/**
 * wiretest: test network protocols over the wire.
 *
 * This module re-exports the stable library API: typed network errors,
 * transports (TCP, Unix, TLS, UDP) with deadlines, framing codecs, latency
 * metrics, the plugin contract, and the registry of the built-in plugins.
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
export * from "./lib/transport/mod.ts";
export * from "./lib/codec/mod.ts";
export * from "./lib/metrics/mod.ts";
export * from "./lib/plugin/mod.ts";
export { builtinRegistry } from "./plugins/manifest.ts";
