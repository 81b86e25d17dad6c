/**
 * For programs that run plugins (hosts): the {@linkcode Executor} that
 * prepares and runs a plugin's roles by name, in-process or isolated; the
 * {@linkcode Registry} of plugins and its manifests; the isolation pool and
 * its errors. Plugin authors need none of this: see
 * `@wiretest/wiretest/plugin`.
 *
 * Isolated plugins run in Deno subprocesses: the host needs `--allow-run`
 * and every permission a plugin is granted.
 *
 * @example Preparing a role once and running it twice
 * ```ts
 * import { builtinRegistry, inProcessExecutor } from "@wiretest/wiretest/host";
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const executor = inProcessExecutor(builtinRegistry());
 * await using server = await executor.prepare("udp-ping", "server", {});
 * const service = await server.serve();
 * await using client = await executor.prepare("udp-ping", "client", {
 *   target: formatAddress(service.address),
 *   count: 2,
 *   intervalMs: 0,
 * });
 * assert.equal((await client.run()).ok, true);
 * assert.equal((await client.run()).ok, true);
 * assert.equal(service.stats().datagrams_in, 4);
 * await service.close();
 * ```
 *
 * @module
 */
export type {
  Executor,
  ExecutorFactory,
  PreparedClient,
  PreparedRole,
  PreparedServer,
  PrepareOptions,
} from "../executor/executor.ts";
export type { RunOptions } from "../plugin/run.ts";
export { inProcessExecutor } from "../executor/in_process_executor.ts";
export { isolatedExecutor, type IsolatedExecutorOptions } from "../executor/isolated_executor.ts";
export {
  PluginLoadError,
  Registry,
  type RegistryOptions,
  UnknownPluginError,
} from "../plugin/registry.ts";
export {
  DEFAULT_MANIFEST_TIMEOUT_MS,
  DEFAULT_MAX_MANIFEST_BYTES,
  loadManifest,
  type LoadManifestOptions,
  type Manifest,
  type ManifestEntry,
  ManifestError,
  type ManifestIssue,
  parseManifest,
  type PluginPermissions,
  type PluginRoleName,
  validateManifest,
} from "../plugin/manifest.ts";
export { type JsonSchema, manifestJsonSchema } from "../plugin/json_schema.ts";
export type { AnyPlugin } from "../plugin/types.ts";
export {
  type ClientRoleDescription,
  DEFAULT_MEMORY_MIB,
  describePlugin,
  IsolationPool,
  type IsolationPoolOptions,
  type PluginDescription,
  PluginMemoryError,
  type PluginMemoryErrorOptions,
  PluginPermissionError,
  type PluginPermissionErrorOptions,
  type RoleDescription,
} from "../plugin/isolation.ts";
export { builtinRegistry } from "../../plugins/manifest.ts";
