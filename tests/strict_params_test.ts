// Unknown params are refused, located, with a "did you mean", whatever the
// plugin: every built-in role, third-party plugins written with a non-strict
// zod `z.object` and with valibot, and a plugin made by `wiretest new plugin`;
// through the runner (in-process and isolated) and the CLI as a subprocess.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { newCommand } from "../lib/cli/new_command.ts";
import { prepareFixture } from "../lib/runner/prepare_fixture.ts";
import { runFixtures } from "../lib/runner/run.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MAIN = join(ROOT, "lib/cli/main.ts");
const MANIFEST = join(ROOT, "tests/fixtures/strict_params/manifest.json");
const CLI_TIMEOUT_MS = 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a deno subprocess, killed when it outlives `CLI_TIMEOUT_MS`. */
async function denoRun(args: string[], cwd = ROOT): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

function wiretest(...args: string[]): Promise<Run> {
  return denoRun(["run", "-A", MAIN, ...args]);
}

async function withFixture<T>(text: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-strict-" });
  try {
    const file = join(dir, "typos.wire.yaml");
    await Deno.writeTextFile(file, text);
    return await use(file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Line and column (1-based) of the `nth` occurrence of `needle`'s key in `text`. */
function at(text: string, needle: string): string {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, needle);
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

// One misspelt key in every role of every built-in plugin.
const BUILT_IN = `name: built-in typos
services:
  e: { plugin: echo, with: { prot: 0 } }
  h: { plugin: http-probe, with: { stauts: 204 } }
  u: { plugin: udp-ping, with: { hots: 127.0.0.1 } }
  f: { plugin: file-send, with: { dir: "\${env.WIRETEST_TMP}", overwite: true } }
steps:
  - plugin: echo
    with: { target: "\${services.e.addr}", cout: 100 }
  - plugin: http-probe
    with: { url: "http://\${services.h.addr}/", header: ["X-A: 1"] }
  - plugin: udp-ping
    with: { target: "\${services.u.addr}", cuont: 3 }
  - plugin: file-send
    with: { file: "\${env.WIRETEST_FIXTURE_DIR}/x", target: "\${services.f.addr}", chunkSiz: 1 }
`;

const BUILT_IN_PROBLEMS: [string, string, string][] = [
  ["services.e.with.prot", "echo", "port"],
  ["services.h.with.stauts", "http-probe", "status"],
  ["services.u.with.hots", "udp-ping", "host"],
  ["services.f.with.overwite", "file-send", "overwrite"],
  ["steps[0].with.cout", "echo", "count"],
  ["steps[1].with.header", "http-probe", "headers"],
  ["steps[2].with.cuont", "udp-ping", "count"],
  ["steps[3].with.chunkSiz", "file-send", "chunkSize"],
];

function expectedLines(text: string, problems: [string, string, string][]): string[] {
  return problems.map(([path, plugin, suggestion]) => {
    const key = path.split(".").at(-1)!;
    return `${
      at(text, ` ${key}: `).replace(/:(\d+)$/, (_, c) => `:${Number(c) + 1}`)
    }": "${path}" ` +
      `is not a param of plugin "${plugin}" (did you mean "${suggestion}"?)`;
  });
}

Deno.test("prepareFixture() refuses a misspelt param of every built-in role, located with a suggestion", async () => {
  await withFixture(BUILT_IN, async (file) => {
    const prepared = await prepareFixture(file);
    assert.equal(prepared.status, "invalid");
    if (prepared.status !== "invalid") return;
    const got = prepared.problems.map((p) => p.message).sort();
    const want = expectedLines(BUILT_IN, BUILT_IN_PROBLEMS)
      .map((tail) => `Cannot load fixture "${file}:${tail}`).sort();
    assert.deepEqual(got, want);
  });
});

Deno.test("wiretest test refuses a misspelt param of every built-in role in one run, exit 2", async () => {
  await withFixture(BUILT_IN, async (file) => {
    const run = await wiretest("test", file);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    for (const line of expectedLines(BUILT_IN, BUILT_IN_PROBLEMS)) {
      assert.ok(run.stdout.includes(`${file}:${line}`), `missing ${line} in:\n${run.stdout}`);
    }
  });
});

// The issue's report: this ran with the default count and passed.
const COUT = `name: cout
services:
  e: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.e.addr}", cout: 100 }
    expect: { ok: true }
`;

Deno.test("runFixtures() does not pass a step whose params hold a misspelt key", async () => {
  await withFixture(COUT, async (file) => {
    for (const isolation of [false, true]) {
      const result = await runFixtures({ paths: [file], isolation, reporters: [] });
      assert.equal(result.summary.passed, 0, `isolation ${isolation}`);
      assert.equal(result.summary.invalid, 1, `isolation ${isolation}`);
      assert.equal(result.exitCode, 2);
      const [invalid] = result.fixtures;
      assert.equal(invalid.status, "invalid");
      assert.deepEqual(invalid.problems.map((p) => [p.line, p.column, p.path]), [
        [6, 43, "steps[0].with.cout"],
      ]);
      assert.match(invalid.problems[0].message, /did you mean "count"\?/);
    }
  });
});

// Third-party plugins whose schemas drop unknown keys silently.
const THIRD_PARTY = `name: third-party typos
plugins: [${JSON.stringify(MANIFEST)}]
steps:
  - plugin: zod-loose
    with: { cuont: 2, options: { retires: 1 } }
  - plugin: valibot-loose
    with: { cuont: 2, options: { retires: 1 } }
`;

const THIRD_PARTY_PROBLEMS = [
  "5:13 steps[0].with.cuont",
  "5:34 steps[0].with.options.retires",
  "7:13 steps[1].with.cuont",
  "7:34 steps[1].with.options.retires",
];

Deno.test("prepareFixture() refuses misspelt keys of zod z.object and valibot plugins, nested too", async () => {
  await withFixture(THIRD_PARTY, async (file) => {
    const prepared = await prepareFixture(file, { trust: [MANIFEST] });
    assert.equal(prepared.status, "invalid");
    if (prepared.status !== "invalid") return;
    assert.deepEqual(
      prepared.problems.map((p) => `${p.line}:${p.column} ${p.path}`),
      THIRD_PARTY_PROBLEMS,
    );
    assert.deepEqual(prepared.problems.map((p) => /did you mean "(\w+)"/.exec(p.message)?.[1]), [
      "count",
      "retries",
      "count",
      "retries",
    ]);
  });
});

Deno.test("wiretest test refuses misspelt keys of isolated zod and valibot plugins, exit 2", async () => {
  await withFixture(THIRD_PARTY, async (file) => {
    const run = await wiretest("test", file, "--trust", MANIFEST);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    for (const problem of THIRD_PARTY_PROBLEMS) {
      const [position, path] = problem.split(" ");
      assert.ok(run.stdout.includes(`${file}:${position}": "${path}" is not a param of plugin`));
    }
  });
  // Written correctly, the same plugins run and pass: strictness refuses only what is unknown.
  const good = THIRD_PARTY.replaceAll("cuont", "count").replaceAll("retires", "retries");
  await withFixture(good, async (file) => {
    const run = await wiretest("test", file, "--trust", MANIFEST);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });
});

Deno.test("wiretest run refuses a misspelt nested param of an isolated plugin, exit 2", async () => {
  for (const plugin of ["zod-loose", "valibot-loose"]) {
    const run = await wiretest(
      "run",
      plugin,
      "--plugins",
      MANIFEST,
      "--options",
      '{"retires": 1}',
    );
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      // Named by the flag the user typed, and where inside its JSON value.
      /^error: Cannot use params for plugin "[\w-]+" \(client\): --options \(at "retires"\) is not a known param \(did you mean "retries"\?\)\n$/,
    );
    const ok = await wiretest("run", plugin, "--plugins", MANIFEST, "--count", "3", "--json");
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).metrics.count, 3);
  }
});

