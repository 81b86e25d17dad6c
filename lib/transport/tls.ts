/**
 * TLS: listen, connect and upgrade (STARTTLS) with deadlines, typed errors,
 * timing marks and the facts a test wants to check: protocol, cipher, ALPN,
 * whether the peer was trusted and why not, and the peer certificate.
 *
 * The server side runs on `Deno.listenTls`. There are two clients:
 *
 * - {@linkcode connectTls} and {@linkcode startTls} run on `node:tls` (which
 *   Deno implements over rustls) and report everything: protocol, cipher,
 *   the peer certificate, why a verification failed, and `insecure` can
 *   connect anyway. Each read and write goes through node's streams: a
 *   small request and response cost 60–100 µs more than on Deno's client.
 * - {@linkcode connectNativeTls} and {@linkcode startNativeTls} run on
 *   Deno's own TLS client (rustls, with no JavaScript on the data path), as
 *   fast as plain TCP plus the cipher, but they learn only the ALPN protocol
 *   and that the certificate verified: Deno does not expose the rest.
 *
 * @module
 */
import { connect as nodeTlsConnect, type TLSSocket } from "node:tls";
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { lookup } from "node:dns/promises";
import { ConnectionError, TimeoutError, toNetError } from "../errors.ts";
import { remainingMs, withDeadline } from "../_internal/deadline.ts";
import { abortReason, connDuplex, NodeTlsConn, ReadGate, toTlsNetError } from "./_node_tls_conn.ts";
import { DenoNativeTlsConn } from "./_native_tls_conn.ts";
import { formatAddress } from "./address.ts";
import { DenoStreamConn, DenoStreamListener } from "./conn.ts";
import { connectTcp } from "./tcp.ts";
import type { Conn, IoOptions, Listener, TimingMarks } from "./types.ts";

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
}

/** A TLS {@linkcode Listener}, whose address always has a host and port. */
export interface TlsListener extends Listener {
  /** The bound address, with the real port. */
  readonly addr: Deno.NetAddr;
}

/**
 * Listens for TLS connections. Binds `127.0.0.1` on a free port unless told
 * otherwise. Accepted connections do their handshake on their first read or
 * write, so a client that never speaks cannot hold up `accept`.
 *
 * @param options Address, port, certificate and key, ALPN, `reusePort`.
 * @returns The listener.
 * @throws {TypeError} When `cert` or `key` is not a string.
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

/**
 * Plain facts about an X.509 certificate, as a serialisable object.
 */
export interface CertificateFacts {
  /** The subject, e.g. `CN=localhost` (attributes joined by `, `). */
  subject: string;
  /** The issuer, in the same form. */
  issuer: string;
  /** Subject alternative names, e.g. `["DNS:localhost", "IP Address:127.0.0.1"]`. */
  subjectAltNames: string[];
  /** Start of validity, ISO 8601. */
  validFrom: string;
  /** End of validity, ISO 8601. */
  validTo: string;
  /** Whole days until `validTo`; negative once expired. */
  daysLeft: number;
  /** SHA-256 fingerprint, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256`). */
  fingerprint256: string;
  /** Serial number, upper-case hex in whole bytes (as `openssl x509 -serial`). */
  serialNumber: string;
}

/** What a TLS client learnt from the handshake. */
export interface TlsInfo {
  /** The negotiated protocol version, e.g. `"TLSv1.3"`. */
  protocol: string;
  /** The negotiated cipher suite, e.g. `"TLS_AES_256_GCM_SHA384"`. */
  cipher: string;
  /** The protocol the server chose by ALPN, or `null`. */
  alpnProtocol: string | null;
  /** Whether the peer's certificate verified against the trusted CAs and the name. */
  authorized: boolean;
  /** Why it did not (e.g. `certificate has expired (…)`); only when `authorized` is `false`. */
  authorizationError?: string;
  /** The peer's leaf certificate, when it sent one. */
  peerCertificate?: CertificateFacts;
}

/** A TLS client {@linkcode Conn} with the facts of its handshake. */
export interface TlsConn extends Conn {
  /** Protocol, cipher, ALPN, verification result, peer certificate. */
  readonly tls: TlsInfo;
}

