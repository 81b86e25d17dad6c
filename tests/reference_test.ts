// REFERENCE.md is what the plugins declare: regenerating it gives the same
// text, and `wiretest reference` reads third-party declarations from the
// plugin's isolated Worker.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { referenceMarkdown } from "../lib/cli/_reference_markdown.ts";
import { referenceFor } from "../lib/cli/reference_command.ts";
import { readDescription } from "../lib/plugin/_isolation_describe.ts";
import { outputWithin } from "./_support/command.ts";
import { builtinRegistry } from "../plugins/manifest.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const REFERENCE = `${ROOT}REFERENCE.md`;
const DNS_MANIFEST = `${ROOT}examples/plugins/dns/manifest.json`;

async function wiretest(...args: string[]) {
  return await outputWithin(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}lib/cli/main.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  });
}

Deno.test("REFERENCE.md is what the built-in plugins declare (regenerate: deno task reference)", async () => {
  const expected = await referenceFor([]);
  assert.equal(await Deno.readTextFile(REFERENCE), expected);
  for (const name of ["echo", "http-probe", "udp-ping", "file-send"]) {
    assert.match(expected, new RegExp(`^## ${name}$`, "m"));
  }
  assert.match(expected, /^\| fact +\| type +\| when +\| meaning +\|$/m);
  assert.match(expected, /^\| `redirects\[\]\.status` +\| number /m);
});

Deno.test("wiretest reference --check exits 0 for an up-to-date file and 1 for a stale one", async () => {
  const ok = await wiretest("reference", "--output", REFERENCE, "--check");
  assert.equal(ok.code, 0, ok.stderr);
  const stale = await Deno.makeTempFile({ suffix: ".md" });
  try {
    await Deno.writeTextFile(stale, "# Metrics and facts\n");
    const r = await wiretest("reference", "--output", stale, "--check");
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error: Cannot check the reference: "${stale}" is out of date (write it with: wiretest reference --output ${stale})\n`,
    );
    assert.equal(await Deno.readTextFile(stale), "# Metrics and facts\n", "--check writes nothing");
  } finally {
    await Deno.remove(stale);
  }
  const usage = await wiretest("reference", "--check");
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--check needs --output <file>/);
});

Deno.test("wiretest reference lists a third-party plugin's declarations, read from its Worker", async () => {
  const r = await wiretest("reference", "--plugins", DNS_MANIFEST);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^## dns$/m);
  assert.match(r.stdout, /^### Client outcome \(`wiretest run dns`\)$/m);
  assert.match(r.stdout, /^\| `response_bytes` +\| bytes +\| once a response came +\| Size/m);
  assert.match(r.stdout, /^\| `answers\[\]\.data` +\| string /m);
});

Deno.test("readDescription() refuses a malformed declaration sent by a plugin's Worker", () => {
  const entry = builtinRegistry().get("udp-ping");
  const role = { params: { type: "object" }, positionals: [] };
  const sent = {
    name: "udp-ping",
    version: "1",
    description: "d",
    server: { ...role, stats: [{ name: "Bad Name", unit: "count", description: "x" }] },
    client: { ...role, summary: true },
  };
  assert.throws(
    () => readDescription(entry, sent),
    /^TypeError: Cannot describe plugin "udp-ping": its worker sent declarations that are wrong \(Cannot declare the outcome of plugin "udp-ping" \(server\): stat name "Bad Name" is not snake_case\)$/,
  );
  const fine = readDescription(entry, { ...sent, server: role });
  assert.equal(fine.server?.stats, undefined);
});

Deno.test("--help names what a role reports: outcome metrics and facts, server stats", async () => {
  const client = await wiretest("echo", "--help");
  assert.equal(client.code, 0, client.stderr);
  assert.match(
    client.stdout,
    /\nOutcome \(--json; units and meanings: wiretest reference\):\n {2}metrics: bytes_sent, bytes_received, round_trips,/,
  );
  assert.match(
    client.stdout,
    /\n {2}facts: {3}transport, target, payload_bytes, rtt_percentiles\n$/,
  );
  const server = await wiretest("serve", "udp-ping", "--help");
  assert.equal(server.code, 0, server.stderr);
  assert.match(
    server.stdout,
    /\nStats \(printed when it stops; units and meanings: wiretest reference\):\n {2}datagrams_in, datagrams_out, bytes_in, bytes_out, warm_up_in, send_errors,\n {2}receive_drops\n$/,
  );
  // A third-party plugin's, from its Worker.
  const isolated = await wiretest("run", "dns", "--plugins", DNS_MANIFEST, "--help");
  assert.equal(isolated.code, 0, isolated.stderr);
  assert.match(isolated.stdout, /\n {2}facts: {3}server, rcode, answers, authoritative,/);
});

Deno.test("fixture.schema.json offers each step plugin's declared metrics and facts under expect:", async () => {
  const schema = JSON.parse(await Deno.readTextFile(`${ROOT}fixture.schema.json`));
  const branches = schema.properties.steps.items.allOf as {
    if: { properties: { plugin: { const: string } } };
    then: { properties: { expect?: { properties: Record<string, { description: string }> } } };
  }[];
  const keys = (plugin: string) =>
    branches.find((b) => b.if.properties.plugin.const === plugin)!.then.properties.expect!
      .properties;
  const probe = keys("http-probe");
  assert.equal(
    probe["facts.tls.certificate.days_left"].description,
    "[number] Whole days until `not_after`; negative once expired.",
  );
  assert.equal(
    probe["metrics.latency_p99_ms"].description,
    "[ms, with `repeat` above 1] 99th percentile of each request's `total_ms`.",
  );
  // Paths with a key or index only the outcome knows are not offered as keys.
  assert.equal(Object.keys(probe).some((key) => /[*[]/.test(key)), false);
  assert.equal(probe["metrics.round_trips"], undefined, "echo's metric is not http-probe's");
  assert.ok(keys("echo")["metrics.round_trips"]);
  assert.ok(keys("file-send")["facts.ack.sha256"]);
});

Deno.test("the reference escapes pipes in table cells and fills prose as deno fmt does", async () => {
  const text = referenceMarkdown([{
    name: "pipes",
    version: "1.0.0",
    description: `${"A plugin that says a lot about itself, ".repeat(4)}in one sentence.`,
    client: {
      params: { type: "object" },
      positionals: [],
      summary: false,
      outcome: {
        metrics: [{ name: "a_or_b", unit: "count", description: "Either a | b." }],
        facts: [],
      },
    },
  }]);
  assert.match(text, /^\| `a_or_b` \| count \| always \| Either a \\\| b\. \|$/m);
  assert.match(text, /^### Client outcome \(`wiretest run pipes`\)$/m);
  for (const line of text.split("\n")) assert.ok(line.length <= 100 || line.startsWith("|"), line);
  // What deno fmt would write: formatting the text changes nothing.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/r.md`, text);
    const fmt = await outputWithin(Deno.execPath(), {
      args: ["fmt", "--check", "--line-width", "100", `${dir}/r.md`],
    });
    assert.equal(fmt.code, 0, fmt.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
