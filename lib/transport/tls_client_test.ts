import assert from "node:assert/strict";
import { ConnectionError, TimeoutError } from "../errors.ts";
import { type Certificates, makeCertificates } from "../../tests/_support/certs.ts";
import { connectTcp, listenTcp } from "./tcp.ts";
import {
  connectNativeTls,
  connectTls,
  type ConnectTlsOptions,
  listenTls,
  NODE_SOCKET_MAX_UNREAD_BYTES,
  startNativeTls,
  startTls,
  type TlsInfo,
} from "./tls.ts";
import { killAfter } from "../../tests/_support/command.ts";
import {
  assertUnreadClientBounded,
  connectNativeTo,
  connectTo,
  decoder,
  echoServer,
  encoder,
  LONG,
  openssl,
  readN,
  startPeer,
} from "./_tls_test_utils.ts";
Deno.test("connectTls() exchanges bytes with listenTls() when the CA is trusted", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  using conn = await connectTo(echo.listener, certs);
  await conn.write(encoder.encode("hello over tls"));
  assert.equal(decoder.decode(await readN(conn, 14)), "hello over tls");
  assert.equal(conn.transport, "tls");
  assert.equal(conn.tls.authorized, true);
  assert.equal(conn.tls.authorizationError, undefined);
  assert.equal(conn.tls.protocol, "TLSv1.3");
  assert.match(conn.tls.cipher, /^TLS_/);
  assert.equal((conn.remoteAddr as Deno.NetAddr).port, echo.listener.addr.port);
});

Deno.test("connectTls() reports alpnProtocol null when the client offers none", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs, ["h2"]);
  using conn = await connectTo(echo.listener, certs);
  assert.equal(conn.tls.alpnProtocol, null);
});

Deno.test("connectTls() reports the peer certificate facts as openssl sees them", async () => {
  await using certs = await makeCertificates({ days: 30 });
  await using echo = echoServer(certs);
  using conn = await connectTo(echo.listener, certs);
  const facts = conn.tls.peerCertificate!;
  assert.equal(facts.subject, "CN=localhost");
  assert.match(facts.issuer, /^CN=wiretest test CA [0-9a-f]{8}$/);
  assert.deepEqual(facts.subjectAltNames, ["DNS:localhost", "IP Address:127.0.0.1"]);
  assert.ok(facts.daysLeft >= 29 && facts.daysLeft <= 30, `daysLeft ${facts.daysLeft}`);
  const fingerprint = await openssl([
    "x509",
    "-in",
    certs.certFile,
    "-noout",
    "-fingerprint",
    "-sha256",
  ]);
  assert.equal(`sha256 Fingerprint=${facts.fingerprint256}`, fingerprint);
  const serial = await openssl(["x509", "-in", certs.certFile, "-noout", "-serial"]);
  assert.equal(`serial=${facts.serialNumber}`, serial);
  assert.deepEqual(JSON.parse(JSON.stringify(conn.tls)), conn.tls);
});

Deno.test("connectTls() with insecure connects to an expired certificate and says why", async () => {
  await using certs = await makeCertificates({ expired: true });
  await using echo = echoServer(certs);
  using conn = await connectTls({
    port: echo.listener.addr.port,
    caCerts: [certs.caCert],
    insecure: true,
    timeout: LONG,
  });
  assert.equal(conn.tls.authorized, false);
  assert.match(conn.tls.authorizationError!, /certificate has expired/);
  assert.ok(conn.tls.peerCertificate!.daysLeft < 0);
  await conn.write(encoder.encode("still works"));
  assert.equal(decoder.decode(await readN(conn, 11)), "still works");
});

Deno.test("connectTls() verifies against servername rather than the address", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  using conn = await connectTls({
    port: echo.listener.addr.port,
    servername: "other.example",
    caCerts: [certs.caCert],
    insecure: true,
    timeout: LONG,
  });
  assert.equal(conn.tls.authorized, false);
  assert.match(conn.tls.authorizationError!, /not valid for "other\.example"/);
});

