/**
 * Test certificates made with the `openssl` command line tool: a throw-away
 * CA and a server certificate it signed, in a fresh temporary directory.
 *
 * The leaf is what Deno (rustls) and OpenSSL peers accept as a server
 * certificate: `basicConstraints=critical,CA:FALSE` (without it rustls
 * rejects the leaf as `CaUsedAsEndEntity`), key usage, `serverAuth` and a
 * subject alternative name for every name (`DNS:` for host names, `IP:` for
 * literals). Each call makes a new CA with a unique name, so certificates
 * from two calls never trust each other (the "unknown CA" case).
 *
 * Needs `--allow-run=openssl`, `--allow-read` and `--allow-write` for the
 * temporary directory.
 *
 * @example A valid, an expired and a wrong-name certificate
 * ```ts
 * import { makeCertificates } from "./certs.ts";
 * import { X509Certificate } from "node:crypto";
 * import assert from "node:assert/strict";
 *
 * await using valid = await makeCertificates();
 * await using expired = await makeCertificates({ expired: true });
 * await using wrongName = await makeCertificates({ names: ["wrong.example"] });
 * assert.ok(new X509Certificate(valid.cert).checkHost("localhost"));
 * assert.ok(new X509Certificate(expired.cert).validToDate.getTime() < Date.now());
 * assert.equal(new X509Certificate(wrongName.cert).checkHost("localhost"), undefined);
 * ```
 *
 * @module
 */
import { commandOutput } from "./command.ts";

/** Options for {@linkcode makeCertificates}. */
export interface CertificateOptions {
  /**
   * Names the leaf is valid for; the first is also its common name.
   * IP literals become `IP:` entries, the rest `DNS:` entries.
   * Default `["localhost", "127.0.0.1"]`.
   */
  names?: string[];
  /** Make a leaf whose validity ended yesterday. Default `false`. */
  expired?: boolean;
  /** Length of the leaf's validity in days. Default 30. */
  days?: number;
}

/** PEM texts and files made by {@linkcode makeCertificates}. */
export interface Certificates {
  /** The CA certificate (PEM): give it to clients as their only trusted root. */
  caCert: string;
  /** The leaf (server) certificate (PEM), signed by the CA. */
  cert: string;
  /** The leaf's private key (PEM, PKCS #8, P-256). */
  key: string;
  /** The temporary directory holding the files below. */
  dir: string;
  /** Path of the CA certificate, for peers that read files (`openssl s_server -CAfile`). */
  caCertFile: string;
  /** Path of the leaf certificate (`-cert`). */
  certFile: string;
  /** Path of the leaf key (`-key`). */
  keyFile: string;
  /** Removes the directory. Idempotent. */
  cleanup(): Promise<void>;
  /** Removes the directory (for `await using`). */
  [Symbol.asyncDispose](): Promise<void>;
}

const DAY_MS = 86_400_000;

/**
 * Makes a CA and a leaf certificate signed by it in a new temporary
 * directory.
 *
 * A valid leaf starts one hour ago (to tolerate clock skew) and lasts `days`
 * days; an expired one ended a day ago and lasted `days` days before that.
 *
 * @param options Names, validity, expiry.
 * @returns The PEM texts, their file paths and `cleanup`.
 * @throws {TypeError} When a name is empty or has characters a host name or IP literal cannot have.
 * @throws {RangeError} When `days` is not a positive integer.
 * @throws {Error} When `openssl` fails; the message has its output.
 */
export async function makeCertificates(options: CertificateOptions = {}): Promise<Certificates> {
  const names = options.names ?? ["localhost", "127.0.0.1"];
  const days = options.days ?? 30;
  if (names.length === 0) {
    throw new TypeError("Cannot make certificates: names is empty");
  }
  for (const name of names) {
    if (!/^[A-Za-z0-9*._:-]+$/.test(name)) {
      throw new TypeError(`Cannot make certificates: name "${name}" is not a host name or IP`);
    }
  }
  if (!Number.isInteger(days) || days <= 0) {
    throw new RangeError(`Cannot make certificates: days "${days}" is not a positive integer`);
  }
  const now = Date.now();
  const notAfter = options.expired ? now - DAY_MS : now + days * DAY_MS;
  const notBefore = options.expired ? notAfter - days * DAY_MS : now - DAY_MS / 24;

  const dir = await Deno.makeTempDir({ prefix: "wiretest-certs-" });
  let removed = false;
  const cleanup = async () => {
    if (removed) return;
    removed = true;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const caName = `wiretest test CA ${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeTextFile(`${dir}/index.txt`, "");
    await Deno.writeTextFile(`${dir}/serial.txt`, randomSerial());
    await Deno.writeTextFile(`${dir}/ca.cnf`, caConfig(names));
    await openssl(dir, [
      "req",
      "-x509",
      ...P256,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      String(days + 2),
      "-subj",
      `/CN=${caName}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await openssl(dir, [
      "req",
      "-new",
      ...P256,
      "-keyout",
      "leaf.key",
      "-out",
      "leaf.csr",
      "-subj",
      `/CN=${names[0]}`,
    ]);
    // `openssl ca` (unlike `openssl x509 -req` in 3.0) takes explicit start
    // and end dates, which is how an expired leaf is made without faking time.
    await openssl(dir, [
      "ca",
      "-batch",
      "-config",
      "ca.cnf",
      "-cert",
      "ca.pem",
      "-keyfile",
      "ca.key",
      "-in",
      "leaf.csr",
      "-out",
      "leaf.pem",
      "-startdate",
      asn1Time(notBefore),
      "-enddate",
      asn1Time(notAfter),
      "-extensions",
      "leaf_ext",
      "-notext",
    ]);
    const files = {
      caCertFile: `${dir}/ca.pem`,
      certFile: `${dir}/leaf.pem`,
      keyFile: `${dir}/leaf.key`,
    };
    return {
      caCert: await Deno.readTextFile(files.caCertFile),
      cert: await Deno.readTextFile(files.certFile),
      key: await Deno.readTextFile(files.keyFile),
      dir,
      ...files,
      cleanup,
      [Symbol.asyncDispose]: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

const P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

function caConfig(names: string[]): string {
  const san = names.map((n) => (isIpLiteral(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  return [
    "[ca]",
    "default_ca = test_ca",
    "[test_ca]",
    "database = index.txt",
    "serial = serial.txt",
    "new_certs_dir = .",
    "default_md = sha256",
    "policy = policy_any",
    "unique_subject = no",
    "copy_extensions = none",
    "[policy_any]",
    "commonName = supplied",
    "[leaf_ext]",
    "basicConstraints = critical,CA:FALSE",
    "keyUsage = critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage = serverAuth,clientAuth",
    `subjectAltName = ${san}`,
    "",
  ].join("\n");
}

/** 16 random bytes in hex with the top bit clear: a positive, unique serial. */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  return `${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}\n`;
}

function isIpLiteral(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(":");
}

/** `YYYYMMDDHHMMSSZ`, the form `openssl ca -startdate/-enddate` takes. */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  const out = await commandOutput("openssl", { args, cwd, stdout: "piped", stderr: "piped" });
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`Cannot make certificates: "openssl ${args[0]}" failed: ${text}`);
  }
}
