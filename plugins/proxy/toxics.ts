/**
 * The toxics a proxy applies, with toxiproxy's names, attributes and units
 * for TCP and wiretest's own for UDP, and the validation of a toxic written
 * as toxiproxy's JSON (`{ name, type, stream, toxicity, attributes }`).
 *
 * @module
 */
import { ProxyApiError } from "./proxy_api_error.ts";
import { urlNameProblem } from "./_url_name.ts";

/** Which way a toxic acts: `upstream` is client to server, `downstream` server to client. */
export type ToxicStream = "upstream" | "downstream";

/** The protocol a proxy relays. */
export type ProxyProtocol = "tcp" | "udp";

/** A toxic as the control API shows it (toxiproxy's JSON shape). */
export interface Toxic {
  /** Attributes of its type, every one present (defaults filled in). */
  attributes: Record<string, number>;
  /** Unique within its proxy; defaults to `<type>_<stream>`. */
  name: string;
  /** One of {@linkcode TCP_TOXICS} or {@linkcode UDP_TOXICS}. */
  type: string;
  /** The direction it acts on. */
  stream: ToxicStream;
  /** Probability (0–1) that it applies: per connection for TCP, per datagram for UDP. */
  toxicity: number;
}

/** What a user writes: everything but `type` optional. */
export interface ToxicInput {
  /** Name; defaults to `<type>_<stream>`. */
  name?: string;
  /** Toxic type. */
  type: string;
  /** `downstream` (default) or `upstream`. */
  stream?: ToxicStream;
  /** Probability it applies (default 1). */
  toxicity?: number;
  /** Attributes of the type; missing ones are 0 unless the type says otherwise. */
  attributes?: Record<string, number>;
}

/** What values a toxic attribute takes. */
export interface AttributeSpec {
  /** Default value. */
  readonly default: number;
  /** Largest value accepted. */
  readonly max: number;
  /** Whether a fraction is accepted (probabilities) or only integers. */
  readonly fraction?: boolean;
}

const DAY_MS = 86_400_000;
const ms: AttributeSpec = { default: 0, max: DAY_MS };
const probability: AttributeSpec = { default: 0, max: 1, fraction: true };

/**
 * TCP toxics, as toxiproxy defines them: `latency` (ms), `jitter` (ms),
 * `rate` (KB/s, 1 KB = 1000 bytes), `delay` (ms; slicer: µs), `timeout` (ms),
 * sizes in bytes.
 */
export const TCP_TOXICS: Readonly<Record<string, Readonly<Record<string, AttributeSpec>>>> = {
  latency: { latency: ms, jitter: ms },
  bandwidth: { rate: { default: 0, max: 10_000_000 } },
  slow_close: { delay: ms },
  timeout: { timeout: ms },
  reset_peer: { timeout: ms },
  slicer: {
    average_size: { default: 0, max: 1 << 30 },
    size_variation: { default: 0, max: 1 << 30 },
    delay: { default: 0, max: DAY_MS * 1000 },
  },
  limit_data: { bytes: { default: 0, max: Number.MAX_SAFE_INTEGER } },
};

/**
 * UDP toxics: `loss` (`probability`, and `burst`, the mean length of a run of
 * losses: above 1 a Gilbert–Elliott channel with the same mean loss),
 * `duplicate` (`probability`), `reorder` (`probability` that a datagram is
 * held back until `gap` later ones passed or `delay` ms elapsed), `latency`
 * (`latency`, `jitter` ms per datagram), `corrupt` (`probability`, `bits`
 * flipped), `truncate` (`size` bytes kept), `rate` (`datagrams` per second
 * and/or `rate` KB/s; excess waits in a queue of `queue` datagrams, beyond
 * it is dropped).
 */
export const UDP_TOXICS: Readonly<Record<string, Readonly<Record<string, AttributeSpec>>>> = {
  loss: { probability, burst: { default: 1, max: 1_000_000, fraction: true } },
  duplicate: { probability },
  reorder: { probability, gap: { default: 1, max: 10_000 }, delay: { default: 100, max: 60_000 } },
  latency: { latency: ms, jitter: ms },
  corrupt: { probability, bits: { default: 1, max: 8 * 65_535 } },
  truncate: { size: { default: 0, max: 65_535 } },
  rate: {
    datagrams: { default: 0, max: 10_000_000 },
    rate: { default: 0, max: 10_000_000 },
    queue: { default: 1000, max: 100_000 },
  },
};

/** Most toxics one proxy holds: beyond it, adding one is refused (400). */
export const MAX_TOXICS_PER_PROXY = 100;

const NAME = /^[A-Za-z0-9_.\-]{1,100}$/;

