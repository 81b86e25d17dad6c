/**
 * The RESP client as load: one connection per VU, one command per
 * iteration (`loadCommand`: PING, SET of the VU's own key, or GET of it).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { ClientSession, Context, Outcome } from "@wiretest/wiretest/plugin";
import { describeError } from "@wiretest/wiretest/plugin";
import { parseHostPort } from "@wiretest/wiretest/transport";
import { RespProtocolError } from "./errors.ts";
import type { RespClientParams } from "./params.ts";
import { RespConnection } from "./resp_connection.ts";
import { encodeCommand } from "./encode_command.ts";

/** What one load iteration of resp is. */
export const RESP_LOAD_ITERATION = "One command over the VU's connection, its reply checked: " +
  "`PING` (the default; `PONG` expected), `SET` of the VU's own key to a random value of " +
  "`valueSize` bytes (`OK` expected; the key lives `ttlMs`), or `GET` of that key (set once when " +
  "the VU connects; the bytes must be the value set). Chosen by `loadCommand`; `count` and " +
  "`connections` belong to a single run and are ignored.";

/**
 * Opens a VU's connection (authenticating when a password is given); the
 * session's signal and `timeoutMs` bound the connect.
 *
 * @param params The validated client params.
 * @param ctx The session's context.
 * @returns The session.
 */
export async function openRespSession(
  params: RespClientParams,
  ctx: Context,
): Promise<ClientSession> {
  const { hostname, port } = parseHostPort(params.target);
  const redis = await RespConnection.connect({
    hostname,
    port,
    maxBulkSize: params.maxBulkSize,
    timeout: params.timeoutMs,
    signal: ctx.signal,
  });
  const key = `${params.keyPrefix}${crypto.randomUUID().slice(0, 8)}:load`;
  const value = new Uint8Array(params.valueSize);
  const px = String(params.ttlMs);
  try {
    if (params.password !== undefined) {
      const auth = params.username === undefined
        ? ["AUTH", params.password]
        : ["AUTH", params.username, params.password];
      expect(await redis.command(auth), "OK", "AUTH");
    }
    if (params.loadCommand === "GET") {
      crypto.getRandomValues(value.subarray(0, Math.min(value.length, 65_536)));
      expect(await redis.command(["SET", key, value, "PX", px]), "OK", "SET");
    }
  } catch (error) {
    redis.close();
    throw error;
  }
  const command = params.loadCommand;
  // PING and GET send the same bytes every time: encoded once.
  const fixed = command === "PING"
    ? encodeCommand(["PING"])
    : command === "GET"
    ? encodeCommand(["GET", key])
    : undefined;
  // The engine passes one signal to every iteration: listened to once.
  let watched: AbortSignal | undefined;
  const onAbort = () => redis.close();
  return {
    async iterate(iteration: Context): Promise<Outcome> {
      if (iteration.signal !== watched) {
        watched?.removeEventListener("abort", onAbort);
        watched = iteration.signal;
        watched.addEventListener("abort", onAbort, { once: true });
      }
      const sent = redis.bytesSent;
      const received = redis.bytesReceived;
      try {
        let reply;
        if (fixed === undefined) {
          crypto.getRandomValues(value.subarray(0, Math.min(value.length, 65_536)));
          reply = await redis.command(["SET", key, value, "PX", px]);
        } else {
          reply = await redis.commandEncoded(fixed, command);
        }
        if (command === "PING") expect(reply, "PONG", "PING");
        else if (command === "SET") expect(reply, "OK", "SET");
        else if (!(reply instanceof Uint8Array) || Buffer.compare(reply, value) !== 0) {
          return {
            ok: false,
            metrics: bytes(redis, sent, received),
            facts: {},
            error: {
              name: "MismatchError",
              code: "mismatch",
              message: `Cannot verify GET on ${params.target}: the value differs from what was SET`,
            },
          };
        }
        return { ok: true, metrics: bytes(redis, sent, received), facts: {} };
      } catch (error) {
        return {
          ok: false,
          metrics: bytes(redis, sent, received),
          facts: {},
          error: describeError(error),
        };
      }
    },
    close(): Promise<void> {
      watched?.removeEventListener("abort", onAbort);
      redis.close();
      return Promise.resolve();
    },
  };
}

function bytes(redis: RespConnection, sent: number, received: number): Record<string, number> {
  return { bytes_sent: redis.bytesSent - sent, bytes_received: redis.bytesReceived - received };
}

function expect(reply: unknown, expected: string, command: string): void {
  if (reply !== expected) {
    throw new RespProtocolError(
      `${command} answered ${String(reply).slice(0, 64)}, not "${expected}"`,
    );
  }
}
