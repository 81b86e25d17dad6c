import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import type { Outcome, Service } from "../../lib/plugin/types.ts";
import { type Certificates, makeCertificates } from "../../tests/_support/certs.ts";
import { type HttpProbeClientOptions, runHttpProbe, startHttpServer } from "./mod.ts";

interface TlsFact {
  protocol: string;
  cipher: string;
  alpn: string | null;
  authorized: boolean;
  authorization_error?: string;
  certificate: {
    subject: string;
    issuer: string;
    subject_alt_names: string[];
    not_before: string;
    not_after: string;
    days_left: number;
    fingerprint256: string;
    serial_number: string;
  };
}

/** Starts an HTTPS responder with `certs`, probes `path` on it, closes it. */
async function probeHttps(
  certs: Certificates,
  options: Omit<HttpProbeClientOptions, "url"> & { host?: string },
): Promise<{ outcome: Outcome; server: Service }> {
  const server = await startHttpServer({
    certFile: certs.certFile,
    keyFile: certs.keyFile,
    body: "secret",
  });
  try {
    const { port } = server.address as Deno.NetAddr;
    const { host = "localhost", ...rest } = options;
    const outcome = await runHttpProbe({ url: `https://${host}:${port}/`, ...rest });
    return { outcome, server };
  } finally {
    await server.close();
  }
}

Deno.test("probeHttp() reports TLS and certificate facts of a verified HTTPS server", async () => {
  await using certs = await makeCertificates();
  const { outcome } = await probeHttps(certs, { caFile: certs.caCertFile });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.facts.body_text, "secret");
  const tls = outcome.facts.tls as TlsFact;
  assert.equal(tls.authorized, true);
  assert.equal(tls.authorization_error, undefined);
  assert.match(tls.protocol, /^TLSv1\.[23]$/);
  assert.equal(tls.alpn, "http/1.1");
  assert.ok(tls.cipher.length > 0);
  const x509 = new X509Certificate(certs.cert);
  assert.equal(tls.certificate.subject, "CN=localhost");
  assert.match(tls.certificate.issuer, /^CN=wiretest test CA /);
  assert.deepEqual(tls.certificate.subject_alt_names, ["DNS:localhost", "IP Address:127.0.0.1"]);
  assert.equal(tls.certificate.fingerprint256, x509.fingerprint256);
  assert.equal(tls.certificate.not_after, x509.validToDate.toISOString());
  assert.ok(tls.certificate.days_left >= 29 && tls.certificate.days_left <= 30);
});

Deno.test("probeHttp() reports a TLS phase and curl-style cumulative times for HTTPS", async () => {
  await using certs = await makeCertificates();
  const { outcome } = await probeHttps(certs, { caFile: certs.caCertFile, repeat: 3 });
  const m = outcome.metrics;
  assert.ok(Number.isFinite(m.tls_ms) && m.tls_ms >= 0);
  const sum = m.redirect_ms + m.dns_ms + m.connect_ms + m.tls_ms + m.ttfb_ms + m.transfer_ms;
  assert.ok(Math.abs(sum - m.total_ms) < 1e-6);
  const t = outcome.facts.timeline_ms as Record<string, number>;
  assert.ok(t.namelookup <= t.connect && t.connect <= t.appconnect);
  assert.ok(t.appconnect <= t.starttransfer && t.starttransfer <= t.total);
  assert.equal(m.connections, 1, "repeats reuse the TLS connection");
});

Deno.test("probeHttp() fails with ConnectionError tls for an untrusted certificate", async () => {
  await using certs = await makeCertificates();
  const { outcome } = await probeHttps(certs, {});
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "ConnectionError");
  assert.equal(outcome.error?.code, "tls");
});

Deno.test("probeHttp() fails for an expired certificate unless insecure", async () => {
  await using certs = await makeCertificates({ expired: true });
  const { outcome } = await probeHttps(certs, { caFile: certs.caCertFile });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "tls");
  assert.match(outcome.error!.message, /expired/);
});

Deno.test("probeHttp() reports an expired certificate as a fact when insecure", async () => {
  await using certs = await makeCertificates({ expired: true });
  const { outcome } = await probeHttps(certs, { caFile: certs.caCertFile, insecure: true });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.status, 200);
  const tls = outcome.facts.tls as TlsFact;
  assert.equal(tls.authorized, false);
  assert.match(tls.authorization_error!, /certificate has expired/);
  assert.ok(tls.certificate.days_left < 0);
});

Deno.test("probeHttp() reports a wrong-name certificate as a fact when insecure", async () => {
  await using certs = await makeCertificates({ names: ["wrong.example"] });
  const { outcome } = await probeHttps(certs, { caFile: certs.caCertFile, insecure: true });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const tls = outcome.facts.tls as TlsFact;
  assert.equal(tls.authorized, false);
  assert.match(tls.authorization_error!, /not valid for "localhost"/);
  assert.deepEqual(tls.certificate.subject_alt_names, ["DNS:wrong.example"]);
});

Deno.test("probeHttp() verifies against servername instead of the URL's host", async () => {
  await using certs = await makeCertificates({ names: ["service.test"] });
  const { outcome } = await probeHttps(certs, {
    host: "127.0.0.1",
    caFile: certs.caCertFile,
    servername: "service.test",
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal((outcome.facts.tls as TlsFact).authorized, true);
});

Deno.test("probeHttp() rejects a caFile without certificates", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "not a certificate\n");
    const outcome = await runHttpProbe({ url: "https://127.0.0.1:9/", caFile: file });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, "TypeError");
    assert.match(outcome.error!.message, /holds no PEM certificate$/);
  } finally {
    await Deno.remove(file);
  }
});
