/**
 * DNS messages (RFC 1035) in network byte order: {@linkcode encodeQuery}
 * builds a query with wiretest's `pack`, {@linkcode decodeMessage} reads a
 * response — header, questions, and records with compressed names —
 * checking every length against the bytes that are really there.
 *
 * @module
 */
import { ByteReader, ByteWriter, calcSize, pack, unpack } from "@wiretest/wiretest/codec";

/** Record types this plugin names; others are kept by number, their data as hex. */
export const RECORD_TYPES: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
};

/** Response codes by number (RFC 1035 and RFC 6895). */
export const RCODES: readonly string[] = [
  "NOERROR",
  "FORMERR",
  "SERVFAIL",
  "NXDOMAIN",
  "NOTIMP",
  "REFUSED",
  "YXDOMAIN",
  "YXRRSET",
  "NXRRSET",
  "NOTAUTH",
  "NOTZONE",
];

const CLASS_IN = 1;
const HEADER_SIZE = 12;
const MAX_NAME_LENGTH = 255;
const MAX_LABEL_LENGTH = 63;
const names = Object.fromEntries(Object.entries(RECORD_TYPES).map(([k, v]) => [v, k]));

/**
 * A DNS message was malformed: too short, a length past its end, a
 * compression pointer loop, a reserved label type.
 *
 * @example A protocol violation is a `SyntaxError`
 * ```ts
 * import { DnsProtocolError } from "./dns_message.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new DnsProtocolError("a compression pointer loops");
 * assert.ok(err instanceof SyntaxError);
 * assert.equal(err.code, "protocol");
 * assert.equal(err.message, "Cannot parse DNS message: a compression pointer loops");
 * ```
 */
export class DnsProtocolError extends SyntaxError {
  /** Always `"protocol"`, for `error.code` in outcomes. */
  readonly code: "protocol" = "protocol";

  /**
   * Creates the error.
   *
   * @param detail What was wrong.
   * @param options The cause.
   */
  constructor(detail: string, options: ErrorOptions = {}) {
    super(`Cannot parse DNS message: ${detail}`, options);
    this.name = "DnsProtocolError";
  }
}

/** What {@linkcode encodeQuery} sends. */
export interface DnsQuery {
  /** Message identifier, 0–65535; the response carries it back. */
  id: number;
  /** The name asked about, e.g. `example.com` (a final dot is optional). */
  name: string;
  /** Record type: a name from {@linkcode RECORD_TYPES} or a number. */
  type: string | number;
  /** Ask the server to recurse (the RD flag). Default `true`. */
  recursionDesired?: boolean;
}

/** One resource record of a response. */
export interface DnsRecord {
  /** The owner name, without the final dot. */
  name: string;
  /** Its type, by name when known (`"A"`), else `"TYPE99"`. */
  type: string;
  /** Its class (1 is IN). */
  class: number;
  /** Seconds it may be cached. */
  ttl: number;
  /**
   * Its data: an address for A and AAAA, a name for NS, CNAME and PTR,
   * `"<preference> <exchange>"` for MX, the strings quoted for TXT (`"\"a b\" \"c\""`),
   * `"<priority> <weight> <port> <target>"` for SRV, the SOA fields joined by spaces,
   * hexadecimal for other types.
   */
  data: string;
}

/** A decoded DNS message. */
export interface DnsMessage {
  /** The identifier. */
  id: number;
  /** `true` for a response (the QR flag). */
  response: boolean;
  /** The opcode (0 is a standard query). */
  opcode: number;
  /** Authoritative answer (AA). */
  authoritative: boolean;
  /** Truncated (TC): the answer did not fit, ask again over TCP. */
  truncated: boolean;
  /** Recursion desired (RD), echoed from the query. */
  recursionDesired: boolean;
  /** Recursion available (RA). */
  recursionAvailable: boolean;
  /** The response code by name (`"NOERROR"`, `"NXDOMAIN"`…), or `"RCODE<n>"`. */
  rcode: string;
  /** The questions, as `{ name, type }`. */
  questions: { name: string; type: string }[];
  /** The answer section. */
  answers: DnsRecord[];
  /** The authority section. */
  authorities: DnsRecord[];
  /** The additional section. */
  additionals: DnsRecord[];
}