// What both TLS clients must do alike, run once per client so that each
// case's name says which client failed. Where the clients word a failure
// differently, the client's entry holds what its message must say.
interface TlsClient {
  /** The connect function's name, which starts every case's name. */
  name: string;
  /** The upgrade function's name, for the cases of `start`. */
  startName: string;
  connect: typeof connectTls | typeof connectNativeTls;
  /** The upgrade function, if the client has one apart from `connect`. */
  start?: typeof startTls | typeof startNativeTls;
  /** Connects to a listener of this file's certificates. */
  open: typeof connectTo | typeof connectNativeTo;
  /** What a peer that hangs up mid-handshake reads as. */
  hangUpCode: "reset" | "closed";
  expired: RegExp;
  wrongName: RegExp;
  unknownCa: RegExp;
  /** What the client reports of a verified handshake, beyond connecting at all. */
  assertVerified: (tls: Partial<TlsInfo>) => void;
}

const TLS_CLIENTS: readonly TlsClient[] = [
  {
    name: "connectTls",
    startName: "startTls",
    connect: connectTls,
    start: startTls,
    open: connectTo,
    // node:tls reads a hang-up mid-handshake as a reset.
    hangUpCode: "reset",
    expired: /certificate has expired/,
    wrongName: /not valid for "localhost" \(it names DNS:wrong\.example\)/,
    unknownCa: /not signed by a trusted CA \(issuer CN=wiretest test CA/,
    assertVerified: (tls) => {
      assert.equal(tls.authorized, true);
      assert.equal(tls.authorizationError, undefined);
    },
  },
  {
    // node:tls on a node:net socket of its own: the same facts and verdicts.
    name: "connectTls[nodeSocket]",
    startName: "",
    connect: (options: ConnectTlsOptions) => connectTls({ ...options, nodeSocket: true }),
    open: (listener, certs) =>
      connectTls({
        port: listener.addr.port,
        caCerts: [certs.caCert],
        timeout: LONG,
        nodeSocket: true,
      }),
    hangUpCode: "reset",
    expired: /certificate has expired/,
    wrongName: /not valid for "localhost" \(it names DNS:wrong\.example\)/,
    unknownCa: /not signed by a trusted CA \(issuer CN=wiretest test CA/,
    assertVerified: (tls) => {
      assert.equal(tls.authorized, true);
      assert.equal(tls.authorizationError, undefined);
    },
  },
  {
    name: "connectNativeTls",
    startName: "startNativeTls",
    connect: connectNativeTls,
    start: startNativeTls,
    open: connectNativeTo,
    hangUpCode: "closed",
    expired: /expired/,
    wrongName: /not valid for name "localhost"/,
    unknownCa: /UnknownIssuer/,
    // Deno's client reports no verdict: the certificate verified, or it would not connect.
    assertVerified: (tls) => assert.equal(tls.authorized, undefined),
  },
];

for (const client of TLS_CLIENTS) {
  const { name, startName, connect, start, open, hangUpCode } = client;
  Deno.test(`${name}() exchanges bytes with listenTls() and negotiates the ALPN protocol both sides offer`, async () => {
    await using certs = await makeCertificates();
    await using echo = echoServer(certs, ["h2", "http/1.1"]);
    using conn = await connect({
      port: echo.listener.addr.port,
      servername: "localhost",
      caCerts: [certs.caCert],
      alpnProtocols: ["http/1.1"],
      timeout: LONG,
    });
    await conn.write(encoder.encode("hello over tls"));
    assert.equal(decoder.decode(await readN(conn, 14)), "hello over tls");
    assert.equal(conn.transport, "tls");
    assert.equal(conn.tls.alpnProtocol, "http/1.1");
    assert.equal((conn.remoteAddr as Deno.NetAddr).port, echo.listener.addr.port);
  });
  Deno.test(`${name}() resolves a host name and verifies the certificate against it`, async () => {
    await using certs = await makeCertificates();
    await using echo = echoServer(certs);
    using conn = await connect({
      hostname: "localhost",
      port: echo.listener.addr.port,
      caCerts: [certs.caCert],
      timeout: LONG,
    });
    client.assertVerified(conn.tls);
    assert.equal((conn.remoteAddr as Deno.NetAddr).hostname, "127.0.0.1");
    assert.ok(conn.timings.dnsEnd! >= conn.timings.dnsStart!);
    assert.equal(conn.tls.alpnProtocol, null);
  });
  Deno.test(`${name}() rejects an expired certificate with a tls error naming the expiry`, async () => {
    await using certs = await makeCertificates({ expired: true });
    await using echo = echoServer(certs);
    const port = echo.listener.addr.port;
    const error = await open(echo.listener, certs).then(
      () => assert.fail("connected"),
      (e) => e,
    );
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.code, "tls");
    assert.equal(error.operation, "handshake");
    assert.match(error.message, new RegExp(`^Cannot handshake with 127\\.0\\.0\\.1:${port}: `));
    assert.match(error.message, client.expired);
    assert.doesNotMatch(error.message, /trusted CA/);
  });
  Deno.test(`${name}() rejects a certificate for another name`, async () => {
    await using certs = await makeCertificates({ names: ["wrong.example"] });
    await using echo = echoServer(certs);
    await assert.rejects(
      connect({
        hostname: "localhost",
        port: echo.listener.addr.port,
        caCerts: [certs.caCert],
        timeout: LONG,
      }),
      (e: unknown) => {
        assert.ok(e instanceof ConnectionError);
        assert.equal(e.code, "tls");
        assert.match(e.message, client.wrongName);
        return true;
      },
    );
  });
  Deno.test(`${name}() rejects a certificate from an unknown CA`, async () => {
    await using certs = await makeCertificates();
    await using other = await makeCertificates();
    await using echo = echoServer(certs);
    await assert.rejects(open(echo.listener, other), (e: unknown) => {
      assert.ok(e instanceof ConnectionError);
      assert.equal(e.code, "tls");
      assert.match(e.message, client.unknownCa);
      return true;
    });
  });
  Deno.test(`${name}() sets timing marks in phase order`, async () => {
    await using certs = await makeCertificates();
    await using echo = echoServer(certs);
    using conn = await open(echo.listener, certs);
    await conn.write(encoder.encode("x"));
    await readN(conn, 1);
    const t = conn.timings;
    assert.ok(t.dnsStart! <= t.dnsEnd!);
    assert.ok(t.connectStart! <= t.connectEnd!);
    assert.ok(t.connectEnd! <= t.tlsEnd!);
    assert.ok(t.tlsEnd! <= t.firstByte!);
  });
  Deno.test(`${name}() times out in the handshake when the peer never speaks TLS`, async () => {
    using listener = listenTcp();
    const accepted = listener.accept({ timeout: LONG });
    // 1 s: past the connect even on a loaded machine, so the handshake times out.
    const error = await connect({ port: listener.addr.port, timeout: 1000 }).then(
      () => assert.fail("connected"),
      (e) => e,
    );
    using _peer = await accepted;
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.operation, "handshake");
    assert.equal(error.timeoutMs, 1000);
  });
  Deno.test(`${name}() rejects with the signal's reason when aborted in the handshake`, async () => {
    using listener = listenTcp();
    const accepted = listener.accept({ timeout: LONG });
    const controller = new AbortController();
    const pending = connect({ port: listener.addr.port, signal: controller.signal });
    using _peer = await accepted;
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(pending, (e) => e === reason);
  });
  Deno.test(`${name}() fails with a tls error when the port answers plain text`, async () => {
    using listener = listenTcp();
    const served = (async () => {
      using conn = await listener.accept({ timeout: LONG });
      await conn.write(encoder.encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
      await conn.read(new Uint8Array(4096), { timeout: LONG }).catch(() => null);
    })();
    const error = await connect({ port: listener.addr.port, timeout: LONG }).then(
      () => assert.fail("connected"),
      (e) => e,
    );
    await served;
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.code, "tls");
    assert.equal(error.operation, "handshake");
  });
  Deno.test(`${name}() fails with a typed error when the peer closes during the handshake`, async () => {
    using listener = listenTcp();
    const served = (async () => {
      const conn = await listener.accept({ timeout: LONG });
      await conn.read(new Uint8Array(4096), { timeout: LONG });
      conn.close();
    })();
    const error = await connect({ port: listener.addr.port, timeout: LONG }).then(
      () => assert.fail("connected"),
      (e) => e,
    );
    await served;
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.code, hangUpCode);
    assert.equal(error.operation, "handshake");
  });
  Deno.test(`${name}(): read() that times out loses no data`, async () => {
    await using certs = await makeCertificates();
    using listener = listenTls({ cert: certs.cert, key: certs.key });
    const accepted = listener.accept({ timeout: LONG });
    using conn = await open(listener, certs);
    using server = await accepted;
    await server.write(encoder.encode("a"));
    assert.equal(decoder.decode(await readN(conn, 1)), "a");
    await assert.rejects(conn.read(new Uint8Array(8), { timeout: 50 }), TimeoutError);
    await server.write(encoder.encode("late"));
    assert.equal(decoder.decode(await readN(conn, 4)), "late");
  });
  Deno.test(`${name}(): closeWrite() ends the peer's stream while this side still reads`, async () => {
    await using certs = await makeCertificates();
    using listener = listenTls({ cert: certs.cert, key: certs.key });
    const accepted = listener.accept({ timeout: LONG });
    using conn = await open(listener, certs);
    using server = await accepted;
    await conn.write(encoder.encode("req"));
    await conn.closeWrite();
    assert.equal(decoder.decode(await readN(server, 3)), "req");
    assert.equal(await server.read(new Uint8Array(8), { timeout: LONG }), null);
    await server.write(encoder.encode("reply"));
    assert.equal(decoder.decode(await readN(conn, 5)), "reply");
    await assert.rejects(conn.write(encoder.encode("more")), (e: unknown) => {
      assert.ok(e instanceof ConnectionError);
      assert.equal(e.code, "closed");
      return true;
    });
  });
  if (!start) continue;
  Deno.test(`${name}(): an unread connection stops taking bytes instead of buffering without bound`, async () => {
    await assertUnreadClientBounded(open);
  });
  Deno.test(`${startName}() verifies against the remote IP address by default`, async () => {
    await using certs = await makeCertificates();
    await using echo = echoServer(certs);
    const plain = await connectTcp({ port: echo.listener.addr.port, timeout: LONG });
    using conn = await start(plain, { caCerts: [certs.caCert], timeout: LONG });
    client.assertVerified(conn.tls);
    await conn.write(encoder.encode("ip"));
    assert.equal(decoder.decode(await readN(conn, 2)), "ip");
  });
  Deno.test(`${startName}() closes the plain connection when verification fails`, async () => {
    await using certs = await makeCertificates();
    await using other = await makeCertificates();
    await using echo = echoServer(certs);
    const plain = await connectTcp({ port: echo.listener.addr.port, timeout: LONG });
    await assert.rejects(
      start(plain, { servername: "localhost", caCerts: [other.caCert], timeout: LONG }),
      (e: unknown) => e instanceof ConnectionError && e.code === "tls",
    );
    assert.equal(plain.closed, true);
  });
  Deno.test(`${startName}() times out in the handshake when the peer stays silent`, async () => {
    using listener = listenTcp();
    const accepted = listener.accept({ timeout: LONG });
    const plain = await connectTcp({ port: listener.addr.port, timeout: LONG });
    using _peer = await accepted;
    await assert.rejects(start(plain, { timeout: 200 }), (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.operation, "handshake");
      return true;
    });
    assert.equal(plain.closed, true);
  });
}

