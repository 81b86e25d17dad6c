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
export { listenTls, type ListenTlsOptions, type TlsListener } from "./tls_listener.ts";
export { type CertificateFacts, certificateFacts } from "./certificate_facts.ts";
export type { TlsConn, TlsInfo } from "./tls_conn.ts";
export {
  connectTls,
  type ConnectTlsOptions,
  NODE_SOCKET_MAX_UNREAD_BYTES,
  startTls,
  type StartTlsOptions,
  type TlsClientOptions,
} from "./tls_client.ts";
export type { NativeTlsConn, NativeTlsInfo } from "./native_tls_conn.ts";
export {
  connectNativeTls,
  type ConnectNativeTlsOptions,
  startNativeTls,
  type StartNativeTlsOptions,
} from "./native_tls_client.ts";
