// A client outcome (and a service's address) as an isolated plugin's process sends it, checked before
// the host uses it: the process runs the plugin's code, which can write
// frames of its own on the socket to the host (tests/fixtures/frame_forger).
// What the child itself sends always passes (runClientRole's outcome, cloned).
import { isRecord } from "../_internal/is_record.ts";
import type { Outcome, Service } from "./types.ts";

/**
 * How deep an outcome's facts may nest: far deeper than any plugin's, and
 * shallow enough for every reporter's JSON.stringify and the fixture
 * runner's comparisons, which recurse.
 */
export const MAX_FACT_DEPTH = 64;

/**
 * The outcome, or a TypeError naming the field that is not an outcome's:
 * `ok` a boolean, `metrics` numbers by name, `facts` a record nested at most
 * {@linkcode MAX_FACT_DEPTH} deep, `error` (when there is one) a name and a
 * message.
 */
export function checkedOutcome(value: unknown, plugin: string): Outcome {
  const fail = (field: string): never => {
    throw new TypeError(
      `Cannot run plugin "${plugin}": its process sent a malformed outcome ("${field}")`,
    );
  };
  if (!isRecord(value)) fail("outcome");
  const outcome = value as Record<string, unknown>;
  if (typeof outcome.ok !== "boolean") fail("ok");
  if (!isRecord(outcome.metrics)) fail("metrics");
  // for-in with hasOwn: Object.entries' names, without its arrays (each probe's outcome).
  const metrics = outcome.metrics as Record<string, unknown>;
  for (const name in metrics) {
    if (Object.hasOwn(metrics, name) && typeof metrics[name] !== "number") fail(`metrics.${name}`);
  }
  if (!isRecord(outcome.facts)) fail("facts");
  if (!shallow(outcome.facts, 0)) fail("facts");
  const error = outcome.error;
  if (error !== undefined) {
    if (!isRecord(error)) fail("error");
    const e = error as Record<string, unknown>;
    if (typeof e.name !== "string") fail("error.name");
    if (typeof e.message !== "string") fail("error.message");
    if (e.code !== undefined && typeof e.code !== "string") fail("error.code");
  }
  return value as unknown as Outcome;
}

// Whether no object under `value` is more than MAX_FACT_DEPTH levels down
// (the walk itself stops there, so it cannot overflow the stack).
function shallow(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (depth >= MAX_FACT_DEPTH) return false;
  if (ArrayBuffer.isView(value)) return true;
  if (Array.isArray(value)) {
    for (const child of value) {
      if (!shallow(child, depth + 1)) return false;
    }
    return true;
  }
  const record = value as Record<string, unknown>;
  for (const name in record) {
    if (Object.hasOwn(record, name) && !shallow(record[name], depth + 1)) return false;
  }
  return true;
}

/**
 * A started service's address, or a TypeError: TCP or UDP with an IP
 * hostname string and a port (0–65535), or Unix with a path.
 */
export function checkedAddress(value: unknown, plugin: string): Service["address"] {
  const fail = (field: string): never => {
    throw new TypeError(
      `Cannot start plugin "${plugin}": its process sent a malformed address ("${field}")`,
    );
  };
  if (!isRecord(value)) fail("address");
  const address = value as Record<string, unknown>;
  if (address.transport === "unix") {
    if (typeof address.path !== "string") fail("path");
    return { transport: "unix", path: address.path as string };
  }
  if (address.transport !== "tcp" && address.transport !== "udp") fail("transport");
  if (typeof address.hostname !== "string") fail("hostname");
  const port = address.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65_535) {
    fail("port");
  }
  return {
    transport: address.transport as "tcp" | "udp",
    hostname: address.hostname as string,
    port: port as number,
  };
}

/** Facts of a service shown at most, and characters of one name or value. */
export const MAX_SERVICE_FACTS = 16;
const MAX_SERVICE_FACT_TEXT = 500;

/**
 * A started service's facts, or a TypeError: at most
 * {@linkcode MAX_SERVICE_FACTS} strings by name, each name and value at most
 * 500 characters. Built on a null prototype: the names come from the plugin.
 */
export function checkedFacts(value: unknown, plugin: string): Record<string, string> {
  const fail = (field: string): never => {
    throw new TypeError(
      `Cannot start plugin "${plugin}": its process sent malformed service facts ("${field}")`,
    );
  };
  if (!isRecord(value)) fail("facts");
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_SERVICE_FACTS) fail("facts");
  const facts: Record<string, string> = Object.create(null);
  for (const [name, fact] of entries) {
    if (name.length > MAX_SERVICE_FACT_TEXT) fail("facts");
    if (typeof fact !== "string" || fact.length > MAX_SERVICE_FACT_TEXT) fail(`facts.${name}`);
    facts[name] = fact as string;
  }
  return facts;
}
