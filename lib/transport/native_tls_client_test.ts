import assert from "node:assert/strict";
import { ConnectionError, TimeoutError } from "../errors.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { connectTcp, listenTcp } from "./tcp.ts";
import { certificateFacts } from "./certificate_facts.ts";
import { connectNativeTls, startNativeTls } from "./native_tls_client.ts";
import { listenTls } from "./tls_listener.ts";
import {
  assertUnreadClientBounded,
  connectNativeTo,
  connectTo,
  decoder,
  echoServer,
  encoder,
  LONG,
  readN,
} from "./_tls_test_utils.ts";

Deno.test("connectNativeTls() exchanges bytes with listenTls() and reports the ALPN protocol", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs, ["h2", "http/1.1"]);
  using conn = await connectNativeTls({
    port: echo.listener.addr.port,
    servername: "localhost",
    caCerts: [certs.caCert],
    alpnProtocols: ["http/1.1"],
    timeout: LONG,
  });
  await conn.write(encoder.encode("hello over native tls"));
  assert.equal(decoder.decode(await readN(conn, 21)), "hello over native tls");
  assert.equal(conn.transport, "tls");
  assert.equal(conn.tls.alpnProtocol, "http/1.1");
  assert.equal((conn.remoteAddr as Deno.NetAddr).port, echo.listener.addr.port);
});

Deno.test("connectNativeTls() reports the leaf certificate the connection received", async () => {
  await using certs = await makeCertificates({ days: 3 });
  await using echo = echoServer(certs);
  using conn = await connectNativeTo(echo.listener, certs);
  // Deno 2.9 tells (through the internal symbol its node:tls layer uses).
  assert.deepEqual(conn.tls.peerCertificate, certificateFacts(certs.cert));
  assert.equal(conn.tls.peerCertificate?.daysLeft, 2);
});

Deno.test("connectNativeTls() resolves a host name and verifies the certificate against it", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  using conn = await connectNativeTls({
    hostname: "localhost",
    port: echo.listener.addr.port,
    caCerts: [certs.caCert],
    timeout: LONG,
  });
  assert.equal((conn.remoteAddr as Deno.NetAddr).hostname, "127.0.0.1");
  assert.equal(conn.tls.alpnProtocol, null);
});

Deno.test("connectNativeTls() rejects an expired certificate with a tls error naming the expiry", async () => {
  await using certs = await makeCertificates({ expired: true });
  await using echo = echoServer(certs);
  const port = echo.listener.addr.port;
  const error = await connectNativeTo(echo.listener, certs).then(
    () => assert.fail("connected"),
    (e) => e,
  );
  assert.ok(error instanceof ConnectionError, String(error));
  assert.equal(error.code, "tls");
  assert.equal(error.operation, "handshake");
  assert.match(error.message, new RegExp(`^Cannot handshake with 127\\.0\\.0\\.1:${port}: `));
  assert.match(error.message, /expired/);
});

Deno.test("connectNativeTls() rejects a certificate for another name", async () => {
  await using certs = await makeCertificates({ names: ["wrong.example"] });
  await using echo = echoServer(certs);
  await assert.rejects(connectNativeTo(echo.listener, certs), (e: unknown) => {
    assert.ok(e instanceof ConnectionError);
    assert.equal(e.code, "tls");
    assert.match(e.message, /not valid for name "localhost"/);
    return true;
  });
});

Deno.test("connectNativeTls() rejects a certificate from an unknown CA", async () => {
  await using certs = await makeCertificates();
  await using other = await makeCertificates();
  await using echo = echoServer(certs);
  await assert.rejects(connectNativeTo(echo.listener, other), (e: unknown) => {
    assert.ok(e instanceof ConnectionError);
    assert.equal(e.code, "tls");
    assert.match(e.message, /UnknownIssuer/);
    return true;
  });
});

Deno.test("connectNativeTls() rejects with the signal's reason when aborted in the handshake", async () => {
  using listener = listenTcp();
  const accepted = listener.accept({ timeout: LONG });
  const controller = new AbortController();
  const pending = connectNativeTls({ port: listener.addr.port, signal: controller.signal });
  using _peer = await accepted;
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(pending, (e) => e === reason);
});

Deno.test("startNativeTls() rejects a connection that is not plain TCP", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  using tls = await connectTo(echo.listener, certs);
  await assert.rejects(startNativeTls(tls), TypeError);
  assert.equal(tls.closed, false);
});