Deno.test("connectTls({ nodeSocket: true }) fails an unread connection past its cap instead of buffering without bound", async () => {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key });
  const accepted = listener.accept({ timeout: LONG });
  using conn = await connectTls({
    port: listener.addr.port,
    caCerts: [certs.caCert],
    timeout: LONG,
    nodeSocket: true,
  });
  using server = await accepted;
  const chunk = new Uint8Array(256 * 1024);
  const limit = 256 * 1024 * 1024;
  let sent = 0;
  while (sent < limit) {
    try {
      // 3 s: a write stalled by a loaded machine (the client reads in this
      // process) is not taken for a client that stopped taking bytes.
      await server.write(chunk, { timeout: 3000 });
    } catch {
      break; // The client gave up on the connection, or stopped taking bytes.
    }
    sent += chunk.length;
  }
  assert.ok(sent < limit, `the client took all ${sent} bytes`);
  // What arrived before the cap is still readable; then the connection says why it failed.
  let read = 0;
  const buffer = new Uint8Array(1024 * 1024);
  const error = await (async () => {
    try {
      for (let n; (n = await conn.read(buffer, { timeout: LONG })) !== null;) read += n;
    } catch (error) {
      return error;
    }
  })();
  assert.ok(error instanceof ConnectionError, String(error));
  assert.equal(error.code, "other");
  assert.match(error.message, /more than were read, over the 16777216 a node:tls socket may hold/);
  assert.ok(read > NODE_SOCKET_MAX_UNREAD_BYTES, `read ${read}`);
  assert.ok(read <= NODE_SOCKET_MAX_UNREAD_BYTES + 4 * chunk.length, `read ${read}`);
});

