// HTTPS connections for the probe: trust settings from params, the TLS
// transports, and the handshake facts renamed to the probe's snake_case.
//
// Two TLS clients, because neither does everything. `node:tls` reports the
// protocol, cipher, certificate and why a verification failed, but each
// request through its streams costs about 0.1 ms of CPU, which would be in
// every measured latency of a keep-alive run. Deno's own TLS client costs
// nothing measurable beyond the cipher but reports only ALPN and the leaf
// certificate. Its connect, handshake and first-byte phases are within
// curl's and blackbox_exporter's, where node:tls adds 0.1-0.3 ms of its own
// JS layers to each (BENCHMARKS.md, the exporter's and "First connection"):
// so by default ("native", and "auto" with `repeat` > 1, and load runs) a
// probe first inspects an origin with a handshake-only `node:tls`
// connection, then carries its requests on Deno's client. "node" (and
// "auto" with `repeat` 1) runs on one node:tls connection, every fact from
// the connection that carried the request, in less wall time. A
// certificate that does not verify never gets that far: without `insecure`
// the inspection fails the probe with the reason (and its facts); with it,
// the inspected connection itself carries the requests (Deno's client
// cannot accept such a certificate). Nor can it accept a few that node:tls
// verifies (a name only in the subject's CN): for those, node:tls carries
// the requests after Deno's client refused.
//
// The certificate fact always describes the connection that carried the
// requests: Deno's client reports the certificate it received, and one that
// differs from the inspection's fails the probe (the protocol and cipher
// facts would describe another server). On a runtime where Deno's client
// does not report it, node:tls carries the requests.
import {
  type CertificateFacts,
  type Conn,
  ConnectionError,
  connectTcp,
  connectTls,
  formatAddress,
  startNativeTls,
  type TlsConn,
  type TlsInfo,
} from "../../lib/transport/mod.ts";
import { setImmediate } from "node:timers";
import type { HttpProbeClientParams } from "./params.ts";
import { readInputTextFile } from "../../lib/plugin/mod.ts";

/** Trust settings for every HTTPS connection of a probe. */
export interface TlsSettings {
  insecure: boolean;
  caCerts?: string[];
  servername?: string;
  /** The TLS client that carries requests, `"auto"` resolved (see {@linkcode tlsSettings}). */
  client: "native" | "node";
}

/** The certificate of the server, as a fact. */
export interface CertificateFact {
  subject: string;
  issuer: string;
  subject_alt_names: string[];
  not_before: string;
  not_after: string;
  days_left: number;
  fingerprint256: string;
  serial_number: string;
}

/**
 * Where the protocol, cipher and verification facts come from:
 * `"inspection"`, a handshake-only connection to the same address and name
 * just before the measured one (which presented the same certificate);
 * `"connection"`, the measured connection itself. The certificate fact
 * always comes from the measured connection.
 */
export type TlsFactsSource = "inspection" | "connection";

/** What the TLS handshake showed, as a fact. */
export interface TlsFacts {
  protocol: string;
  cipher: string;
  alpn: string | null;
  authorized: boolean;
  authorization_error?: string;
  certificate?: CertificateFact;
  /**
   * The certificate the inspection saw, only when it differs from the
   * measured connection's (the probe then fails).
   */
  inspection_certificate?: CertificateFact;
  source: TlsFactsSource;
  /**
   * Why Deno's client refused a handshake that node:tls verified, when the
   * requests went over node:tls for that reason.
   */
  native_refused?: string;
}

/** An open HTTPS connection and when its phases ended. */
export interface OpenedTls {
  conn: Conn;
  facts: TlsFacts;
  /** `performance.now()` when TCP connected. */
  connectEnd: number;
  /** `performance.now()` when the handshake finished. */
  tlsEnd: number;
  /** Milliseconds spent on an inspection before the measured connection (0 if none). */
  inspectionMs: number;
}

/** What a probe reports as happening now, for its timeout's message. */
export type TlsStep = "connect" | "handshake";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const ALPN = ["http/1.1"];

/**
 * Reads the trust settings from params; `caFile` may hold several PEM
 * certificates. `tlsClient` "auto" becomes "node" for a probe of one request
 * (one connection, every fact from it) and "native" when `keepAlive` says
 * one connection carries many (`repeat` > 1 by default; a load run's VU).
 *
 * @throws {TypeError} When `caFile` holds no PEM certificate.
 */
