// A certificate chain of any length made with the `openssl` command line
// tool: a root CA, `intermediates` CAs each signed by the one above, and a
// leaf for localhost and 127.0.0.1 signed by the last. Files in a fresh
// temporary directory, removed on dispose.
import { commandOutput } from "./command.ts";

/** A chain's files. */
export interface CertChain extends AsyncDisposable {
  dir: string;
  /** The root CA (the trust anchor). */
  rootFile: string;
  /** The leaf followed by the intermediates, nearest first (what a server sends). */
  chainFile: string;
  /** The leaf alone. */
  leafFile: string;
  /** The intermediates, nearest the leaf first. */
  intermediatesFile: string;
  /** The leaf's private key. */
  keyFile: string;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
const CA_EXT = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
const LEAF_EXT = "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n" +
  "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n";

async function openssl(cwd: string, args: string[]): Promise<void> {
  const out = await commandOutput("openssl", { args, cwd, stdout: "piped", stderr: "piped" });
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`Cannot make a chain: "openssl ${args.join(" ")}" failed: ${text}`);
  }
}

/** Makes a root, `intermediates` CAs and a leaf (needs openssl on PATH). */
export async function makeCertChain(intermediates: number): Promise<CertChain> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-chain-" });
  try {
    await Deno.writeTextFile(`${dir}/ca.ext`, CA_EXT);
    await Deno.writeTextFile(`${dir}/leaf.ext`, LEAF_EXT);
    await openssl(dir, [
      "req",
      "-x509",
      ...EC,
      "-keyout",
      "ca0.key",
      "-out",
      "ca0.pem",
      "-days",
      "3",
      "-subj",
      "/CN=wiretest chain root",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]); // deno-fmt-ignore
    const sign = async (name: string, subject: string, issuer: string, ext: string) => {
      await openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
      await openssl(dir, [
        "x509", "-req", "-in", `${name}.csr`, "-CA", `${issuer}.pem`, "-CAkey", `${issuer}.key`,
        "-CAcreateserial", "-out", `${name}.pem`, "-days", "3", "-extfile", ext,
      ]); // deno-fmt-ignore
    };
    for (let i = 1; i <= intermediates; i++) {
      await sign(`ca${i}`, `/CN=wiretest chain intermediate ${i}`, `ca${i - 1}`, "ca.ext");
    }
    await sign("leaf", "/CN=localhost", `ca${intermediates}`, "leaf.ext");
    const read = (name: string) => Deno.readTextFile(`${dir}/${name}.pem`);
    let upward = "";
    for (let i = intermediates; i >= 1; i--) upward += await read(`ca${i}`);
    await Deno.writeTextFile(`${dir}/intermediates.pem`, upward);
    await Deno.writeTextFile(`${dir}/chain.pem`, (await read("leaf")) + upward);
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    dir,
    rootFile: `${dir}/ca0.pem`,
    chainFile: `${dir}/chain.pem`,
    leafFile: `${dir}/leaf.pem`,
    intermediatesFile: `${dir}/intermediates.pem`,
    keyFile: `${dir}/leaf.key`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