Deno.test("connectTls({ nodeSocket: true }) reports a refused connection as a connect error and names the steps", async () => {
  const listener = listenTcp();
  const port = listener.addr.port;
  listener.close();
  let connected = false;
  await assert.rejects(
    connectTls({ port, timeout: LONG, nodeSocket: true, onConnected: () => connected = true }),
    (e: unknown) =>
      e instanceof ConnectionError && e.code === "refused" && e.operation === "connect",
  );
  assert.equal(connected, false);
  // A peer that accepts and never speaks TLS: onConnected ran, the timeout names the handshake.
  using silent = listenTcp();
  const accepted = silent.accept({ timeout: LONG });
  await assert.rejects(
    connectTls({
      port: silent.addr.port,
      // Past the connect even on a loaded machine: the handshake times out.
      timeout: 1000,
      nodeSocket: true,
      onConnected: () => connected = true,
    }),
    (e: unknown) => e instanceof TimeoutError && e.operation === "handshake",
  );
  assert.equal(connected, true);
  (await accepted).close();
});

Deno.test("connectTls() reports a refused connection as a connect error", async () => {
  const listener = listenTcp();
  const port = listener.addr.port;
  listener.close();
  await assert.rejects(connectTls({ port, timeout: LONG }), (e: unknown) => {
    assert.ok(e instanceof ConnectionError);
    assert.equal(e.code, "refused");
    assert.equal(e.operation, "connect");
    return true;
  });
});

