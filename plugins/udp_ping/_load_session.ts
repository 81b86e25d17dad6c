// udp-ping as load: one socket per VU, one ping round trip per iteration.
import { Buffer } from "node:buffer";
import {
  type ClientSession,
  type Context,
  describeError,
  type Outcome,
} from "../../lib/plugin/mod.ts";
import { formatAddress, parseHostPort } from "../../lib/transport/mod.ts";
import { bindUdp, MAX_UDP_PAYLOAD } from "../../lib/transport/unstable_udp.ts";
import { HEADER_SIZE, MAGIC, PingPacket } from "./_packet.ts";
import { localAddressFor, resolvePeer } from "./_peer.ts";
import { NoReplyError } from "./no_reply_error.ts";
import type { UdpPingClientParams } from "./params.ts";

/** What one load iteration of udp-ping is. */
export const UDP_PING_LOAD_ITERATION = "One ping round trip on the VU's socket: a datagram of " +
  "`size` bytes sent, its echo (checked byte for byte) received within `timeoutMs`; a ping with " +
  "no echo in time is an error `no-reply` (a lost datagram), a garbled echo `malformed`. " +
  "Replies to earlier pings and datagrams from elsewhere are ignored. `count` and `intervalMs` " +
  "belong to a single run and are ignored.";

/**
 * Opens a VU's socket (the runtime's: one iteration at a time needs no
 * libc loop), bound to the loopback for a loopback target.
 */
export async function openUdpPingSession(
  params: UdpPingClientParams,
  ctx: Context,
): Promise<ClientSession> {
  const { hostname, port } = parseHostPort(params.target);
  const where = formatAddress({ transport: "udp", hostname, port });
  if (port === 0) throw new RangeError(`Cannot ping ${where}: port "0" is not a destination`);
  if (params.size < HEADER_SIZE || params.size > MAX_UDP_PAYLOAD) {
    throw new RangeError(`Cannot ping ${where}: size "${params.size}" is out of range`);
  }
  const ip = await resolvePeer(hostname, where, ctx.signal);
  const peer = { hostname: ip, port };
  const packet = new PingPacket(params.size);
  const padding = packet.bytes.subarray(HEADER_SIZE);
  const socket = bindUdp({ hostname: localAddressFor(ip), port: 0 });
  let seq = 0;
  // One timer for the session, re-armed for what is left of the current
  // ping when it fires early, and one listener for the run's signal: not a
  // timer, signal and listener per datagram. Either closes the socket, which
  // ends the pending receive; the engine opens a new session after a failure.
  let until = Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const tick = () => {
    timer = undefined;
    if (until === Infinity) return;
    const left = until - performance.now();
    if (left > 0) {
      timer = setTimeout(tick, Math.ceil(left));
      return;
    }
    timedOut = true;
    socket.close();
  };
  let watched: AbortSignal | undefined;
  const onAbort = () => socket.close();
  return {
    async iterate(iteration: Context): Promise<Outcome> {
      if (iteration.signal !== watched) {
        watched?.removeEventListener("abort", onAbort);
        watched = iteration.signal;
        watched.addEventListener("abort", onAbort, { once: true });
      }
      const mine = seq++ >>> 0;
      const sentAt = performance.now();
      const bytes = packet.stamp(mine, sentAt);
      const metrics: Record<string, number> = { bytes_sent: 0, bytes_received: 0 };
      until = sentAt + params.timeoutMs;
      timer ??= setTimeout(tick, params.timeoutMs);
      try {
        await socket.send(bytes, peer);
        metrics.bytes_sent = bytes.length;
        for (;;) {
          const { data, from, receivedAt } = await socket.receive();
          if (from.hostname !== ip || from.port !== port || data.length < 16) continue;
          const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
          if (view.getUint32(0) !== MAGIC || view.getUint32(4) !== packet.id) continue;
          // An echo of an earlier ping, come late: not this iteration's.
          if (view.getUint32(8) !== mine || view.getFloat64(12) !== sentAt) continue;
          metrics.bytes_received = data.length;
          metrics.rtt_ms = receivedAt - sentAt;
          if (
            data.length !== bytes.length ||
            Buffer.compare(data.subarray(HEADER_SIZE), padding) !== 0
          ) {
            return {
              ok: false,
              metrics,
              facts: {},
              error: {
                name: "MalformedReplyError",
                code: "malformed",
                message: `Cannot verify the echo from ${where}: it differs from ping ${mine}`,
              },
            };
          }
          return { ok: true, metrics, facts: {} };
        }
      } catch (error) {
        if (timedOut && !iteration.signal.aborted) {
          const lost = new NoReplyError({
            target: params.target,
            sent: 1,
            timeoutMs: params.timeoutMs,
          });
          return { ok: false, metrics, facts: {}, error: describeError(lost) };
        }
        return { ok: false, metrics, facts: {}, error: describeError(error) };
      } finally {
        until = Infinity;
      }
    },
    close(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      watched?.removeEventListener("abort", onAbort);
      socket.close();
      return Promise.resolve();
    },
  };
}
