/**
 * {@linkcode PluginPermissionError}: an isolated plugin reached for a host,
 * path or API its manifest entry does not grant.
 *
 * @module
 */
import { PermissionDeniedError } from "../errors.ts";
import type { PluginPermissions } from "./manifest.ts";
import { denialDetail } from "./_isolation_denial.ts";

/** What {@linkcode PluginPermissionError} is built from. */
export interface PluginPermissionErrorOptions {
  /** The plugin's name. */
  plugin: string;
  /** Deno's permission name: `"net"`, `"read"`, `"write"`, `"env"`, `"sys"`… */
  permission: string;
  /** What was asked for (`"127.0.0.2:80"`, `"/etc/hosts"`), when known. */
  target?: string;
  /** What the plugin's manifest entry grants. */
  granted: PluginPermissions;
  /** The operation, when known (`"connect"`). */
  operation?: string;
  /** Deno's own message, used when it names no permission wiretest can read. */
  detail?: string;
  /** The original error. */
  cause?: unknown;
}

/**
 * An isolated plugin (see `runIsolatedClient`) reached for something its
 * manifest entry does not grant, and the Deno runtime refused it. The message
 * names the plugin, the permission and what the entry grants.
 *
 * Its `name` is `"PermissionDeniedError"`, like the error the same plugin
 * gets when it runs in-process without the permission, so an expectation on
 * `error.name` holds either way; `instanceof PermissionDeniedError` holds too.
 *
 * @example Reading the denied permission
 * ```ts
 * import { PluginPermissionError } from "@wiretest/wiretest/host";
 * import { PermissionDeniedError } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const err = new PluginPermissionError({
 *   plugin: "x",
 *   permission: "net",
 *   target: "127.0.0.2:80",
 *   granted: { net: ["127.0.0.1"] },
 * });
 * assert.equal(
 *   err.message,
 *   'Cannot run plugin "x": permission denied: net access to "127.0.0.2:80" is not granted by its manifest entry (grants net: 127.0.0.1)',
 * );
 * assert.ok(err instanceof PermissionDeniedError);
 * assert.equal(err.permission, "net");
 * ```
 */
export class PluginPermissionError extends PermissionDeniedError {
  /** The plugin's name. */
  readonly plugin: string;
  /** Deno's name of the permission that was refused. */
  readonly permission: string;
  /** What was asked for, when Deno said. */
  readonly target?: string;
  /** What the plugin's manifest entry grants. */
  readonly granted: PluginPermissions;

  /**
   * Creates the error.
   *
   * @param options The plugin, the refused permission and target, and the entry's grant.
   */
  constructor(options: PluginPermissionErrorOptions) {
    super({
      operation: options.operation ?? options.permission,
      address: options.target ?? "",
      source: "runtime",
      cause: options.cause,
    });
    this.message = `Cannot run plugin "${options.plugin}": ${
      denialDetail(options.granted, options)
    }`;
    this.plugin = options.plugin;
    this.permission = options.permission;
    if (options.target !== undefined) this.target = options.target;
    this.granted = options.granted;
  }
}