/** TLS client settings shared by {@linkcode connectTls} and {@linkcode startTls}. */
export interface TlsClientOptions extends IoOptions {
  /**
   * Name to send by SNI and to verify the certificate against. Default: the
   * host name connected to (IP literals are verified but not sent by SNI).
   */
  servername?: string;
  /** CAs to trust (PEM), instead of the built-in Mozilla roots. */
  caCerts?: string[];
  /** ALPN protocols to offer, most preferred first. */
  alpnProtocols?: string[];
  /**
   * Finish the handshake even when the certificate does not verify, and
   * report why in `tls.authorizationError`. For testing servers only.
   */
  insecure?: boolean;
}

/** Options for {@linkcode connectTls}. */
export interface ConnectTlsOptions extends TlsClientOptions {
  /** Host name or IP literal (default `127.0.0.1`). */
  hostname?: string;
  /** Port to connect to. */
  port: number;
  /** Set `TCP_NODELAY` (send small writes at once). Default `true`. */
  noDelay?: boolean;
  /** Set `SO_KEEPALIVE`. Default `false`. */
  keepAlive?: boolean;
}

/**
 * Opens a TLS connection. The timeout covers name resolution, the TCP
 * connection and the handshake; timing marks `dnsStart`/`dnsEnd`,
 * `connectStart`/`connectEnd` (TCP) and `tlsEnd` are set, `firstByte` when
 * the first byte arrives.
 *
 * A certificate that does not verify (unknown CA, expired, wrong name)
 * fails the connection with the reason, unless `insecure` is set: then the
 * connection opens and `tls.authorized` is `false` with
 * `tls.authorizationError` saying why. Verification is judged once the
 * handshake is over, so a rejected server sees the connection close, not a
 * TLS alert; no application data is sent to it.
 *
 * @param options Where to connect, trust, ALPN, socket options, timeout or signal.
 * @returns The connection, with `tls` facts.
 * @throws {ConnectionError} Code `tls` when the handshake or verification fails (operation `handshake`); `refused`, `dns`… for the TCP connection.
 * @throws {TimeoutError} Operation `resolve`, `connect` or `handshake`, whichever was under way.
 * @throws {RangeError} When the port is outside 0–65535.
 *
 * @example Reading the facts of a handshake
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
 * using listener = listenTls({ cert, key });
 * const accepted = listener.accept({ timeout: 5000 });
 * // Not trusted (no caCerts): `insecure` connects anyway and says why.
 * using conn = await connectTls({ port: listener.addr.port, insecure: true, timeout: 5000 });
 * using _server = await accepted;
 * assert.equal(conn.tls.protocol, "TLSv1.3");
 * assert.equal(conn.tls.authorized, false);
 * assert.equal(typeof conn.tls.authorizationError, "string");
 * assert.equal(conn.tls.peerCertificate?.subject, "CN=localhost");
 * ```
 */
export function connectTls(options: ConnectTlsOptions): Promise<TlsConn> {
  return connectThenUpgrade(
    options,
    (tcp, io, where, hostname) =>
      upgrade(tcp, { ...options, ...io }, where, options.servername ?? hostname),
  );
}

/**
 * Resolves `options.hostname`, connects TCP and runs `handshake` over the
 * connection, all under one timeout; a timeout names the phase it hit and
 * the whole timeout.
 */
