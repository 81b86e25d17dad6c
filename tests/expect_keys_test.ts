// A step's `expect:` keys must name metrics and facts its built-in plugin
// declares: a misspelt `metrics.rtt_p99` or `facts.payload_byte` is refused
// when the fixture loads, located, with a suggestion, together with the file's
// other problems (a param typo in the same file hid them before), instead of
// failing after the run as "actual absent". Keys that go
// inside declared objects, lists and maps (headers, redirects, tls) still load,
// and such a fixture runs and passes against real servers on loopback.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { prepareFixture } from "../lib/runner/prepare_fixture.ts";
import { runFixtures } from "../lib/runner/run.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MAIN = join(ROOT, "lib/cli/main.ts");
const CLI_TIMEOUT_MS = 60_000;

async function withFixture<T>(text: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-expect-keys-" });
  try {
    const file = join(dir, "keys.wire.yaml");
    await Deno.writeTextFile(file, text);
    return await use(file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const MISSPELT = `name: misspelt keys
services:
  echo: { plugin: echo }
  web: { plugin: http-probe, with: { body: hi } }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", count: 2, cout: 3 }
    expect:
      metrics.rtt_p99: "< 10"
      facts.payload_byte: 5
      metrics.bytes_sent: "> 0"
  - plugin: http-probe
    with: { url: "http://\${services.web.addr}/" }
    expect:
      metrics.stauts: 200
      facts.tls.protocl: TLSv1.3
      facts.headers.content-type: exists
      latency: 3
`;

const MISSPELT_PROBLEMS = [
  '7:56 "steps[0].with.cout" is not a param of plugin "echo" (did you mean "count"?)',
  '9:7 "steps[0].expect.metrics.rtt_p99" names metric "rtt_p99" (did you mean "metrics.rtt_p99_ms"?), which plugin "echo" never reports: the expectation could never hold except as "absent"',
  '10:7 "steps[0].expect.facts.payload_byte" names fact "payload_byte" (did you mean "facts.payload_bytes"?), which plugin "echo" never reports: the expectation could never hold except as "absent"',
  '15:7 "steps[1].expect.metrics.stauts" names metric "stauts" (did you mean "metrics.status"?), which plugin "http-probe" never reports: the expectation could never hold except as "absent"',
  '16:7 "steps[1].expect.facts.tls.protocl" names fact "tls.protocl" (did you mean "facts.tls.protocol"?), which plugin "http-probe" never reports: the expectation could never hold except as "absent"',
  '18:7 "steps[1].expect.latency" does not name a field of the outcome: "latency" is not part of an outcome: use ok, error, error.code, metrics.<name> or facts.<name>',
];

Deno.test("prepareFixture() refuses expect keys naming no declared metric or fact, with the file's other problems", async () => {
  await withFixture(MISSPELT, async (file) => {
    const prepared = await prepareFixture(file);
    assert.equal(prepared.status, "invalid");
    if (prepared.status !== "invalid") return;
    assert.deepEqual(
      prepared.problems.map((p) =>
        `${p.line}:${p.column} ${p.message.replace(/^[^"]*"[^"]*": /, "")}`
      ),
      MISSPELT_PROBLEMS,
    );
  });
});

Deno.test("wiretest test refuses a misspelt expect key before running anything, exit 2", async () => {
  await withFixture(MISSPELT, async (file) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "test", file],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 2, stdout + new TextDecoder().decode(out.stderr));
    assert.match(stdout, /^INVALID misspelt keys/m);
    assert.match(
      stdout,
      /keys\.wire\.yaml:9:7": "steps\[0\]\.expect\.metrics\.rtt_p99" names metric "rtt_p99" \(did you mean "metrics\.rtt_p99_ms"\?\)/,
    );
    assert.match(stdout, /keys\.wire\.yaml:10:7": .*did you mean "facts\.payload_bytes"/);
    assert.doesNotMatch(stdout, /actual absent/);
  });
});

// Keys inside declared maps and lists, and every kind of fact path, load and
// hold against real servers: the check refuses only what names nothing.
const DEEP = `name: deep keys
services:
  echo: { plugin: echo }
  web: { plugin: http-probe, with: { body: wiretest } }
  pong: { plugin: udp-ping }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", count: 2 }
    expect:
      metrics.rtt_p99_ms: ">= 0"
      facts.payload_bytes: exists
      facts.transport: tcp
  - plugin: http-probe
    with: { url: "http://\${services.web.addr}/" }
    expect:
      metrics.status: 200
      facts.headers.content-length: "8"
      facts.headers["content-length"]: exists
      facts.redirects: { exists: true }
      facts.redirects[0].status: absent
      facts.tls: absent
      facts.timeline_ms.total: "> 0"
      error.code: absent
  - plugin: udp-ping
    with: { target: "\${services.pong.addr}", count: 2, intervalMs: 5 }
    expect:
      metrics.received: 2
      facts.rtt_by_seq: exists
`;

Deno.test("runFixtures() loads and passes expect keys inside declared objects, maps and lists", async () => {
  await withFixture(DEEP, async (file) => {
    for (const isolation of [false, true]) {
      const result = await runFixtures({
        paths: [file],
        isolation,
        reporters: [],
        signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
      });
      const seen = JSON.stringify(result.fixtures);
      assert.equal(result.summary.invalid, 0, seen);
      assert.equal(result.summary.passed, 1, seen);
      assert.equal(result.exitCode, 0);
    }
  });
});

Deno.test("prepareFixture() refuses an ok expectation that is not true or false, located", async () => {
  const text = `name: ok values
steps:
  - plugin: echo
    with: { target: "127.0.0.1:9" }
    expect:
      ok: maybe
  - plugin: echo
    with: { target: "127.0.0.1:9" }
    expect:
      ok: "true"
  - plugin: echo
    with: { target: "127.0.0.1:9" }
    expect:
      ok: false
`;
  await withFixture(text, async (file) => {
    const prepared = await prepareFixture(file);
    assert.equal(prepared.status, "invalid");
    if (prepared.status !== "invalid") return;
    assert.deepEqual(prepared.problems.map((p) => p.message), [
      `Cannot load fixture "${file}:6:7": "steps[0].expect.ok" must be true or false, not "maybe"`,
      `Cannot load fixture "${file}:10:7": "steps[1].expect.ok" must be true or false, not "true"`,
    ]);
  });
});

Deno.test("prepareFixture() calls a .wire.json file's syntax error invalid JSON, located", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-json-syntax-" });
  try {
    const file = join(dir, "broken.wire.json");
    await Deno.writeTextFile(file, '{\n  "name": "bad json",\n  "steps": [,]\n}\n');
    const prepared = await prepareFixture(file);
    assert.equal(prepared.status, "invalid");
    if (prepared.status !== "invalid") return;
    assert.equal(
      prepared.problems[0].message,
      `Cannot load fixture "${file}:3:13": invalid JSON: unexpected , in flow sequence`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A third-party plugin declares its outcome in its own module, which runs in
// its own process when isolated: it is asked there, and a misspelt key is
// refused at load as for a built-in (it passed as "absent" before).
const THIRD_PARTY = `name: third-party keys
steps:
  - plugin: resp
    with: { target: "127.0.0.1:1" }
    expect:
      metrics.mismatchs: absent
      metrics.commands: "> 0"
`;

for (const isolation of [true, false]) {
  Deno.test(`wiretest test refuses a misspelt expect key of a third-party plugin${isolation ? "" : " (--no-isolation)"}, exit 2`, async () => {
    await withFixture(THIRD_PARTY, async (file) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "test",
          file,
          "--plugins",
          join(ROOT, "examples/plugins/resp/manifest.json"),
          ...(isolation ? [] : ["--no-isolation"]),
        ],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
        signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 2, stdout + new TextDecoder().decode(out.stderr));
      assert.match(stdout, /^INVALID third-party keys/m);
      assert.match(
        stdout,
        /keys\.wire\.yaml:6:7": "steps\[0\]\.expect\.metrics\.mismatchs" names metric "mismatchs" \(did you mean "metrics\.mismatches"\?\), which plugin "resp" never reports/,
      );
      assert.doesNotMatch(stdout, /metrics\.commands/);
    });
  });
}
