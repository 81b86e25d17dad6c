// The real systems the exporter is proven with, started on loopback with
// free ports and temp dirs: nginx (HTTP and HTTPS), blackbox_exporter,
// Prometheus. Disposing each kills it and removes its files.
import { type Certificates, makeCertificates } from "../_support/certs.ts";
import { nginxConfig } from "../_support/nginx.ts";
import { freePort, type Peer, spawnPeer, waitForTcp } from "../_support/peer.ts";

/** A running nginx serving `index.html` over HTTP and HTTPS. */
export interface TestNginx extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/` */
  http: string;
  /** `https://localhost:<port>/` */
  https: string;
  certs: Certificates;
}

/** Starts nginx with a throw-away CA's certificate. */
export async function startNginx(): Promise<TestNginx> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_nginx_" });
  const certs = await makeCertificates();
  await Deno.mkdir(`${dir}/www`);
  await Deno.writeTextFile(`${dir}/www/index.html`, "<h1>wiretest exporter</h1>\n".repeat(40));
  const httpPort = freePort();
  const httpsPort = freePort();
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    nginxConfig({ dir, httpPort, httpsPort, certFile: certs.certFile, keyFile: certs.keyFile }),
  );
  const cleanup = async (peer?: Peer) => {
    await peer?.[Symbol.asyncDispose]();
    await certs.cleanup();
    await Deno.remove(dir, { recursive: true });
  };
  let peer: Peer | undefined;
  try {
    peer = spawnPeer("nginx", ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`]);
    await waitForTcp(httpPort);
    await waitForTcp(httpsPort);
  } catch (error) {
    await cleanup(peer);
    throw error;
  }
  return {
    http: `http://127.0.0.1:${httpPort}/`,
    https: `https://localhost:${httpsPort}/`,
    certs,
    [Symbol.asyncDispose]: () => cleanup(peer),
  };
}

/** A running program on a port, with its temp dir. */
export interface TestDaemon extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  base: string;
  port: number;
  dir: string;
}

/** Starts Debian's prometheus-blackbox-exporter with `config` (YAML). */
export async function startBlackbox(config: string): Promise<TestDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_blackbox_" });
  await Deno.writeTextFile(`${dir}/blackbox.yml`, config);
  const port = freePort();
  return await daemon(dir, port, "prometheus-blackbox-exporter", [
    `--config.file=${dir}/blackbox.yml`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
}

/** Starts Debian's prometheus with `config` (YAML), storage in a temp dir. */
export async function startPrometheus(config: string): Promise<TestDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_prometheus_" });
  await Deno.writeTextFile(`${dir}/prometheus.yml`, config);
  const port = freePort();
  const started = await daemon(dir, port, "prometheus", [
    `--config.file=${dir}/prometheus.yml`,
    `--storage.tsdb.path=${dir}/data`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=warn",
  ]);
  // It listens before its storage is open: until /-/ready says so (bounded: 30 s).
  for (let i = 0;; i++) {
    const ready = await fetch(`${started.base}/-/ready`, { signal: AbortSignal.timeout(5_000) })
      .then(async (r) => (await r.body?.cancel(), r.status === 200), () => false);
    if (ready) return started;
    if (i === 300) {
      await started[Symbol.asyncDispose]();
      throw new Error("Cannot start prometheus: not ready within 30 s");
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

async function daemon(dir: string, port: number, cmd: string, args: string[]): Promise<TestDaemon> {
  let peer: Peer | undefined;
  const cleanup = async () => {
    await peer?.[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    peer = spawnPeer(cmd, args, { cwd: dir });
    await waitForTcp(port, 20_000);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { base: `http://127.0.0.1:${port}`, port, dir, [Symbol.asyncDispose]: cleanup };
}

/** One instant-query result: labels and value. */
export interface QueryResult {
  metric: Record<string, string>;
  value: number;
}

/** Runs an instant query against Prometheus' HTTP API (bounded: 10 s). */
export async function query(base: string, promql: string): Promise<QueryResult[]> {
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json();
  if (body.status !== "success") {
    throw new Error(`Cannot query Prometheus: ${JSON.stringify(body)}`);
  }
  return body.data.result.map((r: { metric: Record<string, string>; value: [number, string] }) => ({
    metric: r.metric,
    value: Number(r.value[1]),
  }));
}
