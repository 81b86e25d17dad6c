/**
 * The TLS client on Deno's own TLS (rustls, with no JavaScript on the data path):
 * {@linkcode connectNativeTls} and {@linkcode startNativeTls} are as fast as plain TCP
 * plus the cipher, but learn only the ALPN protocol and that the certificate
 * verified: Deno does not expose the rest.
 *
 * @module
 */
import { ConnectionError, toNetError } from "../errors.ts";
import { chainTooLongReason } from "./_chain_depth.ts";
import { remainingMs, withDeadline } from "../_internal/deadline.ts";
import { abortReason } from "./_node_tls_conn.ts";
import { DenoNativeTlsConn } from "./_native_tls_conn.ts";
import { connectThenUpgrade } from "./_connect_then_upgrade.ts";
import { formatAddress } from "./address.ts";
import { type CertificateFacts, certificateFacts } from "./certificate_facts.ts";
import { DenoStreamConn } from "./conn.ts";
import type { NativeTlsConn, NativeTlsInfo } from "./native_tls_conn.ts";
import type { Conn, IoOptions, TimingMarks } from "./types.ts";

/** Options for {@linkcode startNativeTls}. */
export interface StartNativeTlsOptions extends IoOptions {
  /**
   * Name to send by SNI and to verify the certificate against. Default: the
   * remote IP address (verified, not sent by SNI).
   */
  servername?: string;
  /**
   * CAs to trust (PEM). Deno trusts them in addition to its built-in Mozilla
   * roots (or the store `DENO_TLS_CA_STORE` names), not instead.
   */
  caCerts?: string[];
  /** ALPN protocols to offer, most preferred first. */
  alpnProtocols?: string[];
}

/** Options for {@linkcode connectNativeTls}. */
export interface ConnectNativeTlsOptions extends StartNativeTlsOptions {
  /** Host name or IP literal (default `127.0.0.1`); also the default `servername`. */
  hostname?: string;
  /** Port to connect to. */
  port: number;
  /** Set `TCP_NODELAY` (send small writes at once). Default `true`. */
  noDelay?: boolean;
  /** Set `SO_KEEPALIVE`. Default `false`. */
  keepAlive?: boolean;
}

/**
 * Opens a TLS connection on Deno's own TLS client. Reads and writes cost
 * what they cost on plain TCP plus the cipher, several times less CPU per
 * exchange than {@linkcode connectTls}, but the handshake reports only the
 * ALPN protocol and, where the runtime tells (Deno 2.9 does, through an
 * undocumented internal symbol its node:tls layer uses), the peer's leaf
 * certificate: no protocol version or cipher, and a certificate that does
 * not verify always fails the connection (there is no `insecure`). Use
 * {@linkcode connectTls} to inspect a server, this to load or time one.
 *
 * The timeout covers name resolution, the TCP connection and the handshake;
 * timing marks are set as by {@linkcode connectTls}. Socket options are set
 * before the handshake: once Deno's TLS owns the socket they cannot change,
 * and `setNoDelay`/`setKeepAlive` throw `Deno.errors.NotSupported`.
 *
 * @param options Where to connect, trust, ALPN, socket options, timeout or signal.
 * @returns The connection.
 * @throws {ConnectionError} Code `tls` when the handshake or verification fails (operation `handshake`, the reason as Deno words it; the server receives a TLS alert); `refused`, `dns`… for the TCP connection.
 * @throws {TimeoutError} Operation `resolve`, `connect` or `handshake`, whichever was under way.
 * @throws {RangeError} When the port is outside 0–65535.
 *
 * @example Connecting on Deno's own TLS client
 * ```ts
 * import { connectNativeTls, listenTls } from "@wiretest/wiretest/transport";
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
 * const accepted = listener.accept({ timeout: 5000 });
 * using client = await connectNativeTls({
 *   port: listener.addr.port,
 *   servername: "localhost",
 *   caCerts: [cert],
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
export function connectNativeTls(options: ConnectNativeTlsOptions): Promise<NativeTlsConn> {
  return connectThenUpgrade(
    options,
    (tcp, io, where, hostname) =>
      upgradeNative(tcp, { ...options, ...io }, where, options.servername ?? hostname),
  );
}

/**
 * Upgrades an open TCP connection to TLS on Deno's own TLS client (see
 * {@linkcode connectNativeTls} for what that gains and loses). The returned
 * connection owns `conn`: closing it closes `conn`, and so does a failed
 * handshake. `conn` must come from {@linkcode connectTcp} or
 * {@linkcode listenTcp} and have no read in progress (bytes read ahead of
 * the handshake would be lost). Its timing marks are copied; `tlsEnd` is
 * set when the handshake finishes.
 *
 * @param conn The plain TCP connection to upgrade.
 * @param options Name to verify, trust, ALPN, timeout or signal.
 * @returns The TLS connection.
 * @throws {TypeError} When `conn` is not a TCP connection of this module's transports.
 * @throws {ConnectionError} Code `tls` when the handshake or verification fails, `closed` when the peer closes first.
 * @throws {TimeoutError} Operation `handshake`.
 *
 * @example Upgrading a TCP connection on Deno's own TLS client
 * ```ts
 * import { connectTcp, listenTls, startNativeTls } from "@wiretest/wiretest/transport";
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
 * using listener = listenTls({ cert, key });
 * const accepted = listener.accept({ timeout: 5000 });
 * const plain = await connectTcp({ port: listener.addr.port, timeout: 5000 });
 * using conn = await startNativeTls(plain, {
 *   servername: "localhost",
 *   caCerts: [cert],
 *   timeout: 5000,
 * });
 * using _server = await accepted;
 * assert.equal(conn.transport, "tls");
 * assert.ok(conn.timings.tlsEnd! >= conn.timings.connectEnd!);
 * ```
 */
