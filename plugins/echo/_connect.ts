// Opens client links for the transport the params name. The target is parsed
// (and a CA file read) once, not once per connection.
// The transport without TLS: the TLS client (and node:tls, node:crypto with
// it) loads only for a tls target, so a TCP, Unix or UDP echo's process
// does not load Node's compatibility layer for it (about 12 ms).
import { connectTcp, connectUnix, parseHostPort } from "../../lib/transport/plain.ts";
import { bindUdp } from "../../lib/transport/unstable_udp.ts";
import { type Link, StreamLink, type Tally, UdpLink } from "./_links.ts";
import type { EchoClientParams, EchoTransport } from "./params.ts";
import type { Payload } from "./_payload.ts";
import { readInputTextFile } from "../../lib/plugin/mod.ts";

/** Opens one link, ready for round trips. */
export type Connector = (
  payload: Payload,
  tally: Tally,
  signal: AbortSignal,
) => Promise<Link>;

export async function prepareConnector(
  params: EchoClientParams,
  transport: EchoTransport,
): Promise<Connector> {
  const timeout = params.timeoutMs;
  if (transport === "unix") {
    const path = params.target.slice("unix:".length);
    return async (payload, tally, signal) => {
      const conn = await connectUnix({ path, timeout, signal });
      return new StreamLink(conn, payload, params.chunkSize, tally);
    };
  }
  const { hostname, port } = parseHostPort(params.target);
  if (transport === "udp") {
    const bindHost = udpBindHost(hostname);
    return (payload, tally) =>
      Promise.resolve(
        // A datagram is at most 64 KiB: its payload is always whole.
        new UdpLink(
          bindUdp({ hostname: bindHost }),
          { hostname, port },
          payload.view(0, payload.length),
          tally,
        ),
      );
  }
  const socket = { hostname, port, noDelay: params.noDelay, keepAlive: params.keepAlive, timeout };
  if (transport === "tls") {
    const caCerts = params.caFile === undefined
      ? undefined
      : [await readInputTextFile(params.caFile)];
    const { servername, insecure } = params;
    // Before any clock starts: importing costs milliseconds.
    const { connectTls } = await import("../../lib/transport/mod.ts");
    return async (payload, tally, signal) => {
      const conn = await connectTls({ ...socket, caCerts, servername, insecure, signal });
      return new StreamLink(conn, payload, params.chunkSize, tally);
    };
  }
  return async (payload, tally, signal) => {
    const conn = await connectTcp({ ...socket, signal });
    return new StreamLink(conn, payload, params.chunkSize, tally);
  };
}

// Bind the loopback of the target's family when the target is local, so no
// port opens beyond this machine; otherwise any address of that family.
function udpBindHost(hostname: string): string {
  if (hostname === "localhost" || hostname.startsWith("127.")) return "127.0.0.1";
  if (hostname === "::1") return "::1";
  return hostname.includes(":") ? "::" : "0.0.0.0";
}
