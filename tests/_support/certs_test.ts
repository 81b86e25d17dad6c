import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { makeCertificates } from "./certs.ts";
import { commandOutput } from "./command.ts";

const DAY_MS = 86_400_000;

async function opensslVerify(caFile: string, certFile: string): Promise<string> {
  const out = await commandOutput("openssl", {
    args: ["verify", "-CAfile", caFile, certFile],
    stdout: "piped",
    stderr: "piped",
  });
  const decoder = new TextDecoder();
  return decoder.decode(out.stdout) + decoder.decode(out.stderr);
}

Deno.test("makeCertificates() makes a leaf the CA signed, valid for localhost and 127.0.0.1", async () => {
  await using certs = await makeCertificates();
  const leaf = new X509Certificate(certs.cert);
  const ca = new X509Certificate(certs.caCert);
  assert.equal(leaf.subject, "CN=localhost");
  assert.equal(leaf.subjectAltName, "DNS:localhost, IP Address:127.0.0.1");
  assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  assert.equal(leaf.ca, false);
  assert.equal(ca.ca, true);
  assert.match(await opensslVerify(certs.caCertFile, certs.certFile), /: OK/);
  assert.equal(await Deno.readTextFile(certs.keyFile), certs.key);
});

Deno.test("makeCertificates() marks the leaf critical CA:FALSE", async () => {
  await using certs = await makeCertificates();
  const out = await commandOutput("openssl", {
    args: ["x509", "-in", certs.certFile, "-noout", "-ext", "basicConstraints"],
    stdout: "piped",
  });
  assert.match(new TextDecoder().decode(out.stdout), /critical\s+CA:FALSE/);
});

Deno.test("makeCertificates() makes a leaf valid for `days` days from now", async () => {
  await using certs = await makeCertificates({ days: 7 });
  const leaf = new X509Certificate(certs.cert);
  const left = leaf.validToDate.getTime() - Date.now();
  assert.ok(left > 6.9 * DAY_MS && left <= 7 * DAY_MS, `${left} ms left`);
  assert.ok(leaf.validFromDate.getTime() < Date.now());
});

Deno.test("makeCertificates() makes an expired leaf that openssl rejects as expired", async () => {
  await using certs = await makeCertificates({ expired: true });
  const leaf = new X509Certificate(certs.cert);
  assert.ok(leaf.validToDate.getTime() < Date.now() - DAY_MS / 2);
  assert.ok(leaf.validFromDate.getTime() < leaf.validToDate.getTime());
  assert.match(await opensslVerify(certs.caCertFile, certs.certFile), /certificate has expired/);
});

Deno.test("makeCertificates() uses the given names for the subject and SANs", async () => {
  await using certs = await makeCertificates({ names: ["wrong.example", "::1"] });
  const leaf = new X509Certificate(certs.cert);
  assert.equal(leaf.subject, "CN=wrong.example");
  assert.equal(leaf.checkHost("localhost"), undefined);
  assert.equal(leaf.checkHost("wrong.example"), "wrong.example");
  assert.equal(leaf.checkIP("::1"), "::1");
});

Deno.test("makeCertificates() makes a new CA each call", async () => {
  await using a = await makeCertificates();
  await using b = await makeCertificates();
  const leafA = new X509Certificate(a.cert);
  assert.notEqual(new X509Certificate(a.caCert).subject, new X509Certificate(b.caCert).subject);
  assert.equal(leafA.checkIssued(new X509Certificate(b.caCert)), false);
});

Deno.test("cleanup() removes the directory and can be called twice", async () => {
  const certs = await makeCertificates();
  await certs.cleanup();
  await certs.cleanup();
  await assert.rejects(Deno.stat(certs.dir), Deno.errors.NotFound);
});

Deno.test("makeCertificates() rejects names and days it cannot use", async () => {
  await assert.rejects(makeCertificates({ names: [] }), TypeError);
  await assert.rejects(makeCertificates({ names: ["bad name/x"] }), TypeError);
  await assert.rejects(makeCertificates({ days: 0 }), RangeError);
  await assert.rejects(makeCertificates({ days: 1.5 }), RangeError);
});
