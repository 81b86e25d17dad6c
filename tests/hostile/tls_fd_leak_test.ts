// A TLS server against clients that start a handshake and never finish it: once
// we close such a connection its socket (and file descriptor) must be gone,
// even while the client stays. Deno's own TLS server (`Deno.listenTls`) kept
// the socket until the client left, so a client could exhaust the process's
// descriptors; this counts /proc/self/fd while the clients hold.
import assert from "node:assert/strict";
import { within } from "../_support/command.ts";
import { makeCertificates } from "../_support/certs.ts";
import { listenTls, type ListenTlsOptions } from "../../lib/transport/tls_listener.ts";
import { startEchoServer } from "../../plugins/echo/mod.ts";

const CLIENTS = 200;

// Opens `count` connections, sends each the first 10 bytes of a ClientHello
// whose record says 512 follow, prints READY, and holds them until stdin closes.
const HALF_HANDSHAKE = `
import socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03")
    socks.append(s)
print("READY", flush=True)
sys.stdin.read()
`;

function openFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

/** A TLS server under test: its port, how many connections it closed, how to stop it. */
interface ServerUnderTest {
  port: number;
  closed(): number;
  close(): Promise<void>;
}

// A listenTls server that accepts every client, waits briefly for a byte of
// application data (the handshake cannot finish), then closes it as any
// server's deadline would.
function listenerUnderTest(
  certs: { cert: string; key: string },
  server: Pick<ListenTlsOptions, "tlsServer">,
): ServerUnderTest {
  const listener = listenTls({ cert: certs.cert, key: certs.key, ...server });
  let closed = 0;
  const served = (async () => {
    for (let i = 0; i < CLIENTS; i++) {
      const conn = await listener.accept({ timeout: 20_000 });
      conn.read(new Uint8Array(1), { timeout: 200 }).catch(() => null).finally(() => {
        conn.close();
        closed++;
      });
    }
  })();
  return {
    port: listener.addr.port,
    closed: () => closed,
    close: async () => {
      await within(served, 30_000, "every client to be accepted");
      listener.close();
    },
  };
}

async function fdsWhileHalfHandshakesHold(
  start: () => Promise<ServerUnderTest>,
): Promise<{ closed: number; extra: number }> {
  const before = openFds();
  const server = await start();
  const child = new Deno.Command("python3", {
    args: ["-c", HALF_HANDSHAKE, String(server.port), String(CLIENTS)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = await within(reader.read(), 30_000, "the clients to connect");
    assert.equal(first.value?.trim(), "READY");
    reader.releaseLock();
    // Bounded waits: every connection closed (up to 20 s, ended by the last
    // close: a loaded machine may take seconds over 200 handshakes), then its
    // descriptor released (the listener's own descriptor is the one
    // expected above `before`; Deno's server keeps them: 5 s spent here).
    for (let i = 0; i < 400 && server.closed() < CLIENTS; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < 100 && openFds() > before + 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return { closed: server.closed(), extra: openFds() - before };
  } finally {
    await child.stdin.close();
    await within(child.status, 20_000, "the clients to leave");
    clearTimeout(timer);
    await child.stdout.cancel().catch(() => {});
    await server.close();
  }
}

Deno.test('listenTls({ tlsServer: "node" }): a connection closed mid-handshake releases its descriptor while the client stays', async () => {
  await using certs = await makeCertificates();
  const { closed, extra } = await fdsWhileHalfHandshakesHold(() =>
    Promise.resolve(listenerUnderTest(certs, { tlsServer: "node" }))
  );
  assert.equal(closed, CLIENTS);
  // A few descriptors of slack for the runtime; 200 leaked sockets are far above.
  assert.ok(extra <= 10, `${extra} descriptors still open after closing ${closed} connections`);
});

Deno.test("listenTls() (Deno's server, the default) still keeps the socket of a connection closed mid-handshake (documented; this fails once Deno fixes it)", async () => {
  await using certs = await makeCertificates();
  const { closed, extra } = await fdsWhileHalfHandshakesHold(() =>
    Promise.resolve(listenerUnderTest(certs, {}))
  );
  assert.equal(closed, CLIENTS);
  assert.ok(
    extra >= CLIENTS / 2,
    `only ${extra} descriptors left open: update README's Transports bullet`,
  );
});

Deno.test("echo server with tlsServer node: connections closed mid-handshake by the idle timeout release their descriptors", async () => {
  await using certs = await makeCertificates();
  const { closed, extra } = await fdsWhileHalfHandshakesHold(async () => {
    const echo = await startEchoServer({
      transport: "tls",
      cert: certs.certFile,
      key: certs.keyFile,
      idleTimeoutMs: 200,
      maxConnections: CLIENTS,
      tlsServer: "node",
    });
    return {
      port: (echo.address as Deno.NetAddr).port,
      closed: () => echo.stats().idle_closed,
      close: () => echo.close(),
    };
  });
  assert.equal(closed, CLIENTS);
  assert.ok(extra <= 10, `${extra} descriptors still open after closing ${closed} connections`);
});
