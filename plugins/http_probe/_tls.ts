// HTTPS connections for the probe: trust settings from params, the TLS
// transport, and its handshake facts renamed to the probe's snake_case.
import { connectTcp } from "../../lib/transport/tcp.ts";
import { startTls, type TlsInfo } from "../../lib/transport/tls.ts";
import type { Conn } from "../../lib/transport/types.ts";
import type { HttpProbeClientParams } from "./params.ts";

/** Trust settings for every HTTPS connection of a probe. */
export interface TlsSettings {
  insecure: boolean;
  caCerts?: string[];
  servername?: string;
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

/** What the TLS handshake showed, as a fact. */
export interface TlsFacts {
  protocol: string;
  cipher: string;
  alpn: string | null;
  authorized: boolean;
  authorization_error?: string;
  certificate?: CertificateFact;
}

/** An open HTTPS connection and when its phases ended. */
export interface OpenedTls {
  conn: Conn;
  facts: TlsFacts;
  /** `performance.now()` when TCP connected. */
  connectEnd: number;
  /** `performance.now()` when the handshake finished. */
  tlsEnd: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads the trust settings from params; `caFile` may hold several PEM
 * certificates.
 *
 * @throws {TypeError} When `caFile` holds no PEM certificate.
 */
export async function tlsSettings(params: HttpProbeClientParams): Promise<TlsSettings> {
  const settings: TlsSettings = { insecure: params.insecure, servername: params.servername };
  if (params.caFile !== undefined) {
    const pem = await Deno.readTextFile(params.caFile);
    const certs = pem.match(PEM_CERT);
    if (!certs) {
      throw new TypeError(`Cannot use caFile "${params.caFile}": it holds no PEM certificate`);
    }
    settings.caCerts = certs;
  }
  return settings;
}

/**
 * Connects to `ip:port` and runs the handshake for `host` (or the
 * configured servername), offering ALPN `http/1.1` only. `onConnected` runs
 * between the two, so a deadline that passes in the handshake names it.
 */
export async function openTls(
  ip: string,
  port: number,
  host: string,
  settings: TlsSettings,
  signal: AbortSignal,
  onConnected: () => void = () => {},
): Promise<OpenedTls> {
  const tcp = await connectTcp({ hostname: ip, port, signal });
  onConnected();
  // startTls owns the TCP connection: a failed handshake closes it.
  const conn = await startTls(tcp, {
    servername: settings.servername ?? host,
    caCerts: settings.caCerts,
    insecure: settings.insecure,
    alpnProtocols: ["http/1.1"],
    signal,
  });
  const tlsEnd = conn.timings.tlsEnd ?? performance.now();
  return {
    conn,
    facts: tlsFacts(conn.tls),
    connectEnd: conn.timings.connectEnd ?? tlsEnd,
    tlsEnd,
  };
}

function tlsFacts(info: TlsInfo): TlsFacts {
  const facts: TlsFacts = {
    protocol: info.protocol,
    cipher: info.cipher,
    alpn: info.alpnProtocol,
    authorized: info.authorized,
  };
  if (info.authorizationError !== undefined) facts.authorization_error = info.authorizationError;
  const cert = info.peerCertificate;
  if (cert) {
    facts.certificate = {
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
  return facts;
}