async function connectThenUpgrade<T>(
  options: ConnectTlsOptions | ConnectNativeTlsOptions,
  handshake: (tcp: Conn, io: IoOptions, where: string, hostname: string) => Promise<T>,
): Promise<T> {
  const hostname = options.hostname ?? "127.0.0.1";
  checkPort(options.port, "connect");
  const where = formatAddress({ transport: "tcp", hostname, port: options.port });
  // One deadline for all three phases: resolve, connect, handshake.
  const ms = remainingMs(options);
  const io: IoOptions = {
    signal: options.signal,
    deadline: ms === undefined ? undefined : Date.now() + ms,
  };
  try {
    const dnsStart = performance.now();
    let address = hostname;
    if (!isIP(hostname)) {
      try {
        address = (await withDeadline(
          io,
          { operation: "resolve", address: hostname },
          () => lookup(hostname),
        )).address;
      } catch (error) {
        throw abortReason(error, options) ?? toNetError(error, "resolve", hostname);
      }
    }
    const dnsEnd = performance.now();
    const tcp = await connectTcp({
      hostname: address,
      port: options.port,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      ...io,
    });
    Object.assign(tcp.timings, { dnsStart, dnsEnd });
    return await handshake(tcp, io, where, hostname);
  } catch (error) {
    // Each phase only knew the time left; the message gives the whole timeout.
    if (error instanceof TimeoutError && ms !== undefined) {
      throw new TimeoutError({
        operation: error.operation,
        address: error.address,
        timeoutMs: ms,
        cause: error,
      });
    }
    throw error;
  }
}

/** Options for {@linkcode startTls}. */
export type StartTlsOptions = TlsClientOptions;

/**
 * Upgrades an open connection to TLS (STARTTLS): after a plain exchange has
 * agreed on it, runs a TLS client handshake over `conn` and returns the
 * encrypted connection, with the same `tls` facts as {@linkcode connectTls}.
 *
 * The returned connection owns `conn`: closing it closes `conn`, and so
 * does a failed handshake. Do not read or write `conn` directly any more.
 * Its timing marks are copied, except `firstByte`, which marks the first
 * decrypted byte. The certificate is verified against `servername`, by
 * default the remote host of `conn`.
 *
 * Runs on `node:tls` over a stream that reads and writes `conn`, so it
 * works on any {@linkcode Conn} (TCP or Unix) and reports the peer
 * certificate, unlike `Deno.startTls`.
 *
 * @param conn The plain connection to upgrade.
 * @param options Trust, name to verify, ALPN, timeout or signal.
 * @returns The TLS connection.
 * @throws {ConnectionError} Code `tls` when the handshake or verification fails.
 * @throws {TimeoutError} Operation `handshake`.
 *
 * @example Upgrading a TCP connection
 * ```ts
 * import { connectTcp, listenTls, startTls } from "@wiretest/wiretest/transport";
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
 * using conn = await startTls(plain, { caCerts: [cert], servername: "localhost", timeout: 5000 });
 * using _server = await accepted;
 * assert.equal(conn.tls.authorized, true);
 * assert.deepEqual(conn.tls.peerCertificate?.subjectAltNames, ["DNS:localhost"]);
 * ```
 */
export function startTls(conn: Conn, options: StartTlsOptions = {}): Promise<TlsConn> {
  const remoteHost = "hostname" in conn.remoteAddr ? conn.remoteAddr.hostname : "localhost";
  return upgrade(conn, options, formatAddress(conn.remoteAddr), options.servername ?? remoteHost);
}

/** What Deno's own TLS client reports about a handshake that verified. */
export interface NativeTlsInfo {
  /** The protocol the server chose by ALPN, or `null`. */
  alpnProtocol: string | null;
  /**
   * The leaf certificate this connection received, when the runtime tells
   * (see {@linkcode connectNativeTls}); absent otherwise.
   */
  peerCertificate?: CertificateFacts;
}

