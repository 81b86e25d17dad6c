/**
 * What the TLS tests share: certificates' echo server, peers (openssl,
 * socat, Python), bounded reads and connections to a listener.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TimeoutError } from "../errors.ts";
import { type Certificates, makeCertificates } from "../../tests/_support/certs.ts";
import { connectNativeTls, connectTls, listenTls, type TlsListener } from "./tls.ts";
import type { Conn } from "./types.ts";
import { commandOutput, killAfter } from "../../tests/_support/command.ts";

export const encoder = new TextEncoder();

export const decoder = new TextDecoder();

export const LONG = 10_000; // generous bound for anything that should succeed

/** Reads exactly `n` bytes (or until end of stream). */

export async function readN(conn: Conn, n: number, timeout = LONG): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let off = 0;
  const deadline = Date.now() + timeout;
  while (off < n) {
    const got = await conn.read(out.subarray(off), { deadline });
    if (got === null) break;
    off += got;
  }
  return out.subarray(0, off);
}

/** A TLS server on loopback that writes back what it reads until end of stream. */

export function echoServer(certs: Certificates, alpnProtocols?: string[]) {
  const listener = listenTls({ cert: certs.cert, key: certs.key, alpnProtocols });
  const served = (async () => {
    using conn = await listener.accept({ timeout: LONG });
    const buf = new Uint8Array(64 * 1024);
    for (let n; (n = await conn.read(buf, { timeout: LONG })) !== null;) {
      await conn.write(buf.subarray(0, n), { timeout: LONG });
    }
    await conn.closeWrite();
  })();
  return {
    listener,
    served,
    async [Symbol.asyncDispose]() {
      listener.close();
      await served.catch(() => {});
    },
  };
}

/** Starts a peer process and waits for its first stdout line matching `ready` (group 1: port). */

export async function startPeer(command: string, args: string[], ready: RegExp) {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), LONG);
  });
  try {
    while (!port) {
      const { value, done } = await Promise.race([lines.read(), timeout]);
      if (done) break;
      text += value;
      const m = ready.exec(text);
      if (m) port = Number(m[1]);
    }
  } catch {
    // Reported below with the output so far.
  } finally {
    clearTimeout(timer);
  }
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    using _ = killAfter(child, 5000);
    await lines.cancel().catch(() => {});
    await child.status;
  };
  if (!port) {
    await stop();
    throw new Error(`Cannot start ${command}: no "${ready.source}" in its output: ${text}`);
  }
  return { port, [Symbol.asyncDispose]: stop };
}

export async function openssl(args: string[]): Promise<string> {
  const out = await commandOutput("openssl", { args, stdout: "piped", stderr: "null" });
  assert.ok(out.success, `openssl ${args.join(" ")} failed`);
  return decoder.decode(out.stdout).trim();
}

export async function connectTo(listener: TlsListener, certs: Certificates) {
  return await connectTls({
    port: listener.addr.port,
    caCerts: [certs.caCert],
    timeout: LONG,
  });
}

/**
 * A client that never reads: the server's writes must stop (time out)
 * long before 256 MiB, and every byte it managed to send is still readable.
 */
export async function assertUnreadClientBounded(
  connect: (listener: TlsListener, certs: Certificates) => Promise<Conn>,
): Promise<void> {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key });
  const accepted = listener.accept({ timeout: LONG });
  using conn = await connect(listener, certs);
  using server = await accepted;
  const chunk = new Uint8Array(256 * 1024);
  const limit = 256 * 1024 * 1024;
  let sent = 0;
  while (sent < limit) {
    try {
      await server.write(chunk, { timeout: 500 });
    } catch (error) {
      assert.ok(error instanceof TimeoutError, String(error));
      break;
    }
    sent += chunk.length;
  }
  assert.ok(sent < limit, `the client took all ${sent} bytes`);
  const got = await readN(conn, sent, 30_000);
  assert.equal(got.length, sent);
}

// ---------------------------------------------------------------------------
// Deno's own TLS client: connectNativeTls() and startNativeTls().

export async function connectNativeTo(listener: TlsListener, certs: Certificates) {
  return await connectNativeTls({
    port: listener.addr.port,
    servername: "localhost",
    caCerts: [certs.caCert],
    timeout: LONG,
  });
}
