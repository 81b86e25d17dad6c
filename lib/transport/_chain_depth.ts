// rustls (webpki), behind both of Deno's TLS clients, accepts at most 6
// intermediate certificates between a leaf and a trust anchor and reports a
// longer chain as an unknown issuer (node:tls) or MaximumPathDepthExceeded
// (Deno.connectTls). OpenSSL accepts up to 100, so such a chain verifies
// with openssl and curl: the reason given says the limit, not "untrusted".
import { rootCertificates } from "node:tls";
import { X509Certificate } from "node:crypto";

/** The most intermediate certificates Deno's TLS library (rustls) accepts in a chain. */
export const MAX_INTERMEDIATES = 6;

/** Certificates of a presented chain looked at, at most (a peer may send many). */
const MAX_WALK = 32;

/** The reason for a chain longer than the TLS library accepts (`intermediates` when known). */
export function chainTooLongReason(intermediates?: number): string {
  const library = "the TLS library (rustls, in Deno)";
  return intermediates === undefined
    ? `certificate chain is longer than ${library} accepts: more than ${MAX_INTERMEDIATES} ` +
      `intermediate certificates`
    : `certificate chain has ${intermediates} intermediate certificates, more than the ` +
      `${MAX_INTERMEDIATES} ${library} accepts`;
}

/** A certificate of a chain as node:tls's `getPeerCertificate(true)` gives it. */
export interface PeerCertificateLink {
  raw?: Uint8Array;
  fingerprint256?: string;
  issuerCertificate?: PeerCertificateLink;
}

/**
 * How many intermediates the presented chain has, when it is linked by
 * signatures from the leaf up to a certificate that a trust anchor (`caCerts`,
 * else the runtime's roots) signed and is longer than the TLS library
 * accepts; `undefined` otherwise (the chain is short enough, broken, or leads
 * to no trusted CA: then the library's own reason stands).
 */
export function overlongChain(
  leaf: PeerCertificateLink | undefined,
  caCerts: readonly string[] | undefined,
): number | undefined {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let link = leaf; link && chain.length < MAX_WALK; link = link.issuerCertificate) {
    if (!(link.raw instanceof Uint8Array)) break;
    const key = link.fingerprint256 ?? String(chain.length);
    if (seen.has(key)) break;
    seen.add(key);
    try {
      chain.push(new X509Certificate(link.raw));
    } catch {
      break;
    }
  }
  let intermediates = 0;
  for (let i = 0; i + 1 < chain.length; i++) {
    const issuer = chain[i + 1];
    if (!signedBy(chain[i], issuer) || signedBy(issuer, issuer)) break;
    intermediates++;
  }
  if (intermediates <= MAX_INTERMEDIATES) return undefined;
  const top = chain[intermediates];
  const anchors = caCerts ?? rootCertificates;
  return anchors.some((anchor) => signedBy(top, anchor)) ? intermediates : undefined;
}

function signedBy(cert: X509Certificate, issuer: string | X509Certificate): boolean {
  try {
    const ca = issuer instanceof X509Certificate ? issuer : new X509Certificate(issuer);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}
