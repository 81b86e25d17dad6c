/**
 * {@linkcode certificateFacts}: the facts a test checks in an X.509 certificate.
 *
 * @module
 */
import { X509Certificate } from "node:crypto";

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
export function distinguishedName(text: string): string {
  return text.split("\n").filter((part) => part !== "").join(", ");
}