/**
 * Encodes a standard query with one question, class IN.
 *
 * @param query Identifier, name, type and the RD flag.
 * @returns The message bytes.
 * @throws {TypeError} When the name is not ASCII labels, or the type is unknown.
 * @throws {RangeError} When a label is longer than 63 bytes, the name longer
 * than 255, or the id outside 0–65535.
 *
 * @example The header in network byte order
 * ```ts
 * import { encodeQuery } from "./dns_message.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeQuery({ id: 0x1234, name: "test.local", type: "A" });
 * assert.deepEqual([...bytes.subarray(0, 4)], [0x12, 0x34, 0x01, 0x00]); // id, RD set
 * assert.equal(bytes.length, 12 + 12 + 4); // header, 4test5local0, type and class
 * ```
 */
export function encodeQuery(query: DnsQuery): Uint8Array {
  const type = typeNumber(query.type);
  const flags = query.recursionDesired === false ? 0x0000 : 0x0100;
  if (!Number.isInteger(query.id) || query.id < 0 || query.id > 0xffff) {
    throw new RangeError(`Cannot encode DNS query: id "${query.id}" is not in 0-65535`);
  }
  return new ByteWriter({ capacity: HEADER_SIZE + query.name.length + 6 })
    .bytes(pack(">HHHHHH", query.id, flags, 1, 0, 0, 0))
    .bytes(encodeName(query.name))
    .bytes(pack(">HH", type, CLASS_IN))
    .toBytes();
}

/**
 * Decodes a DNS message.
 *
 * @param bytes The datagram.
 * @returns The message.
 * @throws {DnsProtocolError} When it is malformed.
 *
 * @example An answer with a compressed name, as dnsmasq sends it
 * ```ts
 * import { decodeMessage } from "./dns_message.ts";
 * import assert from "node:assert/strict";
 *
 * const hex = "1234858000010001000000000474657374056c6f63616c0000010001" +
 *   "c00c000100010000000000040a010203";
 * const bytes = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
 * const message = decodeMessage(bytes);
 * assert.equal(message.rcode, "NOERROR");
 * assert.deepEqual(message.answers, [
 *   { name: "test.local", type: "A", class: 1, ttl: 0, data: "10.1.2.3" },
 * ]);
 * ```
 */
export function decodeMessage(bytes: Uint8Array): DnsMessage {
  if (bytes.length < HEADER_SIZE) {
    throw new DnsProtocolError(`${bytes.length} bytes is shorter than a header (12)`);
  }
  const [id, flags, qd, an, ns, ar] = unpack(">HHHHHH", bytes.subarray(0, HEADER_SIZE)) as number[];
  let offset = HEADER_SIZE;
  const questions: { name: string; type: string }[] = [];
  for (let i = 0; i < qd; i++) {
    const name = decodeName(bytes, offset);
    const [type] = fields(bytes, name.next, ">HH", "question") as number[];
    questions.push({ name: name.name, type: typeName(type) });
    offset = name.next + 4;
  }
  const section = (count: number): DnsRecord[] => {
    const records: DnsRecord[] = [];
    for (let i = 0; i < count; i++) {
      const owner = decodeName(bytes, offset);
      const [type, klass, ttl, length] = fields(bytes, owner.next, ">HHIH", "record") as number[];
      const start = owner.next + 10;
      if (start + length > bytes.length) {
        throw new DnsProtocolError(
          `record data of ${length} bytes runs past the end of the message at byte ${start}`,
        );
      }
      let data: string;
      try {
        data = recordData(bytes, type, start, length);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        throw new DnsProtocolError(`${typeName(type)} data at byte ${start} is cut short`, {
          cause: error,
        });
      }
      records.push({ name: owner.name, type: typeName(type), class: klass, ttl, data });
      offset = start + length;
    }
    return records;
  };
  const answers = section(an);
  const authorities = section(ns);
  const additionals = section(ar);
  const rcode = flags & 0x0f;
  return {
    id,
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0x0f,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    rcode: RCODES[rcode] ?? `RCODE${rcode}`,
    questions,
    answers,
    authorities,
    additionals,
  };
}

function typeNumber(type: string | number): number {
  const n = typeof type === "number" ? type : RECORD_TYPES[type.toUpperCase()];
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > 0xffff) {
    throw new TypeError(`Cannot encode DNS query: record type "${type}" is not known`);
  }
  return n;
}

function typeName(type: number): string {
  return names[type] ?? `TYPE${type}`;
}