Deno.test("startNativeTls() refuses a connection with a timed-out read still pending, and keeps it", async () => {
  using listener = listenTcp();
  const accepted = listener.accept({ timeout: LONG });
  using plain = await connectTcp({ port: listener.addr.port, timeout: LONG });
  using peer = await accepted;
  await assert.rejects(plain.read(new Uint8Array(16), { timeout: 20 }), TimeoutError);
  await assert.rejects(
    startNativeTls(plain),
    (e: unknown) => e instanceof TypeError && /read is still pending/.test(e.message),
  );
  assert.equal(plain.closed, false);
  // The bytes the pending read brings are not lost: they are the next read's.
  await peer.write(new TextEncoder().encode("hi"));
  const buffer = new Uint8Array(16);
  assert.equal(await plain.read(buffer, { timeout: LONG }), 2);
});

Deno.test("startNativeTls() closes the plain connection when verification fails", async () => {
  await using certs = await makeCertificates();
  await using other = await makeCertificates();
  await using echo = echoServer(certs);
  const plain = await connectTcp({ port: echo.listener.addr.port, timeout: LONG });
  await assert.rejects(
    startNativeTls(plain, { servername: "localhost", caCerts: [other.caCert], timeout: LONG }),
    (e: unknown) => e instanceof ConnectionError && e.code === "tls",
  );
  assert.equal(plain.closed, true);
});

Deno.test("startNativeTls() times out in the handshake when the peer stays silent", async () => {
  using listener = listenTcp();
  const accepted = listener.accept({ timeout: LONG });
  const plain = await connectTcp({ port: listener.addr.port, timeout: LONG });
  using _peer = await accepted;
  await assert.rejects(startNativeTls(plain, { timeout: 200 }), (e: unknown) => {
    assert.ok(e instanceof TimeoutError);
    assert.equal(e.operation, "handshake");
    return true;
  });
  assert.equal(plain.closed, true);
});

Deno.test("startNativeTls() verifies against the remote IP address by default", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  const plain = await connectTcp({ port: echo.listener.addr.port, timeout: LONG });
  using conn = await startNativeTls(plain, { caCerts: [certs.caCert], timeout: LONG });
  await conn.write(encoder.encode("ip"));
  assert.equal(decoder.decode(await readN(conn, 2)), "ip");
});

Deno.test("a native TLS read() that times out loses no data", async () => {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key });
  const accepted = listener.accept({ timeout: LONG });
  using conn = await connectNativeTo(listener, certs);
  using server = await accepted;
  await server.write(encoder.encode("a"));
  assert.equal(decoder.decode(await readN(conn, 1)), "a");
  await assert.rejects(conn.read(new Uint8Array(8), { timeout: 50 }), TimeoutError);
  await server.write(encoder.encode("late"));
  assert.equal(decoder.decode(await readN(conn, 4)), "late");
});

Deno.test("a native TLS closeWrite() ends the peer's stream while this side still reads", async () => {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key });
  const accepted = listener.accept({ timeout: LONG });
  using conn = await connectNativeTo(listener, certs);
  using server = await accepted;
  await conn.write(encoder.encode("req"));
  await conn.closeWrite();
  assert.equal(decoder.decode(await readN(server, 3)), "req");
  assert.equal(await server.read(new Uint8Array(8), { timeout: LONG }), null);
  await server.write(encoder.encode("reply"));
  assert.equal(decoder.decode(await readN(conn, 5)), "reply");
});

Deno.test("an unread native TLS connection stops taking bytes instead of buffering without bound", async () => {
  await assertUnreadClientBounded(connectNativeTo);
});

/**
 * A client that never reads: the server's writes must stop (time out)
 * long before 256 MiB, and every byte it managed to send is still readable.
 */

Deno.test("setNoDelay() and setKeepAlive() throw NotSupported on a native TLS connection", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  using conn = await connectNativeTo(echo.listener, certs);
  assert.throws(() => conn.setNoDelay(false), Deno.errors.NotSupported);
  assert.throws(() => conn.setKeepAlive(true), Deno.errors.NotSupported);
  await conn.write(encoder.encode("ok"));
  assert.equal(decoder.decode(await readN(conn, 2)), "ok");
});
