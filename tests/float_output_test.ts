// Numbers in what wiretest writes for people and CI — the CLI's --json, the
// jsonl, JUnit and HTML reports, the exporter's exposition — are rounded by
// one rule (lib/_internal/round_float.ts): no binary noise of performance.now()
// differences (`0.002579999999966276`), no digit the clocks did not measure.
// Real runs over loopback: a udp-ping server and client, 20 pings, whose
// standard deviation and jitter have every digit a double holds unless rounded.
import assert from "node:assert/strict";
import { roundFloat } from "../lib/_internal/round_float.ts";
import { startUdpPingServer } from "../plugins/udp_ping/mod.ts";
import { formatAddress } from "../lib/transport/mod.ts";
import { deno, MAIN } from "./_support/deno_process.ts";
import { get, testExporter } from "./exporter/_exporter.ts";

/** A udp-ping server on loopback, closed when the test's scope ends. */
async function udpPingServer() {
  const service = await startUdpPingServer({ host: "127.0.0.1" });
  return { address: service.address, [Symbol.asyncDispose]: () => service.close() };
}

/** Every number in a parsed JSON value, with its path. */
function numbers(value: unknown, path = "$", out: [string, number][] = []): [string, number][] {
  if (typeof value === "number") out.push([path, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => numbers(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) numbers(v, `${path}.${k}`, out);
  }
  return out;
}

/** The numbers written with more digits than the rule keeps, and how many are fractions. */
function check(found: [string, number][]): { unrounded: string[]; fractions: number } {
  const unrounded = found.filter(([, n]) => roundFloat(n) !== n).map(([p, n]) => `${p}=${n}`);
  return { unrounded, fractions: found.filter(([, n]) => !Number.isInteger(n)).length };
}

Deno.test("wiretest ping --json writes every fraction rounded to 9 decimal places", async () => {
  await using server = await udpPingServer();
  const ran = await deno([
    "run",
    "-A",
    MAIN,
    "ping",
    formatAddress(server.address),
    "--count",
    "20",
    "--interval-ms",
    "1",
    "--json",
  ], { timeoutMs: 60_000 });
  assert.equal(ran.code, 0, ran.stderr);
  const outcome = JSON.parse(ran.stdout);
  const { unrounded, fractions } = check(numbers(outcome));
  assert.deepEqual(unrounded, []);
  // Not vacuous: the RTT statistics are fractions.
  assert.ok(fractions >= 5, ran.stdout);
  assert.ok(Number.isFinite(outcome.metrics.rtt_stddev_ms));
});

Deno.test("wiretest test --reporter jsonl/junit/html writes every fraction rounded", async () => {
  await using server = await udpPingServer();
  const dir = await Deno.makeTempDir({ prefix: "wiretest_floats_" });
  try {
    await Deno.writeTextFile(
      `${dir}/ping.wire.yaml`,
      // A second step whose expectation fails: failure lines and TAP's actual.
      `name: ping\nsteps:\n${
        ["", "    expect: { metrics.rtt_stddev_ms: '< 0' }\n"].map((expect) =>
          `  - plugin: udp-ping\n    with: { target: "${
            formatAddress(server.address)
          }", count: 20, intervalMs: 1 }\n${expect}`
        ).join("")
      }`,
    );
    const ran = await deno([
      "run",
      "-A",
      MAIN,
      "test",
      `${dir}/ping.wire.yaml`,
      "--reporter",
      "jsonl",
      "--output",
      `${dir}/run.jsonl`,
      "--reporter",
      "junit",
      "--output",
      `${dir}/run.xml`,
      "--reporter",
      "html",
      "--output",
      `${dir}/run.html`,
      "--reporter",
      "tap",
      "--output",
      `${dir}/run.tap`,
      "--reporter",
      "console",
    ], { timeoutMs: 120_000 });
    assert.equal(ran.code, 1, ran.stderr);
    // The console's failure line and TAP's YAML: the standard deviation of 20 RTTs, rounded.
    const shown = /metrics\.rtt_stddev_ms: expected < 0, actual (\S+)/.exec(ran.stdout)?.[1];
    assert.ok(shown, ran.stdout);
    assert.equal(String(roundFloat(Number(shown))), shown);
    const tap = /actual: (\S+)/.exec(await Deno.readTextFile(`${dir}/run.tap`))?.[1];
    assert.equal(tap, shown);

    const events = (await Deno.readTextFile(`${dir}/run.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    const jsonl = check(numbers(events));
    assert.deepEqual(jsonl.unrounded, []);
    assert.ok(jsonl.fractions >= 5);

    // JUnit's <system-out>: "metrics: name=value …" per attempt.
    const xml = await Deno.readTextFile(`${dir}/run.xml`);
    const line = /metrics: ([^<\n]*)/.exec(xml)?.[1];
    assert.ok(line, xml);
    const values = line.split(" ").map((pair) => pair.split("=")) as [string, string][];
    assert.ok(values.length >= 10, line);
    for (const [name, text] of values) {
      assert.equal(String(roundFloat(Number(text))), text, `${name}=${text}`);
    }

    const html = await Deno.readTextFile(`${dir}/run.html`);
    const data = /<script type="application\/json" id="wt--data">(.*?)<\/script>/s.exec(html)?.[1];
    assert.ok(data);
    const page = check(numbers(JSON.parse(data)));
    assert.deepEqual(page.unrounded, []);
    assert.ok(page.fractions >= 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exporter: every sample of a probe's exposition is written rounded, as the rule writes it", async () => {
  await using server = await udpPingServer();
  await using ex = await testExporter(`modules:
  udp:
    plugin: udp-ping
    with: { count: 20, intervalMs: 1, warmUp: 0 }
`);
  const answer = await get(
    `${ex.base}/probe?module=udp&target=${encodeURIComponent(formatAddress(server.address))}`,
  );
  assert.equal(answer.status, 200, answer.text);
  const written = answer.text.split("\n").filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.slice(l.lastIndexOf(" ") + 1));
  assert.ok(written.length >= 10, answer.text);
  for (const text of written) {
    if (text === "NaN" || text.endsWith("Inf")) continue;
    assert.equal(String(roundFloat(Number(text))), text, answer.text);
  }
  assert.ok(written.filter((t) => t.includes(".")).length >= 5, answer.text);
  assert.match(answer.text, /^probe_success 1$/m);
});
