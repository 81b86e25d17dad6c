// Every built-in role's declared metrics, facts and stats (REFERENCE.md is
// written from them) against what the role really reports: each outcome
// and stats() of real runs over loopback, against our own servers, must be
// declared, hold everything declared always present, and over all runs of
// a plugin every declaration must have been seen at least once. So neither
// a new metric nor a removed one can go undeclared.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import echo from "../plugins/echo/mod.ts";
import fileSend from "../plugins/file_send/mod.ts";
import httpProbe from "../plugins/http_probe/mod.ts";
import udpPing from "../plugins/udp_ping/mod.ts";
import proxy from "../plugins/proxy/mod.ts";
import { type AnyPlugin, builtinRegistry, describePlugin } from "../lib/host/mod.ts";
import { runIsolatedClient } from "../lib/plugin/isolation.ts";
import {
  type Outcome,
  outcomeProblems,
  runClient,
  type Service,
  startServer,
  statsProblems,
} from "../lib/plugin/mod.ts";
import { formatAddress } from "../lib/transport/address.ts";
import { listenTcp } from "../lib/transport/tcp.ts";
import type { Conn } from "../lib/transport/types.ts";
import { makeCertificates } from "./_support/certs.ts";

const RUN = { timeout: 15_000 };

/** Checks outcomes and stats of one plugin and notes which declarations they used. */
class Coverage {
  readonly #plugin: AnyPlugin;
  readonly #seen = new Set<string>();

  constructor(plugin: AnyPlugin) {
    this.#plugin = plugin;
    assert.ok(plugin.client?.outcome, `${plugin.name} declares its client outcome`);
    assert.ok(plugin.server?.stats, `${plugin.name} declares its server stats`);
  }

