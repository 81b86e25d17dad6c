/**
 * The RESP client role: PING, then SET/GET round trips verified byte for
 * byte over one or more connections, with latency percentiles.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type Context, describeError, type Outcome } from "@wiretest/wiretest/plugin";
import { parseHostPort } from "@wiretest/wiretest/transport";
import { LatencyHistogram, summaryMetrics, Throughput } from "@wiretest/wiretest/metrics";
import { RespProtocolError } from "./errors.ts";
import type { RespClientParams } from "./params.ts";
import { RespConnection } from "./resp_connection.ts";
import type { RespValue } from "./resp_decoder.ts";

/** What one run measures, shared by its connections. */
interface Tally {
  connections: number;
  commands: number;
  ops: number;
  mismatches: number;
  bytesSent: number;
  bytesReceived: number;
  connect: LatencyHistogram;
  ping: LatencyHistogram;
  set: LatencyHistogram;
  get: LatencyHistogram;
  throughput: Throughput;
  facts: Record<string, unknown>;
}

/**
 * Runs the client role. Each connection connects, authenticates when a
 * password is given, sends `PING` (expecting `PONG`), then does `count`
 * round trips: `SET key value PX ttlMs` with a fresh random value, and
 * `GET key`, whose reply must be that value.
 *
 * Metrics: `connections`, `commands` (replies received), `ops` (SET/GET
 * round trips), `mismatches` (GETs that returned other bytes), `bytes_sent`,
 * `bytes_received`, `ops_per_s`, and percentiles `connect_*_ms`,
 * `ping_*_ms`, `set_*_ms`, `get_*_ms`. Facts: `peer`, `key_prefix` (the
 * keys written, with this run's identifier) and `redis_version` (from
 * `INFO server`, when the server allows it).
 *
 * `ok` is `true` when every round trip completed and verified. A failure
 * (refused, timed out, an error reply such as `NOAUTH`, a protocol
 * violation) stops every connection and comes back as `ok: false` with the
 * first error and the metrics gathered so far, never as an exception.
 *
 * @param params Validated client params.
 * @param ctx The run context: its signal and deadline bound every operation.
 * @returns What the client observed.
 */
export async function runResp(params: RespClientParams, ctx: Context): Promise<Outcome> {
  const { hostname, port } = parseHostPort(params.target);
  const runId = crypto.randomUUID().slice(0, 8);
  const keyPrefix = `${params.keyPrefix}${runId}:`;
  const tally: Tally = {
    connections: 0,
    commands: 0,
    ops: 0,
    mismatches: 0,
    bytesSent: 0,
    bytesReceived: 0,
    connect: new LatencyHistogram(),
    ping: new LatencyHistogram(),
    set: new LatencyHistogram(),
    get: new LatencyHistogram(),
    throughput: new Throughput(),
    facts: { key_prefix: keyPrefix },
  };
  // The first failure stops the other connections too.
  const stop = new AbortController();
  const onAbort = () => stop.abort(ctx.signal.reason);
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener("abort", onAbort, { once: true });
  const io = { signal: stop.signal, deadline: ctx.deadline, timeout: params.timeoutMs };
  let firstError: unknown;
  tally.throughput.start();
  try {
    await Promise.all(
      Array.from({ length: params.connections }, async (_, index) => {
        try {
          await session(index, { hostname, port, keyPrefix, io, params, tally, ctx });
        } catch (error) {
          if (firstError === undefined) firstError = error;
          stop.abort(error);
        }
      }),
    );
  } finally {
    tally.throughput.stop();
    ctx.signal.removeEventListener("abort", onAbort);
  }
  const outcome: Outcome = { ok: false, metrics: metrics(tally), facts: tally.facts };
  if (firstError !== undefined) return { ...outcome, error: describeError(firstError) };
  if (tally.mismatches > 0) {
    return {
      ...outcome,
      error: {
        name: "MismatchError",
        message: `Cannot verify GET on ${params.target}: ${tally.mismatches} of ${tally.ops} ` +
          `values differed from what was SET`,
        code: "mismatch",
      },
    };
  }
  return { ...outcome, ok: true };
}

interface Session {
  hostname: string;
  port: number;
  keyPrefix: string;
  io: { signal: AbortSignal; deadline?: number; timeout: number };
  params: RespClientParams;
  tally: Tally;
  ctx: Context;
}

