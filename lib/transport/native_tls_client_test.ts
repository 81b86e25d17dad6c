import assert from "node:assert/strict";
import { TimeoutError } from "../errors.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { connectTcp, listenTcp } from "./tcp.ts";
import { certificateFacts } from "./certificate_facts.ts";
import { startNativeTls } from "./native_tls_client.ts";
import {
  connectNativeTo,
  connectTo,
  decoder,
  echoServer,
  encoder,
  LONG,
  readN,
} from "./_tls_test_utils.ts";

Deno.test("connectNativeTls() reports the leaf certificate the connection received", async () => {
  await using certs = await makeCertificates({ days: 3 });
  await using echo = echoServer(certs);
  using conn = await connectNativeTo(echo.listener, certs);
  // Deno 2.9 tells (through the internal symbol its node:tls layer uses).
  assert.deepEqual(conn.tls.peerCertificate, certificateFacts(certs.cert));
  assert.equal(conn.tls.peerCertificate?.daysLeft, 2);
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

Deno.test("setNoDelay() and setKeepAlive() throw NotSupported on a native TLS connection", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  using conn = await connectNativeTo(echo.listener, certs);
  assert.throws(() => conn.setNoDelay(false), Deno.errors.NotSupported);
  assert.throws(() => conn.setKeepAlive(true), Deno.errors.NotSupported);
  await conn.write(encoder.encode("ok"));
  assert.equal(decoder.decode(await readN(conn, 2)), "ok");
});
