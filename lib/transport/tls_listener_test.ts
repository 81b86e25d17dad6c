import assert from "node:assert/strict";
import { ConnectionError } from "../errors.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { listenTls } from "./tls_listener.ts";

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