/**
 * Checks a toxic written as toxiproxy's JSON and fills in defaults.
 *
 * @param input The parsed JSON body.
 * @param protocol The proxy's protocol: which set of types applies.
 * @returns The toxic.
 * @throws {ProxyApiError} Status 400 for an unknown type or attribute, a
 *   value out of range, a bad stream or toxicity.
 *
 * @example A latency toxic with defaults
 * ```ts
 * import { parseToxic } from "@wiretest/wiretest/plugins/proxy";
 * import assert from "node:assert/strict";
 *
 * const toxic = parseToxic({ type: "latency", attributes: { latency: 100 } }, "tcp");
 * assert.deepEqual(toxic, {
 *   attributes: { latency: 100, jitter: 0 },
 *   name: "latency_downstream",
 *   type: "latency",
 *   stream: "downstream",
 *   toxicity: 1,
 * });
 * assert.throws(() => parseToxic({ type: "latency", attributes: { latency: -1 } }, "tcp"), /-1/);
 * ```
 */
export function parseToxic(input: unknown, protocol: ProxyProtocol): Toxic {
  const body = object(input, "toxic");
  const types = protocol === "tcp" ? TCP_TOXICS : UDP_TOXICS;
  for (const key of Object.keys(body)) {
    if (!["name", "type", "stream", "toxicity", "attributes"].includes(key)) {
      throw badBody(`unknown field "${key}"`);
    }
  }
  const type = body.type;
  if (typeof type !== "string" || !Object.hasOwn(types, type)) {
    throw new ProxyApiError(
      `invalid toxic type: ${JSON.stringify(type)} (${protocol}: ${Object.keys(types).join(", ")})`,
      400,
    );
  }
  const stream = body.stream ?? "downstream";
  if (stream !== "upstream" && stream !== "downstream") {
    throw new ProxyApiError("stream was invalid, can be either upstream or downstream", 400);
  }
  const name = body.name === undefined || body.name === "" ? `${type}_${stream}` : body.name;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw badBody(
      `name must be 1-100 letters, digits, "_", "." or "-", got ${JSON.stringify(name)}`,
    );
  }
  const unreachable = urlNameProblem(name);
  if (unreachable) throw badBody(`name ${JSON.stringify(name)} ${unreachable}`);
  const toxicity = body.toxicity ?? 1;
  if (typeof toxicity !== "number" || !(toxicity >= 0 && toxicity <= 1)) {
    throw badBody(`toxicity must be a number from 0 to 1, got ${JSON.stringify(toxicity)}`);
  }
  return {
    attributes: attributes(types[type], type, body.attributes),
    name,
    type,
    stream,
    toxicity,
  };
}

/**
 * Applies an update (toxiproxy's `POST /proxies/{proxy}/toxics/{toxic}`):
 * `attributes` given replace those named, `toxicity` replaces the old one.
 *
 * @param toxic The toxic now.
 * @param input The parsed JSON body.
 * @param protocol The proxy's protocol.
 * @returns The updated toxic (a new object).
 * @throws {ProxyApiError} Status 400 as {@linkcode parseToxic}.
 *
 * @example Raising the latency
 * ```ts
 * import { parseToxic, updateToxic } from "@wiretest/wiretest/plugins/proxy";
 * import assert from "node:assert/strict";
 *
 * const toxic = parseToxic({ type: "latency", attributes: { latency: 100, jitter: 5 } }, "tcp");
 * assert.deepEqual(updateToxic(toxic, { attributes: { latency: 200 } }, "tcp").attributes, {
 *   latency: 200,
 *   jitter: 5,
 * });
 * ```
 */
export function updateToxic(toxic: Toxic, input: unknown, protocol: ProxyProtocol): Toxic {
  const body = object(input, "toxic");
  for (const key of Object.keys(body)) {
    if (!["name", "type", "stream", "toxicity", "attributes"].includes(key)) {
      throw badBody(`unknown field "${key}"`);
    }
  }
  const merged = {
    ...body,
    name: toxic.name,
    type: toxic.type,
    stream: toxic.stream,
    toxicity: body.toxicity ?? toxic.toxicity,
    attributes: { ...toxic.attributes, ...object(body.attributes ?? {}, "attributes") },
  };
  return parseToxic(merged, protocol);
}

function attributes(
  specs: Readonly<Record<string, AttributeSpec>>,
  type: string,
  input: unknown,
): Record<string, number> {
  const given = object(input ?? {}, "attributes");
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(specs, key)) {
      throw badBody(
        `unknown attribute "${key}" for toxic type "${type}" (it has ${
          Object.keys(specs).join(", ")
        })`,
      );
    }
  }
  const out: Record<string, number> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const value = Object.hasOwn(given, key) ? given[key] : spec.default;
    const ok = typeof value === "number" && Number.isFinite(value) && value >= 0 &&
      value <= spec.max && (spec.fraction === true || Number.isInteger(value));
    if (!ok) {
      throw badBody(
        `attribute "${key}" of "${type}" must be ${
          spec.fraction ? "a number" : "an integer"
        } from 0 to ${spec.max}, got ${JSON.stringify(value)}`,
      );
    }
    out[key] = value as number;
  }
  return out;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badBody(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function badBody(detail: string): ProxyApiError {
  return new ProxyApiError(`bad request body: ${detail}`, 400);
}