export async function tlsSettings(
  params: HttpProbeClientParams,
  keepAlive: boolean = params.repeat > 1,
): Promise<TlsSettings> {
  const auto = params.tlsClient === "auto";
  const settings: TlsSettings = {
    insecure: params.insecure,
    servername: params.servername,
    client: auto ? (keepAlive ? "native" : "node") : params.tlsClient as "native" | "node",
  };
  if (params.caFile !== undefined) {
    const pem = await readInputTextFile(params.caFile);
    const certs = pem.match(PEM_CERT);
    if (!certs) {
      throw new TypeError(`Cannot use caFile "${params.caFile}": it holds no PEM certificate`);
    }
    settings.caCerts = certs;
  }
  return settings;
}

/** What an inspection of one address and name found. */
interface Inspection {
  facts: TlsFacts;
  /** Whether Deno's client accepts the certificate (it may refuse what node:tls accepts). */
  native: boolean;
  /** What Deno's client said when it refused this origin. */
  nativeRefused?: string;
}

/**
 * Opens the HTTPS connections of one probe. Each address and name is
 * inspected once: later connections to it (after the server closed one)
 * reuse the facts.
 */
export class TlsOpener {
  readonly #settings: TlsSettings;
  readonly #inspected = new Map<string, Inspection>();
  /** Handshake-only connections opened so far. */
  inspections = 0;
  /**
   * The facts of the last handshake that completed but was refused (a
   * certificate that does not verify, or one that differs from the
   * inspection's), for the outcome of the failed probe.
   */
  refused: TlsFacts | undefined;

  constructor(settings: TlsSettings) {
    this.#settings = settings;
  }

  /**
   * Connects to `ip:port` for `host` (or the configured servername),
   * offering ALPN `http/1.1` only. `onStep` says which step is under way,
   * so a deadline that passes names it.
   */
  async open(
    ip: string,
    port: number,
    host: string,
    signal: AbortSignal,
    onStep: (step: TlsStep) => void,
  ): Promise<OpenedTls> {
    const started = performance.now();
    const servername = this.#settings.servername ?? host;
    const key = `${ip} ${port} ${servername}`;
    let inspection = this.#inspected.get(key);
    if (this.#settings.client === "node") {
      const conn = await this.#openNode(ip, port, servername, signal, onStep, "connection");
      return opened(conn, tlsFacts(conn.tls, "connection"), 0);
    }
    if (!inspection) {
      const inspected = await this.#openNode(ip, port, servername, signal, onStep, "inspection");
      // Deno's client cannot accept a certificate that does not verify:
      // with `insecure`, this connection carries the requests.
      if (!inspected.tls.authorized) {
        return opened(inspected, tlsFacts(inspected.tls, "connection"), 0);
      }
      this.inspections++;
      await closeGracefully(inspected, signal);
      // Let the inspection's teardown callbacks run now rather than inside
      // the measured connect (they added 0.2 ms to connect_ms and up to
      // several ms to tls_ms). A macrotask after the pending I/O callbacks
      // is enough: setTimeout(0) waited 2.2 ms for Deno's timer, a third of
      // an exporter's https probe, for phases no shorter (BENCHMARKS.md).
      await new Promise((resolve) => setImmediate(resolve));
      inspection = { facts: tlsFacts(inspected.tls, "inspection"), native: true };
      this.#inspected.set(key, inspection);
    }
    if (inspection.native) {
      const measuredStart = performance.now();
      onStep("connect");
      const tcp = await connectTcp({ hostname: ip, port, signal });
      onStep("handshake");
      let conn;
      try {
        conn = await startNativeTls(tcp, {
          servername,
          caCerts: this.#settings.caCerts,
          alpnProtocols: ALPN,
          signal,
        });
      } catch (error) {
        if (!(error instanceof ConnectionError && error.code === "tls")) throw error;
        // Deno's client is stricter than node:tls, which verified this
        // certificate (e.g. it ignores a name that is only in the subject's
        // CN): node:tls carries this origin's requests.
        inspection.native = false;
        inspection.nativeRefused = error.message;
      }
      if (conn) {
        const received = conn.tls.peerCertificate;
        const inspected = inspection.facts.certificate;
        if (received && received.fingerprint256 === inspected?.fingerprint256) {
          const facts = {
            ...inspection.facts,
            alpn: conn.tls.alpnProtocol,
            certificate: certificateFact(received),
          };
          return opened(conn, facts, measuredStart - started);
        }
        conn.close();
        if (received) {
          this.refused = {
            ...inspection.facts,
            alpn: conn.tls.alpnProtocol,
            certificate: certificateFact(received),
            inspection_certificate: inspected,
          };
          throw new ConnectionError({
            code: "tls",
            operation: "handshake",
            address: formatAddress({ transport: "tcp", hostname: ip, port }),
            detail: `the certificate (sha256 ${received.fingerprint256}) is not the one the ` +
              `inspection connection received (sha256 ${inspected?.fingerprint256 ?? "none"}): ` +
              `the server presents different certificates on different connections ` +
              `(tlsClient "node" inspects and measures on one connection)`,
          });
        }
        // This runtime's client does not say which certificate it got:
        // node:tls carries the requests, so the facts describe them.
        inspection.native = false;
        inspection.nativeRefused = "Deno's TLS client does not report the certificate it received";
      }
    }
    const measuredStart = performance.now();
    const conn = await this.#openNode(ip, port, servername, signal, onStep, "connection");
    const facts = tlsFacts(conn.tls, "connection");
    if (inspection?.nativeRefused !== undefined) facts.native_refused = inspection.nativeRefused;
    return opened(conn, facts, measuredStart - started);
  }

