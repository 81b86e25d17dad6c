// echo against peers we did not write: the seeds' threaded Python echo server
// and client, socat (EXEC:cat, OPENSSL, UDP) and OpenBSD nc, over TCP, TLS,
// Unix sockets and UDP on loopback.
import assert from "node:assert/strict";
import { formatAddress } from "../../lib/transport/address.ts";
import { runEchoClient, startEchoServer } from "../../plugins/echo/mod.ts";
import { makeCertificates } from "../_support/certs.ts";
import {
  freePort,
  ignoreWithout,
  spawnPeer,
  waitFor,
  waitForListen,
  waitForTcp,
  waitForUdp,
} from "../_support/peer.ts";

// The seeds' TCP echo server: bind, listen, accept, a thread per client,
// recv(16) in a loop and sendall what came, until the peer closes.
const PYTHON_TCP_ECHO = `
import socket, sys, threading
def handle(conn):
    with conn:
        while True:
            data = conn.recv(16)
            if not data:
                break
            conn.sendall(data)
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(128)
while True:
    conn, _ = server.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
`;

// The seeds' TCP client: connect, sendall, then recv until the server closes
// (after shutting down its own side, so the echo server sees the end).
const PYTHON_TCP_CLIENT = `
import socket, sys
message = bytes(range(256)) * int(sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as s:
    s.sendall(message)
    s.shutdown(socket.SHUT_WR)
    received = b""
    while True:
        data = s.recv(1024)
        if not data:
            break
        received += data
print(len(received), received == message)
`;

// The seeds' UDP echo server: recvfrom, sendto the same address.
const PYTHON_UDP_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    data, addr = s.recvfrom(65535)
    s.sendto(data, addr)
`;

// The seeds' UDP client: sendto each message, recvfrom the reply.
const PYTHON_UDP_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for message in sys.argv[2:]:
    s.sendto(message.encode(), ("127.0.0.1", int(sys.argv[1])))
    data, addr = s.recvfrom(65535)
    print(data.decode(), addr[1])
`;

/** Runs a program to completion with `input` on stdin; killed after `timeoutMs`. */
async function runProgram(
  cmd: string,
  args: string[],
  input = "",
  timeoutMs = 10_000,
): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
    const { stdout, stderr, success } = await child.output();
    const err = new TextDecoder().decode(stderr);
    assert.ok(success, `${cmd} failed: ${err}`);
    return new TextDecoder().decode(stdout);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until something accepts connections on the Unix socket at `path` (bounded). */
