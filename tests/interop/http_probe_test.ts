// http-probe against servers and clients we did not write: nginx (HTTP and
// HTTPS, static files, redirects, keep-alive), Python's http.server
// (HTTP/1.0, close-delimited connections) and curl's phase timings on the
// same URLs.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { runHttpProbe } from "../../plugins/http_probe/mod.ts";
import { type Certificates, makeCertificates } from "../_support/certs.ts";
import { nginxConfig } from "../_support/nginx.ts";
import { freePort, ignoreWithout, type Peer, spawnPeer, waitForTcp } from "../_support/peer.ts";
import { commandOutput } from "../_support/command.ts";

const FILE_SIZE = 300_000;

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A directory with a random `data.bin` (and `index.html`) to serve. */
async function webRoot(): Promise<{ dir: string; data: Uint8Array } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-http-interop-" });
  const data = new Uint8Array(FILE_SIZE);
  for (let off = 0; off < FILE_SIZE; off += 65536) {
    crypto.getRandomValues(data.subarray(off, Math.min(off + 65536, FILE_SIZE)));
  }
  await Deno.mkdir(`${dir}/www`);
  await Deno.writeFile(`${dir}/www/data.bin`, data);
  await Deno.writeTextFile(`${dir}/www/index.html`, "<h1>wiretest</h1>\n");
  return {
    dir,
    data,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

interface Nginx extends AsyncDisposable {
  http: string;
  https: string;
  certs: Certificates;
  data: Uint8Array;
}

/**
 * Runs nginx in the foreground with everything (pid, logs, temp paths)
 * inside a temporary directory: plain HTTP on one port, TLS on another
 * with a certificate from a throw-away CA.
 */
async function startNginx(): Promise<Nginx> {
  const root = await webRoot();
  const certs = await makeCertificates();
  const dir = root.dir;
  const httpPort = freePort();
  const httpsPort = freePort();
  const conf = nginxConfig({
    dir,
    httpPort,
    httpsPort,
    certFile: certs.certFile,
    keyFile: certs.keyFile,
    serverExtra: "location = /old { return 301 /data.bin; }",
  });
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  let peer: Peer | undefined;
  try {
    peer = spawnPeer("nginx", ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`]);
    await waitForTcp(httpPort);
    await waitForTcp(httpsPort);
  } catch (error) {
    await peer?.[Symbol.asyncDispose]();
    await certs.cleanup();
    await root[Symbol.asyncDispose]();
    throw error;
  }
  const running = peer;
  return {
    http: `http://127.0.0.1:${httpPort}`,
    https: `https://localhost:${httpsPort}`,
    certs,
    data: root.data,
    async [Symbol.asyncDispose]() {
      await running[Symbol.asyncDispose]();
      await certs.cleanup();
      await root[Symbol.asyncDispose]();
    },
  };
}

/** curl's -w times for one URL, in milliseconds (curl prints seconds). */
interface CurlTimes {
  namelookup: number;
  connect: number;
  appconnect: number;
  starttransfer: number;
  total: number;
}

const CURL_FORMAT =
  "%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}\\n";

/** Runs curl once over `urls` (one connection reused) and returns each transfer's times. */
async function curlTimes(urls: string[], extra: string[] = []): Promise<CurlTimes[]> {
  const out = await commandOutput("curl", {
    args: [
      "-s",
      "--noproxy",
      "*",
      "-w",
      CURL_FORMAT,
      ...extra,
      ...urls.flatMap((u) => ["-o", "/dev/null", u]),
    ],
    stdout: "piped",
    stderr: "piped",
  });
  assert.ok(out.success, `curl failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((line) => {
    const [namelookup, connect, appconnect, starttransfer, total] = line.split(" ").map((s) =>
      Number(s) * 1000
    );
    return { namelookup, connect, appconnect, starttransfer, total };
  });
}

/**
 * Checks curl's rules for cumulative times: every one present and
 * non-negative, and each at least the one before (appconnect only counts
 * when TLS was used; curl reports 0 otherwise).
 */
function assertCumulative(t: CurlTimes, tls: boolean, who: string): void {
  for (const [name, value] of Object.entries(t)) {
    assert.ok(Number.isFinite(value) && value >= 0, `${who}: ${name} is ${value}`);
  }
  const order = tls
    ? [t.namelookup, t.connect, t.appconnect, t.starttransfer, t.total]
    : [t.namelookup, t.connect, t.starttransfer, t.total];
  for (let i = 1; i < order.length; i++) {
    assert.ok(order[i] >= order[i - 1], `${who}: times not cumulative: ${JSON.stringify(t)}`);
  }
  if (!tls) assert.equal(t.appconnect, 0, `${who}: appconnect without TLS`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

Deno.test({
  name: "http-probe reads a static file from nginx over HTTP",
  ignore: ignoreWithout("nginx"),
  async fn() {
    await using nginx = await startNginx();
    const outcome = await runHttpProbe({ url: `${nginx.http}/data.bin` });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.status, 200);
    assert.equal(outcome.metrics.body_bytes, FILE_SIZE);
    assert.equal(outcome.facts.body_sha256, sha256(nginx.data));
    const headers = outcome.facts.headers as Record<string, string>;
    assert.match(headers.server, /^nginx/);
    assert.equal(headers["content-length"], String(FILE_SIZE));
  },
});

Deno.test({
  name: "http-probe reads a static file from nginx over HTTPS with certificate facts",
  ignore: ignoreWithout("nginx"),
  async fn() {
    await using nginx = await startNginx();
    const outcome = await runHttpProbe({
      url: `${nginx.https}/data.bin`,
      caFile: nginx.certs.caCertFile,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.facts.body_sha256, sha256(nginx.data));
    const tls = outcome.facts.tls as {
      authorized: boolean;
      protocol: string;
      certificate: { subject: string; fingerprint256: string };
    };
    assert.equal(tls.authorized, true);
    assert.match(tls.protocol, /^TLSv1\.[23]$/);
    assert.equal(tls.certificate.subject, "CN=localhost");
  },
});

Deno.test({
  name: "http-probe follows nginx's redirect on the same connection",
  ignore: ignoreWithout("nginx"),
  async fn() {
    await using nginx = await startNginx();
    const outcome = await runHttpProbe({ url: `${nginx.http}/old`, followRedirects: true });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.redirects, 1);
    assert.equal(outcome.facts.url, `${nginx.http}/data.bin`);
    assert.equal(outcome.facts.body_sha256, sha256(nginx.data));
    const [hop] = outcome.facts.redirects as { status: number; location: string }[];
    assert.equal(hop.status, 301);
    assert.equal(hop.location, `${nginx.http}/data.bin`);
    assert.equal(outcome.metrics.connections, 1);
  },
});

Deno.test({
  name: "http-probe reads a file from Python's http.server (HTTP/1.0, one connection per request)",
  ignore: ignoreWithout("python3"),
  async fn() {
    await using root = await webRoot();
    const port = freePort();
    await using _python = spawnPeer("python3", [
      "-m",
      "http.server",
      "--bind",
      "127.0.0.1",
      String(port),
      "--directory",
      `${root.dir}/www`,
    ]);
    await waitForTcp(port);
    const outcome = await runHttpProbe({ url: `http://127.0.0.1:${port}/data.bin`, repeat: 2 });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.status, 200);
    assert.equal(outcome.facts.http_version, "1.0");
    assert.equal(outcome.facts.body_sha256, sha256(root.data));
    assert.equal(outcome.metrics.connections, 2, "HTTP/1.0 without keep-alive closes");
  },
});

Deno.test({
  name: "http-probe and curl both report cumulative phases for the same nginx URLs",
  ignore: ignoreWithout("nginx", "curl"),
  async fn() {
    await using nginx = await startNginx();
    for (
      const [url, tls] of [[`${nginx.http}/data.bin`, false], [
        `${nginx.https}/data.bin`,
        true,
      ]] as const
    ) {
      const [curl] = await curlTimes([url], ["--cacert", nginx.certs.caCertFile]);
      assertCumulative(curl, tls, `curl ${url}`);
      const outcome = await runHttpProbe({ url, caFile: nginx.certs.caCertFile });
      assert.equal(outcome.ok, true, outcome.error?.message);
      assertCumulative(outcome.facts.timeline_ms as CurlTimes, tls, `http-probe ${url}`);
      const m = outcome.metrics;
      for (const name of ["dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "transfer_ms", "total_ms"]) {
        assert.ok(m[name] >= 0, `http-probe ${name} is ${m[name]}`);
      }
    }
  },
});

Deno.test({
  name: "http-probe and curl: 200 keep-alive requests to nginx (medians printed, not judged)",
  ignore: ignoreWithout("nginx", "curl"),
  async fn() {
    await using nginx = await startNginx();
    const url = `${nginx.http}/index.html`;
    const requests = 200;
    const outcome = await runHttpProbe({ url, repeat: requests });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.requests, requests);
    assert.equal(outcome.metrics.connections, 1);
    const curl = await curlTimes(Array(requests).fill(url));
    assert.equal(curl.length, requests);
    const ours = outcome.metrics.latency_p50_ms;
    const theirs = median(curl.map((t) => t.total));
    console.log(
      `200 keep-alive GETs of ${url}: http-probe median total ${ours.toFixed(3)} ms ` +
        `(${outcome.metrics.requests_per_s.toFixed(0)} req/s), curl median time_total ` +
        `${theirs.toFixed(3)} ms`,
    );
  },
});
