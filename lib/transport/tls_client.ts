/**
 * The TLS client on `node:tls` (which Deno implements over rustls):
 * {@linkcode connectTls} and {@linkcode startTls} report everything: protocol,
 * cipher, the peer certificate, why a verification failed, and `insecure` can
 * connect anyway. Each read and write goes through node's streams: a small
 * request and response cost 60–100 µs more than on Deno's native client.
 *
 * @module
 */
import { connect as nodeTlsConnect, type TLSSocket } from "node:tls";
import { X509Certificate } from "node:crypto";
import { connect as netConnect, isIP } from "node:net";
import type { Duplex } from "node:stream";
import { ConnectionError, toNetError } from "../errors.ts";
import { remainingMs, withDeadline } from "../_internal/deadline.ts";
import { checkPort } from "../_internal/check_port.ts";
import {
  abortReason,
  connDuplex,
  NodeTlsConn,
  type NodeTlsConnInit,
  ReadGate,
  toTlsNetError,
  type Underlying,
} from "./_node_tls_conn.ts";
import { connectThenUpgrade, resolveHost, withWholeTimeout } from "./_connect_then_upgrade.ts";
import { formatAddress } from "./address.ts";
import { certificateFacts, distinguishedName } from "./certificate_facts.ts";
import { chainTooLongReason, overlongChain } from "./_chain_depth.ts";
import type { TlsConn, TlsInfo } from "./tls_conn.ts";
import type { Conn, IoOptions, TimingMarks } from "./types.ts";

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
  /**
   * Run the session on a TCP socket of `node:net` instead of over a
   * connection of this module (default `false`). node:tls then skips a
   * stream layer: in Deno 2.9 on loopback its handshake took about 0.8 ms
   * instead of 1.3 ms, as fast as Deno's native client, and every fact is
   * still reported. But Deno's `node:net` socket reads on while paused, so
   * nothing holds a fast peer back: more than
   * {@linkcode NODE_SOCKET_MAX_UNREAD_BYTES} received and not yet read fail
   * the connection (`ConnectionError` code `other`, operation `read`). Use
   * it where reads keep up with the peer (a probe reading a response).
   */
  nodeSocket?: boolean;
  /** Called once TCP is connected, before the handshake starts (to note which step is under way). */
  onConnected?: () => void;
}

/** Unread bytes a {@linkcode ConnectTlsOptions.nodeSocket} connection holds before it fails: 16 MiB. */
export const NODE_SOCKET_MAX_UNREAD_BYTES: number = 16 * 1024 * 1024;

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
  if (options.nodeSocket) return connectOnNodeSocket(options);
  return connectThenUpgrade(
    options,
    (tcp, io, where, hostname) => {
      options.onConnected?.();
      return upgrade(tcp, { ...options, ...io }, where, options.servername ?? hostname);
    },
  );
}

/**
 * {@linkcode connectTls} with `nodeSocket`: resolve, then a `node:net`
 * connection (`connectEnd` at its `connect` event), then node:tls over that
 * socket, all under one timeout.
 */
async function connectOnNodeSocket(options: ConnectTlsOptions): Promise<TlsConn> {
  const hostname = options.hostname ?? "127.0.0.1";
  checkPort(options.port, "connect");
  const where = formatAddress({ transport: "tcp", hostname, port: options.port });
  const ms = remainingMs(options);
  const io: IoOptions = {
    signal: options.signal,
    deadline: ms === undefined ? undefined : Date.now() + ms,
  };
  const timings: TimingMarks = { dnsStart: performance.now() };
  try {
    const address = await resolveHost(hostname, io, options);
    timings.dnsEnd = timings.connectStart = performance.now();
    const tcp = netConnect({ host: address, port: options.port, noDelay: options.noDelay ?? true });
    if (options.keepAlive) tcp.setKeepAlive(true);
    const connected = new Promise<void>((resolve, reject) => {
      tcp.once("connect", () => resolve());
      tcp.once("error", reject);
    });
    try {
      await withDeadline(io, { operation: "connect", address: where }, () => connected);
    } catch (error) {
      tcp.on("error", () => {});
      tcp.destroy();
      throw abortReason(error, options) ?? toNetError(error, "connect", where);
    }
    timings.connectEnd = performance.now();
    options.onConnected?.();
    const underlying: Underlying = {
      localAddr: { transport: "tcp", hostname: tcp.localAddress!, port: tcp.localPort! },
      remoteAddr: { transport: "tcp", hostname: tcp.remoteAddress!, port: tcp.remotePort! },
      close: () => void tcp.destroy(),
      setNoDelay: (enable = true) => void tcp.setNoDelay(enable),
      setKeepAlive: (enable = true) => void tcp.setKeepAlive(enable),
    };
    return await secure(
      tcp,
      { underlying, gate: new ReadGate(), maxUnreadBytes: NODE_SOCKET_MAX_UNREAD_BYTES },
      timings,
      { ...options, ...io },
      where,
      options.servername ?? hostname,
    );
  } catch (error) {
    throw withWholeTimeout(error, ms);
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

/**
 * Runs a TLS client handshake over `conn` and judges the certificate. On
 * any failure `conn` is closed.
 */
function upgrade(
  conn: Conn,
  options: TlsClientOptions,
  where: string,
  verifyName: string,
): Promise<TlsConn> {
  const { dnsStart, dnsEnd, connectStart, connectEnd } = conn.timings;
  const timings: TimingMarks = { dnsStart, dnsEnd, connectStart, connectEnd };
  const gate = new ReadGate();
  return secure(
    connDuplex(conn, gate),
    { underlying: conn, gate },
    timings,
    options,
    where,
    verifyName,
  );
}

/**
 * Runs a node:tls client handshake over `stream` and judges the
 * certificate. On any failure `carrier.underlying` is closed.
 */
async function secure(
  stream: Duplex,
  carrier: Pick<NodeTlsConnInit, "underlying" | "gate" | "maxUnreadBytes">,
  timings: TimingMarks,
  options: TlsClientOptions,
  where: string,
  verifyName: string,
): Promise<TlsConn> {
  const conn = carrier.underlying;
  let socket: TLSSocket;
  try {
    socket = nodeTlsConnect({
      socket: stream,
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
  return new NodeTlsConn(socket, { tls: info, timings, ...carrier });
}

/** Waits for `secureConnect` under the deadline; destroys the socket on failure. */
async function handshake(
  socket: TLSSocket,
  conn: Underlying,
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
    const code = String(socket.authorizationError ?? "");
    const intermediates = /ISSUER|LEAF_SIGNATURE|UNTRUSTED/.test(code)
      ? overlongChain(socket.getPeerCertificate(true), caCerts)
      : undefined;
    info.authorizationError = intermediates === undefined
      ? explainVerifyError(code, peer, verifyName, caCerts)
      : chainTooLongReason(intermediates);
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

function destroy(socket: TLSSocket, conn: Underlying): void {
  // A late error from a socket we gave up on has nobody to report to.
  socket.on("error", () => {});
  socket.destroy();
  // Closed here too, not only when the stream over it is torn down later.
  conn.close();
}
