import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import type { Outcome, Service } from "../../lib/plugin/types.ts";
import { connectTcp, listenTcp } from "../../lib/transport/tcp.ts";
import type { Conn } from "../../lib/transport/types.ts";
import { type Certificates, makeCertificates } from "../../tests/_support/certs.ts";
import { hasProgram } from "../../tests/_support/peer.ts";
import { type HttpProbeClientOptions, runHttpProbe, startHttpServer } from "./mod.ts";
import { commandOutput } from "../../tests/_support/command.ts";

interface TlsFact {
  protocol: string;
  cipher: string;
  alpn: string | null;
  authorized: boolean;
  authorization_error?: string;
  source: "inspection" | "connection";
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
  options: Omit<HttpProbeClientOptions, "url"> & { host?: string; serverHeaders?: string[] },
): Promise<{ outcome: Outcome; server: Service }> {
  const server = await startHttpServer({
    certFile: certs.certFile,
    keyFile: certs.keyFile,
    body: "secret",
    headers: options.serverHeaders,
  });
  try {
    const { port } = server.address as Deno.NetAddr;
    const { host = "localhost", serverHeaders: _, ...rest } = options;
    const outcome = await runHttpProbe({ url: `https://${host}:${port}/`, ...rest });
    return { outcome, server };
  } finally {
    await server.close();
  }
}

