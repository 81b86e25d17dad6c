/**
 * What a TLS connection of the `node:tls` client reports: {@linkcode TlsConn} and its {@linkcode TlsInfo}.
 *
 * @module
 */
import type { CertificateFacts } from "./certificate_facts.ts";
import type { Conn } from "./types.ts";

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
