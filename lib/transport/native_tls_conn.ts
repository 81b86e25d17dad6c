/**
 * What a TLS connection of Deno's native client reports: {@linkcode NativeTlsConn} and its
 * {@linkcode NativeTlsInfo}.
 *
 * @module
 */
import type { CertificateFacts } from "./certificate_facts.ts";
import type { Conn } from "./types.ts";

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
