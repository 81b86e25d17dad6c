/**
 * {@linkcode listenTls}: a TLS server on `Deno.listenTls` (default) or on
 * `node:tls` over our own TCP connections (`tlsServer: "node"`).
 *
 * @module
 */
import { checkPort } from "../_internal/check_port.ts";
import { toTlsNetError } from "./_node_tls_conn.ts";
import { formatAddress } from "./address.ts";
import { DenoStreamListener } from "./conn.ts";
import { nodeSecureContext, NodeTlsListener } from "./_node_tls_listener.ts";
import { listenTcp } from "./tcp.ts";
import type { Listener } from "./types.ts";

/** Options for {@linkcode listenTls}. */
export interface ListenTlsOptions {
  /** Address to bind (default `127.0.0.1`: loopback only). */
  hostname?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** The server certificate chain (PEM), leaf first. */
  cert: string;
  /** The private key of the leaf (PEM). */
  key: string;
  /** ALPN protocols to offer, most preferred first (e.g. `["h2", "http/1.1"]`). */
  alpnProtocols?: string[];
  /** Set `SO_REUSEPORT` so several processes can share the port (Linux). */
  reusePort?: boolean;
  /**
   * Which TLS server runs the sessions. `"deno"` (default): `Deno.listenTls`,
   * the faster, but it keeps the socket of a connection closed mid-handshake
   * until the client leaves, so clients that stall handshakes can use up the
   * process's descriptors. `"node"`: `node:tls` over our own TCP
   * connection; closing a connection frees its socket at once, even
   * mid-handshake: use it when untrusted clients can reach the server.
   */
  tlsServer?: "node" | "deno";
}

/** A TLS {@linkcode Listener}, whose address always has a host and port. */
export interface TlsListener extends Listener {
  /** The bound address, with the real port. */
  readonly addr: Deno.NetAddr;
}

/**
 * Listens for TLS connections. Binds `127.0.0.1` on a free port unless told
 * otherwise. Accepted connections do their handshake on their first read or
 * write, so a client that never speaks cannot hold up `accept`. With
 * `tlsServer: "node"` closing a connection mid-handshake frees its socket at
 * once; Deno's server (the default, faster) keeps it until the client leaves.
 *
 * @param options Address, port, certificate and key, ALPN, `reusePort`, `tlsServer`.
 * @returns The listener.
 * @throws {TypeError} When `cert` or `key` is not a string, or `tlsServer` is unknown.
 * @throws {RangeError} When the port is outside 0–65535.
 * @throws {ConnectionError} With code `address-in-use` when the port is taken, `tls` when the certificate or key cannot be used.
 *
 * @example Serving TLS on a free loopback port
 * ```ts
 * import { connectTls, listenTls } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * // A throw-away self-signed certificate from the openssl command line tool.
 * const out = await new Deno.Command("openssl", {
 *   args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
 *     "-subj", "/CN=localhost", "-addext", "basicConstraints=critical,CA:FALSE",
 *     "-addext", "subjectAltName=DNS:localhost", "-keyout", "-", "-out", "-"],
 *   stderr: "null",
 * }).output();
 * const pem = new TextDecoder().decode(out.stdout);
 * const key = pem.slice(0, pem.indexOf("-----BEGIN CERTIFICATE"));
 * const cert = pem.slice(pem.indexOf("-----BEGIN CERTIFICATE"));
 *
 * using listener = listenTls({ cert, key, alpnProtocols: ["echo/1"] });
 * assert.equal(listener.transport, "tls");
 * const accepted = listener.accept({ timeout: 5000 });
 * using client = await connectTls({
 *   port: listener.addr.port,
 *   caCerts: [cert],
 *   servername: "localhost",
 *   alpnProtocols: ["echo/1"],
 *   timeout: 5000,
 * });
 * using server = await accepted;
 * await client.write(new TextEncoder().encode("ping"));
 * const buf = new Uint8Array(4);
 * assert.equal(await server.read(buf, { timeout: 5000 }), 4);
 * assert.equal(client.tls.alpnProtocol, "echo/1");
 * ```
 */
export function listenTls(options: ListenTlsOptions): TlsListener {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  checkPort(port, "listen");
  if (typeof options.cert !== "string" || typeof options.key !== "string") {
    throw new TypeError("Cannot listen: cert and key must be PEM strings");
  }
  const tlsServer = options.tlsServer ?? "deno";
  if (tlsServer !== "node" && tlsServer !== "deno") {
    throw new TypeError(
      `Cannot listen: tlsServer must be "node" or "deno", got "${String(tlsServer)}"`,
    );
  }
  if (tlsServer === "node") {
    const where = formatAddress({ transport: "tcp", hostname, port });
    const context = nodeSecureContext({ cert: options.cert, key: options.key, where });
    const tcp = listenTcp({ hostname, port, reusePort: options.reusePort });
    return new NodeTlsListener(tcp, context, options.alpnProtocols) as TlsListener;
  }
  let raw: Deno.TlsListener;
  try {
    raw = Deno.listenTls({
      hostname,
      port,
      transport: "tcp",
      cert: options.cert,
      key: options.key,
      alpnProtocols: options.alpnProtocols,
      reusePort: options.reusePort,
    });
  } catch (error) {
    throw toTlsNetError(error, "listen", formatAddress({ transport: "tcp", hostname, port }));
  }
  return new DenoStreamListener(raw, "tls") as TlsListener;
}
