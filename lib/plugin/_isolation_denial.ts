// Recognising a permission the process's grant did not cover (inside the
// process), and saying so in terms of the manifest entry (in the parent).
import type { OutcomeError } from "./types.ts";
import type { PluginPermissions } from "./manifest.ts";
import type { Denial } from "./_isolation_protocol.ts";
import { libcPath } from "../_internal/libc_path.ts";

// Deno 2 raises NotCapable for its own permission checks; Deno 1 raised
// PermissionDenied for them (and for the kernel's, so the message decides).
const NOT_CAPABLE: (new (...args: never[]) => Error) | undefined =
  (Deno.errors as unknown as Record<string, new (...args: never[]) => Error>).NotCapable;

// Deno's wording: `Requires net access to "127.0.0.2:80", run again with …`.
const REQUIRES = /^Requires (\w+) access(?: to "(.*?)")?/;

// wiretest's own wording for a runtime denial (PermissionDeniedError).
const WIRETEST_DENIAL =
  /^Cannot (\w+) (?:(?:to|from|on|with) )?(.+?): permission denied by the Deno runtime/;

const MAX_DEPTH = 8;

function isRuntimeDenial(error: Error): boolean {
  if (NOT_CAPABLE) return error instanceof NOT_CAPABLE;
  return error instanceof Deno.errors.PermissionDenied && REQUIRES.test(error.message);
}

function parse(message: string, operation?: string): Denial {
  const match = REQUIRES.exec(message);
  const denial: Denial = match
    ? { permission: match[1], ...(match[2] === undefined ? {} : { target: match[2] }) }
    : { permission: "unknown", detail: message };
  if (operation !== undefined) denial.operation = operation;
  return denial;
}

/**
 * The runtime permission denial behind an error, looking through its
 * `cause` chain (transports wrap Deno's error in a `PermissionDeniedError`).
 */
export function denialOf(error: unknown): Denial | undefined {
  let current = error;
  let operation: string | undefined;
  for (let depth = 0; depth < MAX_DEPTH && current instanceof Error; depth++) {
    const op = (current as { operation?: unknown }).operation;
    if (operation === undefined && typeof op === "string") operation = op;
    if (isRuntimeDenial(current)) return parse(current.message, operation);
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The runtime permission denial an outcome's error describes. Plugins turn
 * errors into plain data themselves (`describeError`), losing the cause, so
 * this reads the two wordings a runtime denial can have and asks the
 * process's permissions which grant was missing.
 */
export function denialInOutcome(error: OutcomeError): Denial | undefined {
  if (error.name === "NotCapable" || REQUIRES.test(error.message)) return parse(error.message);
  const match = WIRETEST_DENIAL.exec(error.message);
  if (!match) return undefined;
  const [, operation, address] = match;
  if (!address.startsWith("unix:")) return { permission: "net", target: address, operation };
  const path = address.slice("unix:".length);
  const read = Deno.permissions.querySync({ name: "read", path }).state === "granted";
  return { permission: read ? "write" : "read", target: path, operation };
}

/** How an entry's grant for one permission reads in a message. */
export function describeGrant(permissions: PluginPermissions, name: string): string {
  const value = (permissions as Record<string, unknown>)[name];
  if (value === true) return `grants ${name}: all`;
  if (name === "ffi" && Array.isArray(value) && value.includes("libc")) {
    // The grant is libc's real path alone: a link to it (/lib on merged /usr) is refused.
    const libc = libcPath();
    return `grants ffi: libc${libc === undefined ? "" : `, at "${libc}" only`}`;
  }
  if (Array.isArray(value) && value.length > 0) return `grants ${name}: ${value.join(", ")}`;
  return `grants no ${name} access`;
}

/** Everything an entry grants, for a message about a denial Deno did not explain. */
export function describeGrants(permissions: PluginPermissions): string {
  const granted = Object.keys(permissions).filter((name) => {
    const value = (permissions as Record<string, unknown>)[name];
    return value === true || (Array.isArray(value) && value.length > 0);
  });
  const parts = granted.map((name) => describeGrant(permissions, name).slice("grants ".length));
  return parts.length === 0 ? "grants nothing" : `grants ${parts.join("; ")}`;
}

/** `permission denied: net access to "127.0.0.2:80" is not granted by its manifest entry (grants net: 127.0.0.1)`. */
export function denialDetail(permissions: PluginPermissions, denial: Denial): string {
  if (denial.permission === "unknown") {
    return `permission denied: ${denial.detail} (its manifest entry ${
      describeGrants(permissions)
    })`;
  }
  if (denial.permission === "all") {
    // Deno's own rule for files such as /proc/self/environ: no grant of a manifest covers it.
    return `permission denied: access to ${
      denial.target === undefined ? "this" : `"${denial.target}"`
    } needs every permission (Deno's --allow-all), which no manifest entry can grant`;
  }
  const what = denial.target === undefined
    ? `${denial.permission} access`
    : `${denial.permission} access to "${denial.target}"`;
  return `permission denied: ${what} is not granted by its manifest entry (${
    describeGrant(permissions, denial.permission)
  })`;
}

const DESCRIPTOR_KEY: Record<string, string> = {
  net: "host",
  read: "path",
  write: "path",
  env: "variable",
  sys: "kind",
};

/**
 * The first permission an entry grants that this process does not have: a
 * plugin's process is given no more than this one has, and naming the grant
 * beats Deno's wording.
 */
export function missingInParent(permissions: PluginPermissions): Denial | undefined {
  for (const [name, key] of Object.entries(DESCRIPTOR_KEY)) {
    const value = (permissions as Record<string, unknown>)[name];
    const items = value === true ? [undefined] : Array.isArray(value) ? value as string[] : [];
    for (const item of items) {
      const descriptor =
        (item === undefined ? { name } : { name, [key]: item }) as Deno.PermissionDescriptor;
      if (Deno.permissions.querySync(descriptor).state !== "granted") {
        return item === undefined ? { permission: name } : { permission: name, target: item };
      }
    }
  }
  return undefined;
}
