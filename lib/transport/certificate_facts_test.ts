import assert from "node:assert/strict";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { certificateFacts } from "./certificate_facts.ts";
import { connectTo, echoServer } from "./_tls_test_utils.ts";

Deno.test("certificateFacts() reads a PEM as the handshake reports it", async () => {
  await using certs = await makeCertificates();
  await using echo = echoServer(certs);
  using conn = await connectTo(echo.listener, certs);
  assert.deepEqual(certificateFacts(certs.cert), conn.tls.peerCertificate);
});

Deno.test("certificateFacts() rejects text that is not a certificate", () => {
  assert.throws(() => certificateFacts("not a certificate"), TypeError);
});