Deno.test("connectTls() rejects a port out of range", async () => {
  await assert.rejects(connectTls({ port: 70000 }), RangeError);
});

Deno.test("read() rejects with the signal's reason and keeps the data for the next read", async () => {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key });
  const accepted = listener.accept({ timeout: LONG });
  using conn = await connectTo(listener, certs);
  using server = await accepted;
  const controller = new AbortController();
  const pending = conn.read(new Uint8Array(8), { signal: controller.signal });
  const reason = new Error("stop reading");
  controller.abort(reason);
  await assert.rejects(pending, (e) => e === reason);
  await server.write(encoder.encode("kept"));
  assert.equal(decoder.decode(await readN(conn, 4)), "kept");
});

Deno.test("read() returns null after the peer's data when the peer closes", async () => {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key });
  const accepted = listener.accept({ timeout: LONG });
  using conn = await connectTo(listener, certs);
  const server = await accepted;
  await server.write(encoder.encode("bye"));
  await server.closeWrite();
  server.close();
  assert.equal(decoder.decode(await readN(conn, 3)), "bye");
  assert.equal(await conn.read(new Uint8Array(8), { timeout: LONG }), null);
});

Deno.test("write() still works after the peer half-closes", async () => {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key });
  const accepted = listener.accept({ timeout: LONG });
  using conn = await connectTo(listener, certs);
  using server = await accepted;
  await server.write(encoder.encode("done"));
  await server.closeWrite();
  assert.equal(decoder.decode(await readN(conn, 5)), "done");
  await conn.write(encoder.encode("late reply"));
  assert.equal(decoder.decode(await readN(server, 10)), "late reply");
});

