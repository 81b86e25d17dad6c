/**
 * A third-party plugin's grants as reporters show them in a run's header.
 *
 * @module
 */
import type { PluginGrant } from "../runner/events.ts";
import { escapeControls } from "./_format.ts";

/**
 * What a plugin may do, in one line: `net 127.0.0.1; read (all)`, or
 * `nothing`.
 *
 * @param grant The plugin's grant.
 * @returns The text, control characters escaped.
 */
export function grantsText(grant: PluginGrant): string {
  const parts = Object.entries(grant.permissions).map(([kind, value]) =>
    value === true ? `${kind} (all)` : `${kind} ${value.join(", ")}`
  );
  return escapeControls(parts.length === 0 ? "nothing" : parts.join("; "));
}

/**
 * One line naming a plugin, its manifest, who uses it and what it may do:
 * `plugin "greet" from plugins/manifest.json (for a.wire.yaml) may use: net 127.0.0.1`.
 *
 * @param grant The plugin's grant.
 * @returns The line, control characters escaped.
 */
export function grantLine(grant: PluginGrant): string {
  const users = grant.fixtures ? `for ${grant.fixtures.join(", ")}` : "for every fixture";
  return escapeControls(`plugin "${grant.name}" from ${grant.manifest} (${users}) may use: `) +
    grantsText(grant);
}

/**
 * The grants that concern one fixture file: those of its own manifests and
 * of the run's.
 *
 * @param grants Every grant of the run.
 * @param file The fixture file.
 * @returns The grants.
 */
export function grantsFor(grants: readonly PluginGrant[], file: string): PluginGrant[] {
  return grants.filter((g) => g.fixtures === undefined || g.fixtures.includes(file));
}