Deno.test("probeHttp() reports TLS and certificate facts of a verified HTTPS server", async () => {
  await using certs = await makeCertificates();
  // The default (Deno's client after an inspection) and node:tls alone.
  for (const tlsClient of [undefined, "node"] as const) {
    const { outcome, server } = await probeHttps(certs, { caFile: certs.caCertFile, tlsClient });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.facts.body_text, "secret");
    const tls = outcome.facts.tls as TlsFact;
    if (tlsClient === "node") {
      // One request: one connection carried it and reported every fact.
      assert.equal(tls.source, "connection");
      assert.equal(outcome.metrics.tls_inspections, 0);
      assert.equal(server.stats().connections, 1);
    } else {
      assert.equal(tls.source, "inspection");
      assert.equal(outcome.metrics.tls_inspections, 1);
      assert.equal(server.stats().connections, 2);
    }
    assert.equal(tls.authorized, true, tlsClient);
    assert.equal(tls.authorization_error, undefined);
    assert.match(tls.protocol, /^TLSv1\.[23]$/);
    assert.equal(tls.alpn, "http/1.1");
    assert.ok(tls.cipher.length > 0);
    const x509 = new X509Certificate(certs.cert);
    assert.equal(tls.certificate.subject, "CN=localhost");
    assert.match(tls.certificate.issuer, /^CN=wiretest test CA /);
    assert.deepEqual(tls.certificate.subject_alt_names, [
      "DNS:localhost",
      "IP Address:127.0.0.1",
    ]);
    assert.equal(tls.certificate.fingerprint256, x509.fingerprint256);
    assert.equal(tls.certificate.not_after, x509.validToDate.toISOString());
    assert.ok(tls.certificate.days_left >= 29 && tls.certificate.days_left <= 30);
  }
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

Deno.test("probeHttp() inspects a verified origin on its own connection and measures on another", async () => {
  await using certs = await makeCertificates();
  const { outcome, server } = await probeHttps(certs, { caFile: certs.caCertFile, repeat: 3 });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const tls = outcome.facts.tls as TlsFact;
  assert.equal(tls.source, "inspection");
  assert.equal(tls.authorized, true);
  assert.equal(tls.alpn, "http/1.1");
  assert.equal(tls.certificate.subject, "CN=localhost");
  assert.equal(outcome.metrics.tls_inspections, 1);
  assert.equal(outcome.metrics.connections, 1);
  // The server saw the handshake-only inspection and the connection that
  // carried the three requests.
  assert.equal(server.stats().connections, 2);
  assert.equal(server.stats().requests, 3);
});

Deno.test("probeHttp() of one request by default measures on Deno's client after an inspection", async () => {
  // The default (the exporter's and the CLI's probe): the phases are timed
  // on Deno's client, whose connect, tls and ttfb phases are the network's
  // within the targets, where node:tls adds its own layers to each.
  await using certs = await makeCertificates();
  const { outcome, server } = await probeHttps(certs, { caFile: certs.caCertFile });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const tls = outcome.facts.tls as TlsFact;
  assert.equal(tls.source, "inspection");
  assert.equal(tls.certificate.subject, "CN=localhost");
  assert.equal(outcome.metrics.tls_inspections, 1);
  assert.equal(outcome.metrics.connections, 1);
  assert.equal(server.stats().connections, 2);
  assert.equal(server.stats().requests, 1);
});

Deno.test('probeHttp() with tlsClient "node" uses one connection that reports the facts', async () => {
  await using certs = await makeCertificates();
  const { outcome, server } = await probeHttps(certs, {
    caFile: certs.caCertFile,
    repeat: 3,
    tlsClient: "node",
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const tls = outcome.facts.tls as TlsFact;
  assert.equal(tls.source, "connection");
  assert.equal(tls.authorized, true);
  assert.equal(tls.alpn, "http/1.1");
  assert.equal(tls.certificate.subject, "CN=localhost");
  assert.equal(outcome.metrics.tls_inspections, 0);
  assert.equal(server.stats().connections, 1);
  assert.equal(server.stats().requests, 3);
});

Deno.test("probeHttp() inspects an origin once however many connections carry its requests", async () => {
  await using certs = await makeCertificates();
  const { outcome, server } = await probeHttps(certs, {
    caFile: certs.caCertFile,
    repeat: 3,
    serverHeaders: ["Connection: close"],
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.connections, 3);
  assert.equal(outcome.metrics.tls_inspections, 1);
  assert.equal(server.stats().connections, 4);
  assert.equal((outcome.facts.tls as TlsFact).source, "inspection");
});

Deno.test("probeHttp() opens no second connection when the inspection rejects the certificate", async () => {
  await using certs = await makeCertificates({ expired: true });
  const { outcome, server } = await probeHttps(certs, { caFile: certs.caCertFile });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "tls");
  assert.match(outcome.error!.message, /certificate has expired/);
  assert.equal(outcome.metrics.tls_inspections, 0);
  assert.equal(server.stats().connections, 1);
});

Deno.test("probeHttp() with insecure carries the requests on the inspected connection of an unverified certificate", async () => {
  await using certs = await makeCertificates({ expired: true });
  const { outcome, server } = await probeHttps(certs, {
    caFile: certs.caCertFile,
    insecure: true,
    repeat: 2,
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const tls = outcome.facts.tls as TlsFact;
  assert.equal(tls.source, "connection");
  assert.equal(tls.authorized, false);
  assert.equal(outcome.metrics.tls_inspections, 0);
  assert.equal(outcome.metrics.connections, 1);
  assert.equal(server.stats().connections, 1);
  assert.equal(server.stats().requests, 2);
});

Deno.test("probeHttp() with insecure measures a verified certificate like a secure probe", async () => {
  await using certs = await makeCertificates();
  const { outcome, server } = await probeHttps(certs, {
    caFile: certs.caCertFile,
    insecure: true,
    tlsClient: "native",
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal((outcome.facts.tls as TlsFact).source, "inspection");
  assert.equal(outcome.metrics.tls_inspections, 1);
  assert.equal(server.stats().connections, 2);
});

/**
 * A TCP relay to `port` that holds its first connection for `holdMs` before
 * relaying it, and relays later ones at once.
 */
function slowFirstRelay(port: number, holdMs: number) {
  const listener = listenTcp();
  const tasks = new Set<Promise<void>>();
  const open = new Set<Conn>();
  const pipe = async (from: Conn, to: Conn) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (let n; (n = await from.read(buf)) !== null;) await to.write(buf.subarray(0, n));
      await to.closeWrite();
    } catch {
      // Either side closed: the other is closed below.
    }
  };
  const relay = async (client: Conn, hold: boolean) => {
    open.add(client);
    if (hold) await new Promise((resolve) => setTimeout(resolve, holdMs));
    let upstream: Conn | undefined;
    try {
      upstream = await connectTcp({ port });
      open.add(upstream);
      await Promise.all([pipe(client, upstream), pipe(upstream, client)]);
    } catch {
      // The server went away: drop the client.
    } finally {
      client.close();
      upstream?.close();
    }
  };
  const accepting = (async () => {
    let first = true;
    for await (const client of listener) {
      const task = relay(client, first);
      first = false;
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of open) conn.close();
      await accepting;
      await Promise.all(tasks);
    },
  };
}

Deno.test("probeHttp() leaves the inspection out of every phase", async () => {
  await using certs = await makeCertificates();
  const server = await startHttpServer({ certFile: certs.certFile, keyFile: certs.keyFile });
  try {
    const holdMs = 400;
    // The inspection is the relay's first connection: it waits holdMs.
    await using relay = slowFirstRelay((server.address as Deno.NetAddr).port, holdMs);
    const started = performance.now();
    const outcome = await runHttpProbe({
      url: `https://localhost:${relay.port}/`,
      caFile: certs.caCertFile,
      tlsClient: "native",
    });
    const wall = performance.now() - started;
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.tls_inspections, 1);
    // The probe took the hold and the request; the request's phases only
    // the request (whatever the machine's load, wall >= hold + total).
    assert.ok(wall >= holdMs - 50, `wall ${wall} ms`);
    assert.ok(
      outcome.metrics.total_ms <= wall - holdMs / 2,
      `total ${outcome.metrics.total_ms} ms of ${wall} ms`,
    );
    const m = outcome.metrics;
    const sum = m.redirect_ms + m.dns_ms + m.connect_ms + m.tls_ms + m.ttfb_ms + m.transfer_ms;
    assert.ok(Math.abs(sum - m.total_ms) < 1e-6);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() carries requests on node:tls when Deno's client refuses a certificate node:tls verified", async () => {
  // A self-signed leaf that names localhost only in its CN: node:tls
  // accepts the name, Deno's client (rustls) looks only at alternative names.
  const dir = await Deno.makeTempDir();
  try {
    const made = await commandOutput("openssl", {
      args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        .concat(["-subj", "/CN=localhost", "-addext", "basicConstraints=critical,CA:FALSE"])
        .concat(["-days", "2", "-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`]),
      stdout: "null",
      stderr: "null",
    });
    assert.ok(made.success, "openssl could not make the certificate");
    const server = await startHttpServer({
      certFile: `${dir}/cert.pem`,
      keyFile: `${dir}/key.pem`,
      headers: ["Connection: close"],
    });
    let outcome: Outcome;
    try {
      const { port } = server.address as Deno.NetAddr;
      outcome = await runHttpProbe({
        url: `https://localhost:${port}/`,
        caFile: `${dir}/cert.pem`,
        repeat: 2,
      });
    } finally {
      await server.close();
    }
    assert.equal(outcome.ok, true, outcome.error?.message);
    const tls = outcome.facts.tls as TlsFact;
    assert.equal(tls.authorized, true);
    assert.equal(tls.source, "connection");
    assert.deepEqual(tls.certificate.subject_alt_names, []);
    // Why Deno's client was not used is a fact, not a silent switch.
    assert.match(
      String((outcome.facts.tls as Record<string, unknown>).native_refused),
      /certificate/i,
    );
    assert.equal(outcome.metrics.tls_inspections, 1);
    assert.equal(outcome.metrics.connections, 2);
    // The inspection, the handshake Deno's client refused, then two
    // node:tls connections: the origin is not tried on Deno's client again.
    assert.equal(server.stats().connections, 4);
    assert.equal(server.stats().requests, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("probeHttp() reports the certificate facts and the reason of a certificate that fails verification", async () => {
  await using certs = await makeCertificates({ expired: true });
  for (const tlsClient of ["native", "node"] as const) {
    const { outcome, server } = await probeHttps(certs, { caFile: certs.caCertFile, tlsClient });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, "ConnectionError");
    assert.equal(outcome.error?.code, "tls");
    assert.match(outcome.error!.message, /certificate has expired/);
    const tls = outcome.facts.tls as TlsFact;
    assert.ok(tls, `${tlsClient}: the handshake completed, so its facts are reported`);
    assert.equal(tls.authorized, false);
    assert.match(tls.authorization_error!, /certificate has expired/);
    assert.equal(tls.certificate.fingerprint256, new X509Certificate(certs.cert).fingerprint256);
    assert.ok(tls.certificate.days_left < 0);
    assert.match(tls.protocol, /^TLSv1\.[23]$/);
    assert.equal(tls.source, tlsClient === "native" ? "inspection" : "connection");
    // Refused, it carried no request.
    assert.equal(server.stats().requests, 0);
  }
});

Deno.test("probeHttp() reports the certificate facts of an untrusted CA's certificate", async () => {
  await using certs = await makeCertificates();
  const { outcome } = await probeHttps(certs, {});
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "tls");
  const tls = outcome.facts.tls as TlsFact;
  assert.equal(tls.authorized, false);
  assert.match(tls.authorization_error!, /not signed by a trusted CA/);
  assert.equal(tls.certificate.subject, "CN=localhost");
});

// A Python HTTPS server that presents the certificate of `certs[0]` on its
// first connection and of `certs[1]` on every later one: the inspection
// and the measured connection see different certificates. Prints its port,
// then a line per accepted connection.
const PY_SWITCHING_TLS = `
import socket, ssl, sys, threading
contexts = []
for cert, key in zip(sys.argv[1::2], sys.argv[2::2]):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    contexts.append(ctx)
srv = socket.create_server(("127.0.0.1", 0))
srv.settimeout(20)
print(srv.getsockname()[1], flush=True)
def serve(sock, ctx):
    sock.settimeout(5)
    try:
        tls = ctx.wrap_socket(sock, server_side=True)
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            more = tls.recv(4096)
            if not more:
                return
            data += more
        tls.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok")
        tls.close()
    except Exception:
        pass
    finally:
        sock.close()
count = 0
while count < 10:
    sock, _ = srv.accept()
    ctx = contexts[min(count, len(contexts) - 1)]
    count += 1
    print("accepted", count, flush=True)
    threading.Thread(target=serve, args=(sock, ctx), daemon=True).start()
`;

/** Starts the switching server; returns its port and a disposer. */
async function switchingServer(first: Certificates, later: Certificates) {
  const child = new Deno.Command("python3", {
    args: ["-c", PY_SWITCHING_TLS, first.certFile, first.keyFile, later.certFile, later.keyFile],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  clearTimeout(timer);
  const port = Number(text.slice(0, text.indexOf("\n")));
  // The rest of its output, the accepted lines, read as they come.
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += value;
    }
  })().catch(() => {});
  return {
    port,
    /** Connections the server accepted so far (a probe's have, once its outcome is back). */
    accepted: () => text.split("\n").filter((line) => line.startsWith("accepted ")).length,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await reader.cancel().catch(() => {});
      await reading;
      await child.status;
    },
  };
}

/** What `openssl x509` reports of a certificate file, as the `tls.certificate` fact names it. */
async function opensslFacts(certFile: string): Promise<TlsFact["certificate"]> {
  const out = await commandOutput("openssl", {
    args: ["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256", "-serial"]
      .concat(["-startdate", "-enddate", "-subject", "-issuer", "-ext", "subjectAltName"])
      .concat(["-nameopt", "RFC2253"]),
  }, 10_000);
  const text = new TextDecoder().decode(out.stdout);
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)![1];
  const notAfter = new Date(field("notAfter"));
  return {
    subject: field("subject"),
    issuer: field("issuer"),
    subject_alt_names: /Subject Alternative Name:.*\n\s+(.*)/.exec(text)![1].trim().split(", "),
    not_before: new Date(field("notBefore")).toISOString(),
    not_after: notAfter.toISOString(),
    days_left: Math.floor((notAfter.getTime() - Date.now()) / 86_400_000),
    fingerprint256: field("sha256 Fingerprint"),
    serial_number: field("serial"),
  };
}

Deno.test({
  name:
    'probeHttp() of one request with tlsClient "node" reports the certificate of the connection that carried it, on that one connection',
  ignore: !hasProgram("python3") || !hasProgram("openssl"),
  async fn() {
    // The server presents `first` on its first connection and `later` on
    // every other: each probe must report its own connection's certificate.
    await using first = await makeCertificates({ days: 30 });
    await using later = await makeCertificates({ days: 3 });
    const caFile = `${first.dir}/both-cas.pem`;
    await Deno.writeTextFile(caFile, first.caCert + later.caCert);
    await using server = await switchingServer(first, later);
    for (const [probe, presented] of [[1, first], [2, later], [3, later]] as const) {
      const outcome = await runHttpProbe({
        url: `https://localhost:${server.port}/`,
        caFile,
        tlsClient: "node",
      });
      assert.equal(outcome.ok, true, `probe ${probe}: ${outcome.error?.message}`);
      assert.equal(outcome.facts.body_text, "ok");
      const tls = outcome.facts.tls as TlsFact;
      assert.equal(tls.source, "connection", `probe ${probe}`);
      assert.deepEqual(tls.certificate, await opensslFacts(presented.certFile), `probe ${probe}`);
      assert.match(tls.protocol, /^TLSv1\.[23]$/);
      assert.ok(tls.cipher.length > 0);
      assert.equal(outcome.metrics.tls_inspections, 0);
      assert.equal(outcome.metrics.connections, 1);
      // One connection per probe: the server accepted exactly `probe` so far.
      assert.equal(server.accepted(), probe, `connections accepted after probe ${probe}`);
    }
  },
});

Deno.test({
  name:
    "probeHttp() fails when the measured connection presents another certificate than the inspection",
  ignore: !hasProgram("python3"),
  async fn() {
    // 29 days on the inspection, under a day on the connection that carries the request.
    await using longLived = await makeCertificates({ days: 30 });
    await using shortLived = await makeCertificates({ days: 1 });
    const caFile = `${longLived.dir}/both-cas.pem`;
    await Deno.writeTextFile(caFile, longLived.caCert + shortLived.caCert);
    await using server = await switchingServer(longLived, shortLived);
    const outcome = await runHttpProbe({
      url: `https://localhost:${server.port}/`,
      caFile,
      tlsClient: "native",
    });
    assert.equal(outcome.ok, false, "different certificates must not pass");
    assert.equal(outcome.error?.code, "tls");
    assert.match(outcome.error!.message, /not the one the inspection connection received/);
    const tls = outcome.facts.tls as TlsFact & { inspection_certificate: TlsFact["certificate"] };
    // The certificate fact is the measured connection's, not the inspection's.
    assert.equal(
      tls.certificate.fingerprint256,
      new X509Certificate(shortLived.cert).fingerprint256,
    );
    assert.equal(tls.certificate.days_left, 0);
    assert.equal(
      tls.inspection_certificate.fingerprint256,
      new X509Certificate(longLived.cert).fingerprint256,
    );
    assert.equal(tls.inspection_certificate.days_left, 29);
  },
});

Deno.test({
  name:
    "probeHttp() describes the measured connection's certificate when Deno's client cannot report it",
  ignore: !hasProgram("python3"),
  async fn() {
    await using longLived = await makeCertificates({ days: 30 });
    await using shortLived = await makeCertificates({ days: 1 });
    const caFile = `${longLived.dir}/both-cas.pem`;
    await Deno.writeTextFile(caFile, longLived.caCert + shortLived.caCert);
    await using server = await switchingServer(longLived, shortLived);
    // A runtime whose TLS connections do not report their certificate.
    const deno = Deno as unknown as { internal: symbol } & Record<symbol, Record<string, unknown>>;
    const internal = deno[deno.internal];
    const saved = internal.getPeerCertificate;
    internal.getPeerCertificate = Symbol("absent");
    let outcome: Outcome;
    try {
      outcome = await runHttpProbe({
        url: `https://localhost:${server.port}/`,
        caFile,
        tlsClient: "native",
      });
    } finally {
      internal.getPeerCertificate = saved;
    }
    assert.equal(outcome.ok, true, outcome.error?.message);
    const tls = outcome.facts.tls as TlsFact & { native_refused: string };
    assert.equal(tls.source, "connection");
    assert.match(tls.native_refused, /does not report the certificate/);
    assert.equal(
      tls.certificate.fingerprint256,
      new X509Certificate(shortLived.cert).fingerprint256,
    );
    assert.equal(tls.certificate.days_left, 0);
  },
});

Deno.test("probeHttp() repeats a POST over one kept-alive HTTPS connection with either TLS client", async () => {
  // A POST checks its reused connection for an idle close before it is
  // sent; over TLS that check must leave the stream intact.
  await using certs = await makeCertificates();
  for (const tlsClient of ["native", "node"] as const) {
    const { outcome, server } = await probeHttps(certs, {
      caFile: certs.caCertFile,
      method: "POST",
      body: "once each",
      repeat: 5,
      tlsClient,
    });
    assert.equal(outcome.ok, true, `${tlsClient}: ${outcome.error?.message}`);
    assert.equal(outcome.metrics.connections, 1, tlsClient);
    assert.equal(outcome.metrics.requests, 5, tlsClient);
    assert.equal(server.stats().requests, 5, tlsClient);
    assert.equal(outcome.facts.body_text, "secret", tlsClient);
  }
});