async function session(index: number, s: Session): Promise<void> {
  const { params, tally, io } = s;
  using redis = await RespConnection.connect({
    hostname: s.hostname,
    port: s.port,
    maxBulkSize: params.maxBulkSize,
    ...io,
  });
  tally.connections++;
  const timings = redis.conn.timings;
  tally.connect.record(timings.connectEnd! - timings.connectStart!);
  tally.facts.peer ??= redis.address;
  let sent = 0;
  let received = 0;
  // Counted as they happen, so a failed run still reports its traffic.
  const count = () => {
    tally.bytesSent += redis.bytesSent - sent;
    tally.bytesReceived += redis.bytesReceived - received;
    sent = redis.bytesSent;
    received = redis.bytesReceived;
    tally.commands++;
  };
  try {
    if (params.password !== undefined) {
      const auth = params.username === undefined
        ? ["AUTH", params.password]
        : ["AUTH", params.username, params.password];
      expectSimple(await redis.command(auth), "OK", "AUTH");
      count();
    }
    let start = performance.now();
    expectSimple(await redis.command(["PING"]), "PONG", "PING");
    tally.ping.record(performance.now() - start);
    count();
    if (index === 0) {
      await serverFacts(redis, s);
      count();
    }

    const value = new Uint8Array(params.valueSize);
    const px = String(params.ttlMs);
    const total = params.count * params.connections;
    for (let i = 0; i < params.count; i++) {
      // getRandomValues fills at most 64 KiB: enough to make every value new.
      crypto.getRandomValues(value.subarray(0, Math.min(value.length, 65_536)));
      const key = `${s.keyPrefix}${index}:${i}`;
      start = performance.now();
      expectSimple(await redis.command(["SET", key, value, "PX", px]), "OK", "SET");
      const afterSet = performance.now();
      tally.set.record(afterSet - start);
      count();
      const got = await redis.command(["GET", key]);
      tally.get.record(performance.now() - afterSet);
      count();
      if (!(got instanceof Uint8Array)) {
        throw new RespProtocolError(`GET answered ${describe(got)}, not a bulk string`);
      }
      if (Buffer.compare(got, value) !== 0) tally.mismatches++;
      tally.ops++;
      // The value went out with SET and came back with GET.
      tally.throughput.add(value.length * 2);
      s.ctx.progress({ done: tally.ops, total, unit: "ops" });
    }
  } finally {
    // Bytes of a command that failed midway count too.
    tally.bytesSent += redis.bytesSent - sent;
    tally.bytesReceived += redis.bytesReceived - received;
  }
}

// INFO can be renamed or refused by ACLs: the version is a fact worth having,
// not a reason to fail.
async function serverFacts(redis: RespConnection, s: Session): Promise<void> {
  let info: RespValue;
  try {
    info = await redis.command(["INFO", "server"]);
  } catch (error) {
    if ((error as { name?: string }).name !== "RespError") throw error;
    s.ctx.log("debug", `resp: INFO refused: ${(error as Error).message}`);
    return;
  }
  if (info instanceof Uint8Array) {
    const version = /^redis_version:(\S+)/m.exec(new TextDecoder().decode(info));
    if (version) s.tally.facts.redis_version = version[1];
  }
}

function expectSimple(reply: RespValue, expected: string, command: string): void {
  if (reply !== expected) {
    throw new RespProtocolError(`${command} answered ${describe(reply)}, not "${expected}"`);
  }
}

function describe(value: RespValue): string {
  if (value === null) return "null";
  if (typeof value === "string") return `"${value.slice(0, 64)}"`;
  if (typeof value === "number" || typeof value === "bigint") return `the integer ${value}`;
  if (value instanceof Uint8Array) return `a bulk string of ${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length} elements`;
  return `an error reply`;
}

function metrics(tally: Tally): Record<string, number> {
  return {
    connections: tally.connections,
    commands: tally.commands,
    ops: tally.ops,
    mismatches: tally.mismatches,
    bytes_sent: tally.bytesSent,
    bytes_received: tally.bytesReceived,
    ops_per_s: tally.throughput.snapshot().opsPerSecond,
    ...summaryMetrics("connect", tally.connect.summary()),
    ...summaryMetrics("ping", tally.ping.summary()),
    ...summaryMetrics("set", tally.set.summary()),
    ...summaryMetrics("get", tally.get.summary()),
  };
}