function encodeName(name: string): Uint8Array {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  if (!/^[\x21-\x7e]*$/.test(trimmed)) {
    throw new TypeError(`Cannot encode DNS name "${name}": it is not printable ASCII`);
  }
  const labels = trimmed === "" ? [] : trimmed.split(".");
  const writer = new ByteWriter({ capacity: trimmed.length + 2 });
  for (const label of labels) {
    if (label.length === 0 || label.length > MAX_LABEL_LENGTH) {
      throw new RangeError(
        `Cannot encode DNS name "${name}": label "${label}" is not 1-${MAX_LABEL_LENGTH} bytes`,
      );
    }
    writer.u8(label.length).string(label);
  }
  writer.u8(0);
  if (writer.length > MAX_NAME_LENGTH) {
    throw new RangeError(
      `Cannot encode DNS name "${name}": ${writer.length} bytes exceeds the limit of ${MAX_NAME_LENGTH}`,
    );
  }
  return writer.toBytes();
}

/**
 * Reads a possibly compressed name at `offset`; `next` is where the data
 * after it starts (after the first pointer, when there is one).
 */
function decodeName(bytes: Uint8Array, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = offset;
  let next = -1;
  let length = 0;
  // Each pointer must go backwards, so a chain of them ends.
  let limit = offset;
  while (true) {
    if (at >= bytes.length) throw new DnsProtocolError(`a name runs past the end at byte ${at}`);
    const size = bytes[at];
    if (size === 0) {
      if (next < 0) next = at + 1;
      break;
    }
    const kind = size & 0xc0;
    if (kind === 0xc0) {
      if (at + 1 >= bytes.length) throw new DnsProtocolError(`a pointer is cut at byte ${at}`);
      const target = ((size & 0x3f) << 8) | bytes[at + 1];
      if (target >= limit) {
        throw new DnsProtocolError(`a compression pointer at byte ${at} does not point backwards`);
      }
      if (next < 0) next = at + 2;
      limit = target;
      at = target;
      continue;
    }
    if (kind !== 0) {
      throw new DnsProtocolError(`label type 0x${kind.toString(16)} at byte ${at} is reserved`);
    }
    if (at + 1 + size > bytes.length) {
      throw new DnsProtocolError(`a label runs past the end of the message at byte ${at}`);
    }
    length += size + 1;
    if (length > MAX_NAME_LENGTH) {
      throw new DnsProtocolError(`a name is longer than ${MAX_NAME_LENGTH} bytes`);
    }
    labels.push(new TextDecoder().decode(bytes.subarray(at + 1, at + 1 + size)));
    at += 1 + size;
  }
  return { name: labels.join("."), next };
}

function fields(bytes: Uint8Array, at: number, format: string, what: string): unknown[] {
  try {
    return unpack(format, bytes.subarray(at, at + calcSize(format)));
  } catch (error) {
    throw new DnsProtocolError(`a ${what} is cut short at byte ${at}`, { cause: error });
  }
}

function recordData(bytes: Uint8Array, type: number, start: number, length: number): string {
  const data = bytes.subarray(start, start + length);
  const expect = (size: number) => {
    if (length !== size) {
      throw new DnsProtocolError(`${typeName(type)} data is ${length} bytes, not ${size}`);
    }
  };
  switch (type) {
    case 1:
      expect(4);
      return [...data].join(".");
    case 28: {
      expect(16);
      const reader = new ByteReader(data);
      const groups = Array.from({ length: 8 }, () => reader.u16().toString(16));
      return compressIpv6(groups);
    }
    case 2:
    case 5:
    case 12:
      return decodeName(bytes, start).name;
    case 15: {
      const [preference] = fields(bytes, start, ">H", "MX record") as number[];
      return `${preference} ${decodeName(bytes, start + 2).name}`;
    }
    case 33: {
      const [priority, weight, port] = unpack(">HHH", data.subarray(0, 6)) as number[];
      return `${priority} ${weight} ${port} ${decodeName(bytes, start + 6).name}`;
    }
    case 16: {
      const strings: string[] = [];
      for (let i = 0; i < data.length;) {
        const size = data[i];
        if (i + 1 + size > data.length) {
          throw new DnsProtocolError(`a TXT string runs past its record`);
        }
        strings.push(new TextDecoder().decode(data.subarray(i + 1, i + 1 + size)));
        i += 1 + size;
      }
      return strings.map((text) => JSON.stringify(text)).join(" ");
    }
    case 6: {
      const mname = decodeName(bytes, start);
      const rname = decodeName(bytes, mname.next);
      const numbers = unpack(">IIIII", bytes.subarray(rname.next, rname.next + 20));
      return [mname.name, rname.name, ...numbers].join(" ");
    }
    default:
      return [...data].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
}

// The shortest text form (RFC 5952): the longest run of zero groups becomes "::".
function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLength).join(":")}`;
}