export function startNativeTls(
  conn: Conn,
  options: StartNativeTlsOptions = {},
): Promise<NativeTlsConn> {
  if (!(conn instanceof DenoStreamConn) || conn.transport !== "tcp") {
    return Promise.reject(
      new TypeError(
        "Cannot start TLS: native TLS needs a TCP connection from connectTcp or listenTcp",
      ),
    );
  }
  if (conn.hasPendingRead) {
    // Deno's TLS reads the socket itself: the pending read would take the
    // server's first handshake bytes, or bytes already read would be lost.
    return Promise.reject(
      new TypeError("Cannot start TLS: a read is still pending on the connection"),
    );
  }
  const remoteHost = (conn.remoteAddr as Deno.NetAddr).hostname;
  return upgradeNative(
    conn,
    options,
    formatAddress(conn.remoteAddr),
    options.servername ?? remoteHost,
  );
}

/** Runs Deno's TLS client handshake over `conn`; on any failure `conn` is closed. */
async function upgradeNative(
  conn: Conn,
  options: StartNativeTlsOptions,
  where: string,
  verifyName: string,
): Promise<NativeTlsConn> {
  const { dnsStart, dnsEnd, connectStart, connectEnd } = conn.timings;
  let raw: Deno.TlsConn | undefined;
  try {
    // Checked before Deno takes the socket, so a bad option closes it cleanly.
    remainingMs(options);
    raw = await Deno.startTls((conn as DenoStreamConn).raw as Deno.TcpConn, {
      hostname: verifyName,
      caCerts: options.caCerts,
      alpnProtocols: options.alpnProtocols,
    });
    const tls = raw;
    const info = await withDeadline(
      options,
      { operation: "handshake", address: where },
      () => tls.handshake(),
      // Closing cancels the handshake, which then rejects (and is ignored).
      () => tls.close(),
    );
    const timings: TimingMarks = { dnsStart, dnsEnd, connectStart, connectEnd };
    timings.tlsEnd = performance.now();
    const facts: NativeTlsInfo = { alpnProtocol: info.alpnProtocol };
    const peer = nativePeerCertificate(raw);
    if (peer) facts.peerCertificate = peer;
    return new DenoNativeTlsConn(raw, facts, timings);
  } catch (error) {
    try {
      raw?.close();
    } catch {
      // Already closed by the abandoned handshake.
    }
    conn.close();
    throw abortReason(error, options) ?? nativeHandshakeError(error, where);
  }
}

/**
 * The leaf certificate a `Deno.TlsConn` received. Deno has no public API for
 * it; its node:tls layer reads it through a method keyed by the symbol
 * `Deno[Deno.internal].getPeerCertificate` (Deno 2.9). Feature-detected:
 * `undefined` on a runtime without it, never a guess.
 */
function nativePeerCertificate(conn: Deno.TlsConn): CertificateFacts | undefined {
  const deno = Deno as unknown as { internal?: symbol } & Record<symbol, unknown>;
  const internal = deno.internal === undefined ? undefined : deno[deno.internal];
  const key = (internal as { getPeerCertificate?: unknown } | undefined)?.getPeerCertificate;
  if (typeof key !== "symbol") return undefined;
  const read = (conn as unknown as Record<symbol, unknown>)[key];
  if (typeof read !== "function") return undefined;
  try {
    const cert = read.call(conn, false) as { raw?: unknown } | null | undefined;
    return cert?.raw instanceof Uint8Array ? certificateFacts(cert.raw) : undefined;
  } catch {
    return undefined;
  }
}

/** Deno reports TLS failures as `InvalidData` with rustls' reason. */
function nativeHandshakeError(error: unknown, where: string): unknown {
  const name = error instanceof Error ? error.name : "";
  if (name === "InvalidData") {
    const message = (error as Error).message;
    return new ConnectionError({
      code: "tls",
      operation: "handshake",
      address: where,
      detail: /MaximumPathDepthExceeded/.test(message)
        ? `${chainTooLongReason()} (${message})`
        : message,
      cause: error,
    });
  }
  if (name === "UnexpectedEof") {
    return new ConnectionError({
      code: "closed",
      operation: "handshake",
      address: where,
      detail: "the peer closed the connection before the TLS handshake finished",
      cause: error,
    });
  }
  return toNetError(error, "handshake", where);
}