Deno.test("a plugin made by wiretest new plugin refuses misspelt params in both roles", async () => {
  const parent = await Deno.makeTempDir({ prefix: "wiretest_new_" });
  try {
    const dir = join(parent, "typo-ping");
    assert.equal(
      await newCommand(["plugin", "typo-ping", "--dir", dir, "--wiretest", ROOT]),
      0,
    );
    const text = `name: scaffold typos
plugins: [manifest.json]
services:
  server: { plugin: typo-ping, with: { prot: 0 } }
steps:
  - plugin: typo-ping
    with: { target: "\${services.server.addr}", cont: 3 }
`;
    await Deno.writeTextFile(join(dir, "typos.wire.yaml"), text);
    // `deno task wiretest` runs this, resolved to the checkout through `links`.
    const run = await denoRun(
      ["run", "-A", "jsr:@wiretest/wiretest@^0.1/cli", "test", "typos.wire.yaml"],
      dir,
    );
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /typos\.wire\.yaml:4:40": "services\.server\.with\.prot" is not a param of plugin "typo-ping" \(did you mean "port"\?\)/,
    );
    assert.match(
      run.stdout,
      /typos\.wire\.yaml:7:48": "steps\[0\]\.with\.cont" is not a param of plugin "typo-ping" \(did you mean "count"\?\)/,
    );
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

// Every kind of mistake at once: a misspelt field (structure), an unknown
// param, a wrong-typed param and a malformed expectation.
const MIXED = `name: mixed
services:
  e: { plugin: echo, with: { prot: 0, idleTimeoutMs: "long" } }
steps:
  - plugin: echo
    with: { target: "\${services.e.addr}", count: "many", cout: 3 }
    expct: { ok: true }
  - plugin: ecoh
    with: { target: 127.0.0.1:7 }
    expect: { metrics.rtt_p99_ms: "<< 3" }
`;

const MIXED_PROBLEMS = [
  "3:30 services.e.with.prot",
  "3:54 services.e.with.idleTimeoutMs",
  "6:50 steps[0].with.count",
  "6:58 steps[0].with.cout",
  "7:5 steps[0].expct",
  "8:13 steps[1].plugin",
  "10:15 steps[1].expect.metrics.rtt_p99_ms",
];

Deno.test("prepareFixture() reports structure, param and expectation problems in one pass", async () => {
  await withFixture(MIXED, async (file) => {
    const prepared = await prepareFixture(file);
    assert.equal(prepared.status, "invalid");
    if (prepared.status !== "invalid") return;
    assert.equal(prepared.name, "mixed");
    assert.deepEqual(
      prepared.problems.map((p) => `${p.line}:${p.column} ${p.path}`),
      MIXED_PROBLEMS,
    );
    assert.match(prepared.problems[2].message, /"steps\[0\]\.with\.count" is invalid for plugin/);
    assert.match(prepared.problems[3].message, /did you mean "count"\?/);
  });
});

Deno.test("wiretest test reports every problem of a fixture in one run, on the right lines", async () => {
  await withFixture(MIXED, async (file) => {
    const run = await wiretest("test", file);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    const located = [...run.stdout.matchAll(/typos\.wire\.yaml:(\d+:\d+)": "([^"]+)"/g)]
      .map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(located, MIXED_PROBLEMS);
  });
  const indented =
    "name: t\nsteps:\n  - plugin: echo\n    with:\n      target: x\n        count: 3\n";
  await withFixture(indented, async (file) => {
    const run = await wiretest("test", file);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stdout, /typos\.wire\.yaml:6:9": invalid YAML: this line is indented more/);
  });
});