/** A {@linkcode Conn} over Deno's own TLS client, with what its handshake reported. */
export interface NativeTlsConn extends Conn {
  /** The ALPN protocol; the certificate verified, or the connection would not exist. */
  readonly tls: NativeTlsInfo;
}

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
    return new ConnectionError({
      code: "tls",
      operation: "handshake",
      address: where,
      detail: (error as Error).message,
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

/**
 * Reads the facts a test checks from a certificate: names, issuer, validity,
 * days left, fingerprint, serial number.
 *
 * @param cert A PEM text, DER bytes or a `node:crypto` `X509Certificate`.
 * @param now The time `daysLeft` counts from (`Date.now()` milliseconds).
 * @returns The facts, a plain serialisable object.
 * @throws {TypeError} When `cert` is not a certificate.
 *
 * @example Facts of a root certificate
 * ```ts
 * import { certificateFacts } from "@wiretest/wiretest/transport";
 * import { rootCertificates } from "node:tls";
 * import assert from "node:assert/strict";
 *
 * const facts = certificateFacts(rootCertificates[0]);
 * assert.equal(facts.subject, facts.issuer); // roots sign themselves
 * assert.match(facts.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
 * assert.ok(Date.parse(facts.validTo) > Date.parse(facts.validFrom));
 * ```
 */
export function certificateFacts(
  cert: string | Uint8Array | X509Certificate,
  now: number = Date.now(),
): CertificateFacts {
  const x509 = toX509(cert);
  const validTo = x509.validToDate;
  return {
    subject: distinguishedName(x509.subject),
    issuer: distinguishedName(x509.issuer),
    subjectAltNames: x509.subjectAltName ? x509.subjectAltName.split(/, (?=[A-Za-z ]+:)/) : [],
    validFrom: x509.validFromDate.toISOString(),
    validTo: validTo.toISOString(),
    daysLeft: Math.floor((validTo.getTime() - now) / DAY_MS),
    fingerprint256: x509.fingerprint256,
    serialNumber: evenHex(x509.serialNumber.toUpperCase()),
  };
}

const DAY_MS = 86_400_000;

/** Whole bytes, as OpenSSL prints serials (the runtime may drop a leading zero). */
function evenHex(hex: string): string {
  return hex.length % 2 === 1 ? `0${hex}` : hex;
}

function toX509(cert: string | Uint8Array | X509Certificate): X509Certificate {
  if (cert instanceof X509Certificate) return cert;
  if (typeof cert !== "string" && !(cert instanceof Uint8Array)) {
    throw new TypeError("Cannot read certificate: expected PEM text, DER bytes or X509Certificate");
  }
  try {
    return new X509Certificate(cert);
  } catch (error) {
    throw new TypeError("Cannot read certificate: not a valid X.509 certificate", {
      cause: error,
    });
  }
}

/** `node:crypto` joins attributes with newlines; one line reads better in reports. */
function distinguishedName(text: string): string {
  return text.split("\n").filter((part) => part !== "").join(", ");
}

/**
 * Runs a TLS client handshake over `conn` and judges the certificate. On
 * any failure `conn` is closed.
 */
async function upgrade(
  conn: Conn,
  options: TlsClientOptions,
  where: string,
  verifyName: string,
): Promise<TlsConn> {
  const { dnsStart, dnsEnd, connectStart, connectEnd } = conn.timings;
  const timings: TimingMarks = { dnsStart, dnsEnd, connectStart, connectEnd };
  const gate = new ReadGate();
  let socket: TLSSocket;
  try {
    socket = nodeTlsConnect({
      socket: connDuplex(conn, gate),
      // Node sends no SNI for IP literals; it verifies them against `host`.
      servername: isIP(verifyName) ? undefined : verifyName,
      host: verifyName,
      ca: options.caCerts,
      ALPNProtocols: options.alpnProtocols,
      // Verification is judged below, after the handshake, so that a
      // failure can name its reason (the runtime reports an expired
      // certificate as an unknown issuer) and `insecure` can still connect.
      rejectUnauthorized: false,
    });
  } catch (error) {
    conn.close();
    throw toTlsNetError(error, "handshake", where);
  }
  await handshake(socket, conn, options, where);
  timings.tlsEnd = performance.now();
  let info: TlsInfo;
  try {
    info = tlsInfo(socket, verifyName, options.caCerts);
  } catch (error) {
    destroy(socket, conn);
    throw toNetError(error, "handshake", where);
  }
  if (!info.authorized && !options.insecure) {
    destroy(socket, conn);
    throw new ConnectionError({
      code: "tls",
      operation: "handshake",
      address: where,
      detail: info.authorizationError,
      cause: socket.authorizationError,
    });
  }
  return new NodeTlsConn(socket, { tls: info, timings, underlying: conn, gate });
}

/** Waits for `secureConnect` under the deadline; destroys the socket on failure. */
async function handshake(
  socket: TLSSocket,
  conn: Conn,
  options: IoOptions,
  where: string,
): Promise<void> {
  const closedEarly = Symbol("closed");
  let cleanup = () => {};
  const secured = new Promise<void>((resolve, reject) => {
    const onSecure = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(closedEarly);
    };
    cleanup = () => {
      socket.off("secureConnect", onSecure);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    socket.on("secureConnect", onSecure);
    socket.on("error", onError);
    socket.on("close", onClose);
  });
  try {
    await withDeadline(options, { operation: "handshake", address: where }, () => secured);
  } catch (error) {
    cleanup();
    destroy(socket, conn);
    if (error === closedEarly) {
      throw new ConnectionError({
        code: "closed",
        operation: "handshake",
        address: where,
        detail: "the peer closed the connection before the TLS handshake finished",
      });
    }
    throw abortReason(error, options) ?? toTlsNetError(error, "handshake", where);
  }
}

function tlsInfo(socket: TLSSocket, verifyName: string, caCerts?: string[]): TlsInfo {
  const peer = socket.getPeerX509Certificate();
  const alpn = socket.alpnProtocol;
  const info: TlsInfo = {
    protocol: socket.getProtocol() ?? "unknown",
    cipher: socket.getCipher()?.standardName ?? socket.getCipher()?.name ?? "unknown",
    alpnProtocol: typeof alpn === "string" ? alpn : null,
    authorized: socket.authorized === true,
  };
  if (!info.authorized) {
    info.authorizationError = explainVerifyError(
      String(socket.authorizationError ?? ""),
      peer,
      verifyName,
      caCerts,
    );
  }
  if (peer) info.peerCertificate = certificateFacts(peer);
  return info;
}

/**
 * Turns the runtime's verification code into a reason a person can act on.
 * The certificate's own dates are checked here because rustls reports an
 * expired leaf as `UNABLE_TO_VERIFY_LEAF_SIGNATURE` (unknown issuer).
 */
function explainVerifyError(
  code: string,
  cert: X509Certificate | undefined,
  name: string,
  caCerts: string[] | undefined,
): string {
  const reasons: string[] = [];
  const now = Date.now();
  if (cert && cert.validToDate.getTime() < now) {
    reasons.push(`certificate has expired (valid to ${cert.validToDate.toISOString()})`);
  } else if (cert && cert.validFromDate.getTime() > now) {
    reasons.push(`certificate is not yet valid (valid from ${cert.validFromDate.toISOString()})`);
  }
  if (/ALTNAME|HOST|IP_ADDRESS/.test(code)) {
    reasons.push(
      `certificate is not valid for "${name}" (it names ${
        cert?.subjectAltName ?? "no alternative names"
      })`,
    );
  } else if (/ISSUER|LEAF_SIGNATURE|SELF_SIGNED|UNTRUSTED/.test(code)) {
    // With dates at fault the issuer may be fine: blame it only when no
    // given CA signed the certificate.
    const untrusted = reasons.length === 0 ||
      (cert !== undefined && caCerts !== undefined && !caCerts.some((ca) => signedBy(cert, ca)));
    if (untrusted) {
      reasons.push(
        cert && signedBy(cert, cert)
          ? "certificate is self-signed and not trusted"
          : `certificate is not signed by a trusted CA (issuer ${
            cert ? distinguishedName(cert.issuer) : "unknown"
          })`,
      );
    }
  } else if (reasons.length === 0) {
    reasons.push(code ? `certificate was rejected (${code})` : "certificate could not be verified");
  }
  return reasons.join("; ");
}

function signedBy(cert: X509Certificate, issuer: string | X509Certificate): boolean {
  try {
    const ca = issuer instanceof X509Certificate ? issuer : new X509Certificate(issuer);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

function destroy(socket: TLSSocket, conn: Conn): void {
  // A late error from a socket we gave up on has nobody to report to.
  socket.on("error", () => {});
  socket.destroy();
  // Closed here too, not only when the stream over it is torn down later.
  conn.close();
}

function checkPort(port: number, operation: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot ${operation}: port "${port}" is not an integer in 0-65535`);
  }
}
