import assert from "node:assert/strict";
import { ConnectionError } from "../errors.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { listenTls } from "./tls_listener.ts";
import { connectTls } from "./tls_client.ts";
import { readFull } from "./read_full.ts";
import { connectTcp } from "./tcp.ts";

Deno.test("listenTls() rejects a certificate and key that are not PEM", () => {
  assert.throws(
    () => listenTls({ cert: "nope", key: "nope" }),
    (e: unknown) => e instanceof ConnectionError || e instanceof TypeError,
  );
});

Deno.test("listenTls() reports a taken port as address-in-use", async () => {
  await using certs = await makeCertificates();
  using first = listenTls({ cert: certs.cert, key: certs.key });
  assert.throws(
    () => listenTls({ port: first.addr.port, cert: certs.cert, key: certs.key }),
    (e: unknown) => e instanceof ConnectionError && e.code === "address-in-use",
  );
});

for (const tlsServer of ["deno", "node"] as const) {
  Deno.test(`listenTls({ tlsServer: "${tlsServer}" }) negotiates ALPN and echoes bytes both ways`, async () => {
    await using certs = await makeCertificates();
    using listener = listenTls({
      cert: certs.cert,
      key: certs.key,
      alpnProtocols: ["echo/1"],
      tlsServer,
    });
    const accepted = listener.accept({ timeout: 5000 });
    using client = await connectTls({
      port: listener.addr.port,
      caCerts: [certs.caCert],
      servername: "localhost",
      alpnProtocols: ["other/1", "echo/1"],
      timeout: 5000,
    });
    using server = await accepted;
    assert.equal(client.tls.alpnProtocol, "echo/1");
    assert.equal(client.tls.authorized, true);
    await client.write(new TextEncoder().encode("ping"));
    const buf = new Uint8Array(4);
    assert.equal(await readFull(server, buf, { timeout: 5000 }), 4);
    assert.equal(new TextDecoder().decode(buf), "ping");
    await server.write(new TextEncoder().encode("pong"));
    assert.equal(await readFull(client, buf, { timeout: 5000 }), 4);
    assert.equal(new TextDecoder().decode(buf), "pong");
    await client.closeWrite();
    assert.equal(await server.read(buf, { timeout: 5000 }), null);
  });
}

Deno.test('listenTls({ tlsServer: "node" }) refuses a key that does not match the certificate at listen', async () => {
  await using certs = await makeCertificates();
  await using other = await makeCertificates();
  assert.throws(
    () => listenTls({ cert: certs.cert, key: other.key, tlsServer: "node" }),
    (e: unknown) =>
      e instanceof ConnectionError && e.code === "tls" &&
      /does not match the certificate/.test(e.message),
  );
});

Deno.test("listenTls() refuses an unknown tlsServer", async () => {
  await using certs = await makeCertificates();
  assert.throws(
    () => listenTls({ cert: certs.cert, key: certs.key, tlsServer: "openssl" as "node" }),
    (e: unknown) => e instanceof TypeError && /tlsServer must be "node" or "deno"/.test(e.message),
  );
});

Deno.test('listenTls({ tlsServer: "node" }): plain text instead of a handshake fails that read only', async () => {
  await using certs = await makeCertificates();
  using listener = listenTls({ cert: certs.cert, key: certs.key, tlsServer: "node" });
  const accepted = listener.accept({ timeout: 5000 });
  using plain = await connectTcp({ port: listener.addr.port, timeout: 5000 });
  using server = await accepted;
  await plain.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  await assert.rejects(
    server.read(new Uint8Array(16), { timeout: 5000 }),
    (e: unknown) => e instanceof ConnectionError,
  );
  // The listener still serves the next client.
  const next = listener.accept({ timeout: 5000 });
  using client = await connectTls({
    port: listener.addr.port,
    caCerts: [certs.caCert],
    servername: "localhost",
    timeout: 5000,
  });
  using second = await next;
  await client.write(new Uint8Array([1]));
  assert.equal(await second.read(new Uint8Array(1), { timeout: 5000 }), 1);
});