Deno.test("close() ends a pending read with a closed error and the peer sees the end", async () => {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key });
  const accepted = listener.accept({ timeout: LONG });
  const conn = await connectTo(listener, certs);
  using server = await accepted;
  const pending = conn.read(new Uint8Array(8));
  conn.close();
  conn.close();
  assert.equal(conn.closed, true);
  await assert.rejects(pending, (e: unknown) => {
    assert.ok(e instanceof ConnectionError);
    assert.equal(e.code, "closed");
    return true;
  });
  const end = await server.read(new Uint8Array(8), { timeout: LONG }).catch((e) => e);
  assert.ok(end === null || (end instanceof ConnectionError), String(end));
  await assert.rejects(conn.write(encoder.encode("x")), ConnectionError);
});

Deno.test("write() that times out closes the connection", async () => {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key });
  const accepted = listener.accept({ timeout: LONG });
  using conn = await connectTo(listener, certs);
  using server = await accepted;
  // Let the server finish its handshake, then never read again.
  await conn.write(encoder.encode("x"));
  assert.equal((await readN(server, 1)).length, 1);
  const big = new Uint8Array(64 * 1024 * 1024);
  await assert.rejects(conn.write(big, { timeout: 300 }), (e: unknown) => {
    assert.ok(e instanceof TimeoutError);
    assert.equal(e.operation, "write");
    return true;
  });
  assert.equal(conn.closed, true);
});

Deno.test("write() waits for the peer to drain and delivers every byte in order", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  using conn = await connectTo(echo.listener, certs);
  const data = new Uint8Array(4 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
  const [, back] = await Promise.all([
    (async () => {
      for (let off = 0; off < data.length; off += 256 * 1024) {
        await conn.write(data.subarray(off, off + 256 * 1024), { timeout: LONG });
      }
      await conn.closeWrite();
    })(),
    readN(conn, data.length + 1, 30_000),
  ]);
  assert.equal(back.length, data.length);
  assert.deepEqual(back, data);
});

Deno.test("setNoDelay() and setKeepAlive() apply to an open TLS connection", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  using conn = await connectTo(echo.listener, certs);
  conn.setNoDelay(false);
  conn.setKeepAlive(true);
  await conn.write(encoder.encode("ok"));
  assert.equal(decoder.decode(await readN(conn, 2)), "ok");
});

