// A fixture from a pull request tries to read a CI secret by listing it in
// its own `env:`. Only variables the command line allows (`--allow-env`) are
// read from the environment; anything else takes the fixture's default, or
// is an error located at the reference. Run through the CLI, isolated.
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandOutput } from "../_support/command.ts";

const CLI = new URL("../../lib/cli/main.ts", import.meta.url).pathname;
const KIT_MANIFEST = new URL("../runner/_support/manifest.json", import.meta.url).pathname;
const SECRET = "s3cr3t-value-from-ci";

const reads = (env: string, variable: string) =>
  `name: reads SECRET
plugins: [${JSON.stringify(KIT_MANIFEST)}]
env: ${env}
steps:
  - plugin: test-kit
    with: { echo: "\${env.${variable}}" }
`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  events: Record<string, unknown>[];
}

async function run(env: string, flags: string[] = [], variable = "SECRET"): Promise<Result> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-hostile-env-" });
  try {
    await Deno.writeTextFile(join(dir, "pr.wire.yaml"), reads(env, variable));
    await Deno.writeTextFile(
      join(dir, "ok.wire.yaml"),
      `name: passes\nservices:\n  echo: { plugin: echo }\nsteps:\n  - plugin: echo\n` +
        `    with: { target: "\${services.echo.addr}" }\n`,
    );
    const out = await commandOutput(Deno.execPath(), {
      args: [
        ...["run", "-A", CLI, "test", dir],
        ...["--trust", KIT_MANIFEST, "--reporter", "jsonl", ...flags],
      ],
      env: { NO_COLOR: "1", SECRET },
    });
    const text = new TextDecoder();
    const stdout = text.decode(out.stdout);
    return {
      code: out.code,
      stdout,
      stderr: text.decode(out.stderr),
      events: stdout.trimEnd().split("\n").map((line) => JSON.parse(line)),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface End {
  type: string;
  fixture: { name: string };
  status: string;
  problems: { path: string; line: number; column: number; message: string }[];
}

function endOf(r: Result, name: string): End {
  const end = r.events.find((e) =>
    e.type === "fixture-end" && (e as unknown as End).fixture.name === name
  );
  assert.ok(end, r.stdout);
  return end as unknown as End;
}

function echoed(r: Result): unknown {
  const step = r.events.find((e) =>
    e.type === "step-result" && (e as unknown as End).fixture.name === "reads SECRET"
  ) as { outcome?: { facts?: { echo?: unknown } } } | undefined;
  return step?.outcome?.facts?.echo;
}

Deno.test("a fixture listing SECRET in env: without --allow-env gets nothing and a located error", async () => {
  const r = await run("[SECRET]");
  assert.equal(r.code, 2, r.stderr);
  assert.ok(!r.stdout.includes(SECRET), "the secret reached the report");
  const end = endOf(r, "reads SECRET");
  assert.equal(end.status, "invalid");
  assert.deepEqual(
    end.problems.map((p) => [p.path, p.line]),
    [["steps[0].with.echo", 6]],
  );
  assert.match(
    end.problems[0].message,
    /environment variable "SECRET" is not read: the run does not allow it \(--allow-env SECRET\) and the fixture's "env" gives it no default/,
  );
  assert.equal(endOf(r, "passes").status, "passed");
});

Deno.test("a fixture's env: default is used when the run does not allow the variable", async () => {
  const r = await run("{ SECRET: placeholder }");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(!r.stdout.includes(SECRET), "the secret reached the report");
  assert.equal(echoed(r), "placeholder");
});

Deno.test("--allow-env reads the variable from the environment, over the fixture's default", async () => {
  const listed = await run("[SECRET]", ["--allow-env", "SECRET"]);
  assert.equal(listed.code, 0, listed.stdout + listed.stderr);
  assert.equal(echoed(listed), SECRET);
  const defaulted = await run("{ SECRET: placeholder }", ["--allow-env", "SECRET"]);
  assert.equal(defaulted.code, 0, defaulted.stdout + defaulted.stderr);
  assert.equal(echoed(defaulted), SECRET);
});

Deno.test("an allowed variable that is unset takes the default, else is a located error", async () => {
  const allow = ["--allow-env", "WIRETEST_TEST_UNSET"];
  const defaulted = await run("{ WIRETEST_TEST_UNSET: fallback }", allow, "WIRETEST_TEST_UNSET");
  assert.equal(defaulted.code, 0, defaulted.stdout + defaulted.stderr);
  assert.equal(echoed(defaulted), "fallback");
  const none = await run("{ WIRETEST_TEST_UNSET: null }", allow, "WIRETEST_TEST_UNSET");
  assert.equal(none.code, 2, none.stderr);
  assert.match(
    endOf(none, "reads SECRET").problems[0].message,
    /environment variable "WIRETEST_TEST_UNSET" is not set, and the fixture's "env" gives it no default/,
  );
});
