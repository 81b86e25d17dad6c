// http-probe's two TLS clients side by side in one run (BENCHMARKS.md,
// "https: which TLS client times the phases" and "First connection"): an
// exporter with a module per client next to blackbox_exporter on one nginx
// https URL (wall time, probe_duration_seconds, phase medians), then the
// CLI's one-shot `probe` with each client next to `curl -w`.
//
//   deno run -A bench/https_clients.ts [batches=4] [probes per batch=25] [cold runs per batch=12]
import { makeCertificates } from "../tests/_support/certs.ts";
import { nginxConfig } from "../tests/_support/nginx.ts";
import { freePort, spawnPeer, waitForTcp } from "../tests/_support/peer.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const [BATCHES, PER, COLD] = [4, 25, 12].map((d, i) => Number(Deno.args[i] ?? d));
const WARM = 300;
const PHASES = ["connect", "tls", "processing", "transfer"];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

type Sample = Record<string, number>;

/** Runs `sides` alternately (order reversed every other round) and prints each side's medians. */
async function batches(title: string, sides: [string, () => Promise<Sample>][], rounds: number) {
  for (let batch = 0; batch < BATCHES; batch++) {
    const samples = new Map<string, Map<string, number[]>>();
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of round % 2 ? sides : [...sides].reverse()) {
        const side = samples.get(name) ?? new Map<string, number[]>();
        samples.set(name, side);
        for (const [key, value] of Object.entries(await run())) {
          side.set(key, [...(side.get(key) ?? []), value]);
        }
      }
    }
    const load = Deno.loadavg()[0].toFixed(1);
    for (const [name] of sides) {
      const medians = [...samples.get(name)!].map(([k, v]) => `${k}=${median(v).toFixed(3)}`);
      console.log(`${title} batch ${batch} load ${load} ${name.padEnd(8)} ${medians.join(" ")}`);
    }
  }
}

async function output(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  if (!out.success) throw new Error(`${command} failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

const dir = await Deno.makeTempDir({ prefix: "wiretest_https_clients_" });
await using certs = await makeCertificates();
const ca = certs.caCertFile;
const httpsPort = freePort();
await Deno.mkdir(`${dir}/www`);
await Deno.writeTextFile(`${dir}/www/index.html`, "<h1>wiretest</h1>\n".repeat(40));
await Deno.writeTextFile(
  `${dir}/nginx.conf`,
  nginxConfig({
    dir,
    httpPort: freePort(),
    httpsPort,
    certFile: certs.certFile,
    keyFile: certs.keyFile,
  }),
);
await using _nginx = spawnPeer("nginx", [
  "-p",
  dir,
  "-c",
  `${dir}/nginx.conf`,
  "-e",
  `${dir}/e.log`,
]);
await waitForTcp(httpsPort, 10_000);
const target = `https://localhost:${httpsPort}/`;
{
  const blackboxPort = freePort();
  await Deno.writeTextFile(
    `${dir}/blackbox.yml`,
    "modules:\n  h:\n    prober: http\n    timeout: 5s\n    http:\n" +
      `      preferred_ip_protocol: ip4\n      tls_config: { ca_file: "${ca}" }\n`,
  );
  await using _blackbox = spawnPeer("prometheus-blackbox-exporter", [
    `--config.file=${dir}/blackbox.yml`,
    `--web.listen-address=127.0.0.1:${blackboxPort}`,
  ]);
  await waitForTcp(blackboxPort, 10_000);
  await Deno.writeTextFile(
    `${dir}/exporter.yaml`,
    "modules:\n" +
      ["native", "node"].map((c) =>
        `  ${c}:\n    plugin: http-probe\n    timeout: 5s\n` +
        `    with: { caFile: "${ca}", tlsClient: ${c} }\n`
      ).join(""),
  );
  const port = freePort();
  const exporter = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}lib/cli/main.ts`, "exporter", "--config", `${dir}/exporter.yaml`]
      .concat(["--listen", `127.0.0.1:${port}`]),
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitForTcp(port, 30_000);
    const probe = (base: string, module: string) => async (): Promise<Sample> => {
      const started = performance.now();
      const response = await fetch(
        `${base}/probe?module=${module}&target=${encodeURIComponent(target)}`,
        { signal: AbortSignal.timeout(15_000) },
      );
      const text = await response.text();
      const wall = performance.now() - started;
      if (!/^probe_success 1$/m.test(text)) throw new Error(`${module}: ${text.slice(0, 400)}`);
      const seconds = (pattern: string) =>
        Number(new RegExp(`^${pattern} (\\S+)$`, "m").exec(text)![1]) * 1000;
      const sample: Sample = { wall, dur: seconds("probe_duration_seconds") };
      for (const phase of PHASES) {
        sample[phase] = seconds(`probe_http_duration_seconds\\{phase="${phase}"\\}`);
      }
      return sample;
    };
    const sides: [string, () => Promise<Sample>][] = [
      ["blackbox", probe(`http://127.0.0.1:${blackboxPort}`, "h")],
      ["native", probe(`http://127.0.0.1:${port}`, "native")],
      ["node", probe(`http://127.0.0.1:${port}`, "node")],
    ];
    // V8's optimizing tiers (bench/rows/exporter.ts, WARM_PROBES).
    for (let i = 0; i < WARM; i++) for (const [, run] of sides) await run();
    await batches("exporter", sides, PER);
  } finally {
    exporter.kill();
    await exporter.status;
  }
}
const url = target.replace("localhost", "127.0.0.1");
const wiretest = (client: string) => async (): Promise<Sample> => {
  const args = ["run", "-A", `${ROOT}lib/cli/main.ts`, "probe", "--json", url, "--ca-file", ca];
  const m = JSON.parse(await output(Deno.execPath(), [...args, "--tls-client", client])).metrics;
  return { connect: m.connect_ms, tls: m.tls_ms, ttfb: m.ttfb_ms, total: m.total_ms };
};
const curl = async (): Promise<Sample> => {
  const format = "%{time_namelookup} %{time_connect} %{time_appconnect} " +
    "%{time_starttransfer} %{time_total}";
  const out = await output("curl", ["-sS", "-o", "/dev/null", "-w", format, url, "--cacert", ca]);
  const [lookup, connect, appconnect, firstByte, total] = out.trim().split(" ")
    .map((s) => Number(s) * 1000);
  return {
    connect: connect - lookup,
    tls: appconnect - connect,
    ttfb: firstByte - appconnect,
    total,
  };
};
await batches(
  "cold",
  [["native", wiretest("native")], ["node", wiretest("node")], ["curl", curl]],
  COLD,
);
await Deno.remove(dir, { recursive: true });