  /** Runs the client role; `ok` is what the outcome must say (`undefined`: either). */
  async client(input: Record<string, unknown>, ok: boolean | undefined = true): Promise<Outcome> {
    return this.check(await runClient(this.#plugin, input, RUN), ok);
  }

  /** Checks an outcome the client role gave elsewhere (e.g. in its own process). */
  check(outcome: Outcome, ok: boolean | undefined = true): Outcome {
    if (ok !== undefined) {
      assert.equal(outcome.ok, ok, outcome.error?.message ?? "expected a failure");
    }
    const problems = outcomeProblems(this.#plugin.client!.outcome!, outcome, { seen: this.#seen });
    assert.deepEqual(problems, [], JSON.stringify(outcome, null, 1));
    return outcome;
  }

  stats(service: Service): void {
    const stats = service.stats();
    assert.deepEqual(statsProblems(this.#plugin.server!.stats!, stats, { seen: this.#seen }), []);
  }

  /** Declarations no run produced. */
  unseen(): string[] {
    const { outcome } = this.#plugin.client!;
    const declared = [
      ...outcome!.metrics.map((m) => `metrics.${m.name}`),
      ...outcome!.facts.map((f) => `facts.${f.path}`),
      ...this.#plugin.server!.stats!.map((s) => `stats.${s.name}`),
    ];
    return declared.filter((key) => !this.#seen.has(key));
  }
}

async function serving<T>(
  plugin: AnyPlugin,
  params: Record<string, unknown>,
  use: (service: Service, target: string) => Promise<T>,
): Promise<T> {
  const service = await startServer(plugin, params);
  try {
    return await use(service, formatAddress(service.address));
  } finally {
    await service.close();
  }
}

/**
 * Inputs that switch each boolean param of a client role away from its
 * default, and pick each value of each enum param, one at a time on top of
 * `base`: a param added later (and what it reports) is run without anyone
 * remembering to. `elsewhere` names params whose values need their own
 * server, run by hand in these tests.
 */
function switched(
  plugin: AnyPlugin,
  base: Record<string, unknown>,
  elsewhere: readonly string[] = [],
): Record<string, unknown>[] {
  const schema = describePlugin(plugin).client!.params as {
    properties: Record<string, { type?: string; enum?: unknown[]; default?: unknown }>;
  };
  for (const name of elsewhere) assert.ok(name in schema.properties, `${name} is a param`);
  const inputs: Record<string, unknown>[] = [];
  for (const [name, property] of Object.entries(schema.properties)) {
    if (elsewhere.includes(name)) continue;
    if (property.type === "boolean") inputs.push({ ...base, [name]: property.default !== true });
    for (const value of property.enum ?? []) inputs.push({ ...base, [name]: value });
  }
  return inputs;
}

/** Runs each switched input and checks its outcome, whatever its `ok`. */
async function runSwitched(cover: Coverage, inputs: Record<string, unknown>[]): Promise<void> {
  for (const input of inputs) await cover.client(input, undefined);
}

/** A free loopback TCP port nobody listens on. */
function closedPort(): number {
  const listener = listenTcp();
  const { port } = listener.addr;
  listener.close();
  return port;
}

Deno.test("echo: real outcomes and stats over tcp, tls, unix and udp match the declarations", async () => {
  const cover = new Coverage(echo);
  await using certs = await makeCertificates();
  for (const transport of ["tcp", "tls", "unix", "udp"]) {
    const server = transport === "tls" ? { cert: certs.certFile, key: certs.keyFile } : {};
    await serving(echo, { transport, ...server }, async (service, target) => {
      const base = {
        target,
        transport,
        count: 3,
        connections: 2,
        ...(transport === "tls" ? { caFile: certs.caCertFile, servername: "localhost" } : {}),
      };
      await cover.client(base);
      if (transport === "tls") {
        // Every switch of the client's params (noDelay, keepAlive, insecure…) over TLS, where
        // they all apply; each transport needs its own server, so they are run one by one.
        const inputs = switched(echo, base, ["transport"]);
        assert.ok(inputs.length >= 3);
        await runSwitched(cover, inputs);
      }
      cover.stats(service);
    });
  }
  // A refused connection: a failed outcome reports only what it declares.
  await cover.client({ target: `127.0.0.1:${closedPort()}` }, false);
  assert.deepEqual(cover.unseen(), []);
});

Deno.test("http-probe: real outcomes over http and https, with redirects, repeats and trailers, match the declarations", async () => {
  const cover = new Coverage(httpProbe);
  await serving(httpProbe, {
    body: "hello",
    headers: ["X-Test: yes", "Set-Cookie: a=1", "Set-Cookie: b=2"],
  }, async (final, finalAddress) => {
    await cover.client({ url: `http://${finalAddress}/`, repeat: 3 });
    await serving(httpProbe, {
      status: 302,
      headers: [`Location: http://${finalAddress}/moved`],
    }, async (redirecting, address) => {
      const followed = await cover.client({
        url: `http://${address}/`,
        followRedirects: true,
        headers: ["X-Api-Key: k"],
      });
      assert.equal((followed.facts.redirects as unknown[]).length, 1);
      const kept = await cover.client({ url: `http://${address}/` });
      assert.equal(typeof kept.facts.location, "string");
      cover.stats(redirecting);
    });
    cover.stats(final);
  });
  await using peer = chunkedPeer(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n" +
      "0\r\nX-Checksum: abc\r\nSet-Cookie: t=1\r\n\r\n",
  );
  const chunked = await cover.client({ url: `http://127.0.0.1:${peer.port}/` });
  assert.equal(typeof chunked.facts.trailers, "object");
  // compressed, and a gzip body: encoded_body_bytes.
  const gzipped = gzipSync("hello, gzip");
  await using gzipPeer = chunkedPeer(concat(
    `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gzipped.length}\r\n\r\n`,
    gzipped,
  ));
  const decoded = await cover.client({
    url: `http://127.0.0.1:${gzipPeer.port}/`,
    compressed: true,
  });
  assert.equal(decoded.facts.body_text, "hello, gzip");

  await using certs = await makeCertificates();
  await serving(httpProbe, { certFile: certs.certFile, keyFile: certs.keyFile }, async (s) => {
    const port = (s.address as Deno.NetAddr).port;
    const base = { url: `https://localhost:${port}/`, caFile: certs.caCertFile };
    await cover.client(base);
    // Every switch of the probe's params (compressed, fail, insecure, tlsClient…) over HTTPS.
    const inputs = switched(httpProbe, base);
    assert.ok(inputs.length >= 5);
    await runSwitched(cover, inputs);
  });
  // insecure and a certificate that does not verify: authorization_error.
  await using expired = await makeCertificates({ expired: true });
  await serving(httpProbe, { certFile: expired.certFile, keyFile: expired.keyFile }, async (s) => {
    const port = (s.address as Deno.NetAddr).port;
    await cover.client({ url: `https://localhost:${port}/`, insecure: true });
  });
  // Without insecure, that certificate fails the probe, which still reports the handshake.
  await serving(httpProbe, { certFile: expired.certFile, keyFile: expired.keyFile }, async (s) => {
    const port = (s.address as Deno.NetAddr).port;
    const refused = await cover.client({ url: `https://localhost:${port}/` }, false);
    assert.equal(typeof refused.facts.tls, "object");
  });
  // A server that presents another certificate on the measured connection
  // than on the inspection (Deno's client after an inspection):
  // inspection_certificate.
  await using other = await makeCertificates();
  const bothCas = `${other.dir}/both.pem`;
  await Deno.writeTextFile(bothCas, certs.caCert + other.caCert);
  await serving(httpProbe, { certFile: certs.certFile, keyFile: certs.keyFile }, async (first) => {
    await serving(httpProbe, { certFile: other.certFile, keyFile: other.keyFile }, async (then) => {
      await using relay = switchingRelay(first, then);
      const switched = await cover.client(
        { url: `https://localhost:${relay.port}/`, caFile: bothCas, tlsClient: "native" },
        false,
      );
      assert.equal(switched.error?.code, "tls");
    });
  });
  // A name only in the CN: Deno's client refuses, node:tls carries the requests.
  const dir = await Deno.makeTempDir();
  try {
    const made = await new Deno.Command("openssl", {
      args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        .concat(["-subj", "/CN=localhost", "-addext", "basicConstraints=critical,CA:FALSE"])
        .concat(["-days", "2", "-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`]),
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(30_000),
    }).output();
    assert.ok(made.success, "openssl could not make the certificate");
    await serving(httpProbe, {
      certFile: `${dir}/cert.pem`,
      keyFile: `${dir}/key.pem`,
    }, async (s) => {
      const port = (s.address as Deno.NetAddr).port;
      await cover.client({
        url: `https://localhost:${port}/`,
        caFile: `${dir}/cert.pem`,
        tlsClient: "native",
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await cover.client({ url: `http://127.0.0.1:${closedPort()}/` }, false);
  assert.deepEqual(cover.unseen(), []);
});

Deno.test("udp-ping: real outcomes and stats match the declarations", async () => {
  const cover = new Coverage(udpPing);
  await serving(udpPing, {}, async (service, target) => {
    await cover.client({ target, count: 5, intervalMs: 0 });
    await runSwitched(cover, switched(udpPing, { target, count: 2, intervalMs: 0 }));
    cover.stats(service);
    // In its own process, with its manifest's grants: on the deno path, no
    // /proc/net/udp (Deno wants --allow-all for it), so no receive_drops.
    const entry = builtinRegistry().get("udp-ping");
    const isolated = await runIsolatedClient(entry, { target, count: 2, io: "deno" }, RUN);
    assert.match(String(cover.check(isolated).facts.receive_drops_unknown), /--allow-all/);
  });
  // Nobody answers: every ping lost, no round-trip times (and not ok).
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = silent.addr as Deno.NetAddr;
    const outcome = await cover.client(
      { target: `127.0.0.1:${port}`, count: 2, timeoutMs: 50 },
      false,
    );
    assert.equal(outcome.metrics.lost, 2);
  } finally {
    silent.close();
  }
  assert.deepEqual(cover.unseen(), []);
});

Deno.test("file-send: real outcomes and stats in framed and raw modes match the declarations", async () => {
  const cover = new Coverage(fileSend);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/hello.txt`;
    await Deno.writeTextFile(file, "hello, file");
    // Each mode needs a receiver in that mode, so they are run by hand; no other switch.
    assert.deepEqual(switched(fileSend, {}, ["mode"]), []);
    for (const mode of ["framed", "raw"]) {
      const inbox = await Deno.makeTempDir({ dir });
      await serving(fileSend, { dir: inbox, mode }, async (service, target) => {
        await cover.client({ file, target, mode, idleTimeoutMs: 5000 });
        cover.stats(service);
      });
    }
    await cover.client({ file, target: `127.0.0.1:${closedPort()}` }, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(cover.unseen(), []);
});

function concat(head: string, body: Uint8Array): Uint8Array {
  const bytes = new TextEncoder().encode(head);
  const all = new Uint8Array(bytes.length + body.length);
  all.set(bytes);
  all.set(body, bytes.length);
  return all;
}

/** A TCP peer that answers every connection's first request with `response` and closes. */
function chunkedPeer(response: string | Uint8Array): { port: number } & AsyncDisposable {
  const listener = listenTcp();
  const conns = new Set<Conn>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      try {
        const buffer = new Uint8Array(4096);
        let head = "";
        while (!head.includes("\r\n\r\n")) {
          const n = await conn.read(buffer, { timeout: 5000 });
          if (n === null) break;
          head += new TextDecoder().decode(buffer.subarray(0, n));
        }
        const bytes = typeof response === "string" ? new TextEncoder().encode(response) : response;
        await conn.write(bytes, { timeout: 5000 });
      } catch {
        // The client went away: nothing to answer.
      } finally {
        conn.close();
        conns.delete(conn);
      }
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) conn.close();
      await serving;
    },
  };
}

/** Relays its first connection to `first`, every later one to `then`. */
function switchingRelay(first: Service, then: Service): { port: number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const pipes = new Set<Promise<unknown>>();
  const relaying = (async () => {
    let count = 0;
    for await (const client of listener) {
      const target = (count++ === 0 ? first : then).address as Deno.NetAddr;
      open.add(client);
      try {
        const server = await Deno.connect({ hostname: "127.0.0.1", port: target.port });
        open.add(server);
        const both = Promise.allSettled([
          client.readable.pipeTo(server.writable),
          server.readable.pipeTo(client.writable),
        ]);
        pipes.add(both);
      } catch {
        client.close();
      }
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed by its pipe */ }
      }
      await relaying;
      await Promise.all(pipes);
    },
  };
}

Deno.test("proxy: real outcomes and stats of tcp and udp proxies match the declarations", async () => {
  const cover = new Coverage(proxy);
  await serving(echo, { transport: "tcp" }, async (_echo, upstream) => {
    await serving(proxy, {
      seed: 1,
      proxies: [
        { name: "t", upstream },
        { name: "u", upstream: "127.0.0.1:9", protocol: "udp" },
      ],
    }, async (service, api) => {
      const set = await cover.client({
        api,
        proxy: "t",
        toxics: [{ type: "latency", attributes: { latency: 1 } }],
      });
      assert.deepEqual(set.facts.toxics, ["latency_downstream"]);
      await cover.client({ api, proxy: "u", enabled: false });
      cover.stats(service);
    });
  });
  // A control API that is not there: a failed outcome reports only what it declares.
  await cover.client({ api: `127.0.0.1:${closedPort()}`, timeoutMs: 2000 }, false);
  assert.deepEqual(cover.unseen(), []);
});