async function waitForUnix(path: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (true) {
    try {
      (await Deno.connect({ transport: "unix", path })).close();
      return;
    } catch (error) {
      if (Date.now() > until) {
        throw new Error(`Cannot reach peer on unix:${path} within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

function portOf(address: Deno.Addr): number {
  return (address as Deno.NetAddr).port;
}

Deno.test({
  name: "echo client verifies round trips against the seeds' threaded Python echo server",
  ignore: ignoreWithout("python3"),
  async fn() {
    const port = freePort();
    await using _ = spawnPeer("python3", ["-c", PYTHON_TCP_ECHO, String(port)]);
    await waitForTcp(port);
    const small = await runEchoClient({
      target: `127.0.0.1:${port}`,
      count: 20,
      connections: 8,
    });
    assert.equal(small.ok, true, small.error?.message);
    assert.equal(small.metrics.round_trips, 160);
    assert.equal(small.metrics.bytes_received, 800);
    // recv(16) returns the echo in many small pieces; all must line up.
    const large = await runEchoClient({
      target: `127.0.0.1:${port}`,
      payloadSize: 256 * 1024,
      count: 2,
      connections: 2,
      timeoutMs: 30_000,
    });
    assert.equal(large.ok, true, large.error?.message);
    assert.equal(large.metrics.mismatches, 0);
    assert.equal(large.metrics.bytes_received, 4 * 256 * 1024);
  },
});

Deno.test({
  name: "echo client verifies round trips against socat TCP-LISTEN,fork EXEC:cat",
  ignore: ignoreWithout("socat"),
  async fn() {
    const port = freePort();
    await using _ = spawnPeer("socat", [
      `TCP-LISTEN:${port},fork,reuseaddr,bind=127.0.0.1`,
      "EXEC:cat",
    ]);
    await waitForTcp(port);
    const outcome = await runEchoClient({
      target: `127.0.0.1:${port}`,
      payloadSize: 1024 * 1024,
      count: 3,
      connections: 4,
      chunkSize: 10_000,
      timeoutMs: 30_000,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.round_trips, 12);
    assert.equal(outcome.metrics.bytes_received, 12 * 1024 * 1024);
  },
});

Deno.test({
  name: "echo client verifies round trips against socat UNIX-LISTEN,fork EXEC:cat",
  ignore: ignoreWithout("socat"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/socat.sock`;
      await using _ = spawnPeer("socat", [`UNIX-LISTEN:${path},fork`, "EXEC:cat"]);
      await waitForUnix(path);
      const outcome = await runEchoClient({ target: `unix:${path}`, count: 10, connections: 3 });
      assert.equal(outcome.ok, true, outcome.error?.message);
      assert.equal(outcome.metrics.round_trips, 30);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "echo client verifies tls round trips against socat OPENSSL-LISTEN EXEC:cat",
  ignore: ignoreWithout("socat"),
  async fn() {
    await using certs = await makeCertificates();
    const port = freePort();
    await using _ = spawnPeer("socat", [
      `OPENSSL-LISTEN:${port},fork,reuseaddr,bind=127.0.0.1,cert=${certs.certFile},` +
      `key=${certs.keyFile},verify=0`,
      "EXEC:cat",
    ]);
    await waitForTcp(port);
    const outcome = await runEchoClient({
      target: `localhost:${port}`,
      transport: "tls",
      caFile: certs.caCertFile,
      payloadSize: 100_000,
      count: 3,
      connections: 2,
      timeoutMs: 30_000,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.bytes_received, 6 * 100_000);
  },
});

Deno.test({
  name: "echo client verifies udp round trips against socat UDP4-RECVFROM,fork EXEC:cat",
  ignore: ignoreWithout("socat"),
  async fn() {
    const port = freePort("udp");
    await using _ = spawnPeer("socat", [`UDP4-RECVFROM:${port},fork,bind=127.0.0.1`, "EXEC:cat"]);
    await waitForUdp(port);
    const outcome = await runEchoClient({
      target: `127.0.0.1:${port}`,
      transport: "udp",
      payload: "datagram",
      count: 10,
      timeoutMs: 3000,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.round_trips, 10);
    assert.equal(outcome.metrics.bytes_received, 80);
  },
});

Deno.test({
  name: "echo client verifies udp round trips against the seeds' Python UDP echo server",
  ignore: ignoreWithout("python3"),
  async fn() {
    const port = freePort("udp");
    await using _ = spawnPeer("python3", ["-c", PYTHON_UDP_ECHO, String(port)]);
    await waitForUdp(port);
    const outcome = await runEchoClient({
      target: `127.0.0.1:${port}`,
      transport: "udp",
      payloadSize: 60_000,
      count: 20,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.round_trips, 20);
    assert.equal(outcome.metrics.mismatches, 0);
  },
});

// A Python TLS echo server that waits 300 ms after each accept before its
// handshake: a run of durationMs 100 is over before its first round trip.
const PYTHON_SLOW_TLS_ECHO = `
import socket, ssl, sys, time
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(8)
while True:
    conn, _ = server.accept()
    time.sleep(0.3)
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        while True:
            data = tls.recv(65536)
            if not data:
                break
            tls.sendall(data)
        tls.close()
    except OSError:
        conn.close()
`;

Deno.test({
  name: "echo client fails a run that ends before its first round trip (slow Python TLS server)",
  ignore: ignoreWithout("python3"),
  async fn() {
    await using certs = await makeCertificates();
    const port = freePort();
    await using _ = spawnPeer("python3", [
      "-c",
      PYTHON_SLOW_TLS_ECHO,
      String(port),
      certs.certFile,
      certs.keyFile,
    ]);
    await waitForListen(port);
    const outcome = await runEchoClient({
      target: `localhost:${port}`,
      transport: "tls",
      caFile: certs.caCertFile,
      durationMs: 100,
    });
    assert.equal(outcome.metrics.connections, 1);
    assert.equal(outcome.metrics.round_trips, 0);
    assert.equal(outcome.ok, false);
    assert.deepEqual(outcome.error, {
      name: "NoRoundTripError",
      code: "no-round-trip",
      message: `Cannot measure echo from localhost:${port}: no round trip completed within 100 ms`,
    });
  },
});

// A UDP echo server that damages some replies: per datagram in turn, one
// byte flipped, an exact echo, the last 10 bytes cut, first and last bytes
// flipped.
const PYTHON_UDP_CORRUPTING_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
n = 0
while True:
    data, addr = s.recvfrom(65535)
    data = bytearray(data)
    kind = n % 4
    n += 1
    if kind == 0:
        data[10] ^= 0xFF
    elif kind == 2:
        data = data[:-10]
    elif kind == 3:
        data[0] ^= 0xFF
        data[-1] ^= 0xFF
    s.sendto(bytes(data), addr)
`;

Deno.test({
  name: "echo client counts every byte a corrupting Python UDP echo server gets wrong",
  ignore: ignoreWithout("python3"),
  async fn() {
    const port = freePort("udp");
    await using _ = spawnPeer("python3", ["-c", PYTHON_UDP_CORRUPTING_ECHO, String(port)]);
    await waitForUdp(port);
    const outcome = await runEchoClient({
      target: `127.0.0.1:${port}`,
      transport: "udp",
      payloadSize: 100,
      count: 4,
      timeoutMs: 3000,
    });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.code, "mismatch", outcome.error?.message);
    assert.equal(outcome.metrics.round_trips, 4);
    assert.equal(outcome.metrics.bytes_received, 390);
    // 1 flipped + 0 + 10 missing + 2 flipped.
    assert.equal(outcome.metrics.mismatches, 13);
  },
});

Deno.test({
  name: "echo server answers OpenBSD nc -N",
  ignore: ignoreWithout("nc"),
  async fn() {
    const server = await startEchoServer({});
    try {
      const out = await runProgram(
        "nc",
        ["-N", "127.0.0.1", String(portOf(server.address))],
        "hello",
      );
      assert.equal(out, "hello");
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "echo server answers socat over tcp and unix sockets",
  ignore: ignoreWithout("socat"),
  async fn() {
    const tcp = await startEchoServer({});
    const unix = await startEchoServer({ transport: "unix" });
    try {
      const text = "line one\nline two\n".repeat(1000);
      assert.equal(
        await runProgram("socat", ["-", `TCP:127.0.0.1:${portOf(tcp.address)}`], text),
        text,
      );
      const path = (unix.address as Deno.UnixAddr).path;
      assert.equal(await runProgram("socat", ["-", `UNIX-CONNECT:${path}`], text), text);
    } finally {
      await tcp.close();
      await unix.close();
    }
  },
});

Deno.test({
  name: "echo server answers socat OPENSSL with a verified certificate",
  ignore: ignoreWithout("socat"),
  async fn() {
    await using certs = await makeCertificates();
    const server = await startEchoServer({
      transport: "tls",
      cert: certs.certFile,
      key: certs.keyFile,
    });
    try {
      const out = await runProgram("socat", [
        "-",
        `OPENSSL:localhost:${portOf(server.address)},cafile=${certs.caCertFile}`,
      ], "over tls");
      assert.equal(out, "over tls");
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "echo server answers the seeds' Python TCP client byte for byte",
  ignore: ignoreWithout("python3"),
  async fn() {
    const server = await startEchoServer({});
    try {
      // 256 bytes x 400 = 100 KiB: the echo arrives in many recv(1024) calls.
      const out = await runProgram("python3", [
        "-c",
        PYTHON_TCP_CLIENT,
        String(portOf(server.address)),
        "400",
      ]);
      assert.equal(out.trim(), "102400 True");
      await waitFor(() => server.stats().active === 0, "the connection to end");
      assert.equal(server.stats().bytes_out, 102_400);
    } finally {
      await server.close();
    }
  },
});

// On both I/O paths of the UDP echo: the runtime's sockets and libc through FFI.
for (const io of ["deno", "libc"] as const) {
  Deno.test({
    name: `echo server answers the seeds' Python UDP client from its own port (io ${io})`,
    ignore: ignoreWithout("python3"),
    async fn() {
      const server = await startEchoServer({ transport: "udp", io });
      try {
        const port = portOf(server.address);
        const out = await runProgram("python3", [
          "-c",
          PYTHON_UDP_CLIENT,
          String(port),
          "first",
          "second",
        ]);
        assert.equal(out, `first ${port}\nsecond ${port}\n`);
        assert.equal(server.stats().datagrams, 2);
      } finally {
        await server.close();
      }
    },
  });
}

Deno.test({
  name: "echo client and server agree over every transport (formatAddress round trip)",
  async fn() {
    await using certs = await makeCertificates();
    for (
      const options of [
        { transport: "tcp" },
        { transport: "unix" },
        { transport: "udp", io: "deno" },
        { transport: "udp", io: "libc" },
        { transport: "tls", cert: certs.certFile, key: certs.keyFile },
      ] as const
    ) {
      const server = await startEchoServer(options);
      try {
        const outcome = await runEchoClient({
          target: formatAddress(server.address),
          transport: options.transport,
          caFile: options.transport === "tls" ? certs.caCertFile : undefined,
          count: 5,
        });
        assert.equal(outcome.ok, true, `${options.transport}: ${outcome.error?.message}`);
        assert.equal(outcome.metrics.round_trips, 5);
      } finally {
        await server.close();
      }
    }
  },
});