Deno.test("startTls() upgrades a plain connection after a STARTTLS exchange with Python's ssl", async () => {
  await using certs = await makeCertificates();
  const script = `
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv = socket.create_server(("127.0.0.1", 0))
print("PORT", srv.getsockname()[1], flush=True)
srv.settimeout(10)
conn, _ = srv.accept()
conn.settimeout(10)
f = conn.makefile("rb")
assert f.readline() == b"STARTTLS\\r\\n"
conn.sendall(b"220 ready\\r\\n")
tls = ctx.wrap_socket(conn, server_side=True)
data = tls.recv(100)
tls.sendall(data.upper())
tls.unwrap()
`;
  await using peer = await startPeer(
    "python3",
    ["-c", script, certs.certFile, certs.keyFile],
    /PORT (\d+)/,
  );
  const plain = await connectTcp({ port: peer.port, timeout: LONG });
  await plain.write(encoder.encode("STARTTLS\r\n"));
  assert.equal(decoder.decode(await readN(plain, 11)), "220 ready\r\n");
  using conn = await startTls(plain, {
    servername: "localhost",
    caCerts: [certs.caCert],
    timeout: LONG,
  });
  assert.equal(conn.tls.authorized, true);
  assert.equal(conn.tls.peerCertificate?.subject, "CN=localhost");
  await conn.write(encoder.encode("secret"));
  assert.equal(decoder.decode(await readN(conn, 6)), "SECRET");
  assert.ok(conn.timings.tlsEnd! >= conn.timings.connectEnd!);
});

/** openssl s_server for one connection, writing back each line reversed. */
function opensslReverser(certs: Certificates, args: string[]) {
  return startPeer("openssl", [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-cert",
    certs.certFile,
    "-key",
    certs.keyFile,
    ...args,
    "-naccept",
    "1",
    "-rev",
  ], /ACCEPT 127\.0\.0\.1:(\d+)/);
}

Deno.test("connectTls() interoperates with openssl s_server over TLS 1.3 and ALPN", async () => {
  await using certs = await makeCertificates();
  await using peer = await opensslReverser(certs, ["-alpn", "wiretest/1"]);
  using conn = await connectTls({
    port: peer.port,
    servername: "localhost",
    caCerts: [certs.caCert],
    alpnProtocols: ["wiretest/1"],
    timeout: LONG,
  });
  assert.equal(conn.tls.protocol, "TLSv1.3");
  assert.equal(conn.tls.alpnProtocol, "wiretest/1");
  assert.equal(conn.tls.authorized, true);
  await conn.write(encoder.encode("abc\n"));
  assert.equal(decoder.decode(await readN(conn, 4)), "cba\n");
});

Deno.test("connectTls() reports TLS 1.2 and its cipher against openssl s_server -tls1_2", async () => {
  await using certs = await makeCertificates();
  await using peer = await opensslReverser(certs, ["-tls1_2"]);
  using conn = await connectTls({
    port: peer.port,
    caCerts: [certs.caCert],
    timeout: LONG,
  });
  assert.equal(conn.tls.protocol, "TLSv1.2");
  assert.match(conn.tls.cipher, /^TLS_ECDHE_ECDSA_WITH_/);
  await conn.write(encoder.encode("xyz\n"));
  assert.equal(decoder.decode(await readN(conn, 4)), "zyx\n");
});

Deno.test("connectTls() interoperates with socat OPENSSL-LISTEN as an echo server", async () => {
  await using certs = await makeCertificates();
  const probe = listenTcp();
  const port = probe.addr.port;
  probe.close();
  const child = new Deno.Command("socat", {
    args: [
      `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,cert=${certs.certFile},key=${certs.keyFile},verify=0`,
      "PIPE",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let conn;
    for (let attempt = 0; attempt < 50 && !conn; attempt++) {
      conn = await connectTls({ port, caCerts: [certs.caCert], timeout: LONG }).catch((e) => {
        if (!(e instanceof ConnectionError && e.code === "refused")) throw e;
        return new Promise<undefined>((r) => setTimeout(() => r(undefined), 50));
      });
    }
    assert.ok(conn, "socat did not start listening");
    using c = conn;
    await c.write(encoder.encode("through socat"));
    assert.equal(decoder.decode(await readN(c, 13)), "through socat");
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    using _ = killAfter(child, 5000);
    await child.status;
  }
});