  /**
   * Connects and runs a node:tls handshake that reports everything; a
   * certificate that does not verify fails it unless `insecure`, and its
   * facts are kept in `refused`.
   */
  async #openNode(
    ip: string,
    port: number,
    servername: string,
    signal: AbortSignal,
    onStep: (step: TlsStep) => void,
    source: TlsFactsSource,
  ): Promise<TlsConn> {
    onStep("connect");
    // node:tls on a node:net socket of its own: no stream layer of ours
    // under it, so its handshake costs what Deno's native one does. It
    // connects whatever the verification said, so that a refusal can still
    // report what the handshake showed; no request goes out on it then.
    const conn = await connectTls({
      hostname: ip,
      port,
      servername,
      caCerts: this.#settings.caCerts,
      insecure: true,
      alpnProtocols: ALPN,
      signal,
      nodeSocket: true,
      onConnected: () => onStep("handshake"),
    });
    if (conn.tls.authorized || this.#settings.insecure) return conn;
    conn.close();
    this.refused = tlsFacts(conn.tls, source);
    throw new ConnectionError({
      code: "tls",
      operation: "handshake",
      address: formatAddress(conn.remoteAddr),
      detail: conn.tls.authorizationError,
    });
  }
}

function opened(conn: Conn, facts: TlsFacts, inspectionMs: number): OpenedTls {
  const tlsEnd = conn.timings.tlsEnd ?? performance.now();
  return { conn, facts, connectEnd: conn.timings.connectEnd ?? tlsEnd, tlsEnd, inspectionMs };
}

/**
 * Ends a TLS session with close_notify before closing, so the server sees a
 * client that said goodbye, not a truncated session.
 */
async function closeGracefully(conn: TlsConn, signal: AbortSignal): Promise<void> {
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.closeWrite();
  } catch {
    // The peer went first: nothing left to say.
  } finally {
    signal.removeEventListener("abort", onAbort);
    conn.close();
  }
}

function tlsFacts(info: TlsInfo, source: TlsFactsSource): TlsFacts {
  const facts = {
    protocol: info.protocol,
    cipher: info.cipher,
    alpn: info.alpnProtocol,
    authorized: info.authorized,
  } as TlsFacts;
  if (info.authorizationError !== undefined) facts.authorization_error = info.authorizationError;
  if (info.peerCertificate) facts.certificate = certificateFact(info.peerCertificate);
  facts.source = source;
  return facts;
}

function certificateFact(cert: CertificateFacts): CertificateFact {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    subject_alt_names: cert.subjectAltNames,
    not_before: cert.validFrom,
    not_after: cert.validTo,
    days_left: cert.daysLeft,
    fingerprint256: cert.fingerprint256,
    serial_number: cert.serialNumber,
  };
}
