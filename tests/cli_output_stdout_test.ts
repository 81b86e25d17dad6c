// `--output -` is standard output wherever --output is taken (test, schema,
// reference, report html), as for curl and tar: no file named "-" appears in
// the working folder. Where standard output cannot take it (`reference
// --check`, `load --hdr-log`), "-" is refused in one line, exit 2.
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandOutput } from "./_support/command.ts";

const MAIN = new URL("../lib/cli/main.ts", import.meta.url).pathname;

const PASS = `name: passes
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}" }
`;

async function wiretest(cwd: string, ...args: string[]) {
  const out = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    env: { NO_COLOR: "1" },
  });
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("--output - writes to standard output, never a file named -", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-output-dash-" });
  try {
    await Deno.writeTextFile(join(dir, "pass.wire.yaml"), PASS);

    await t.step("test --reporter jsonl --output -", async () => {
      const r = await wiretest(
        dir,
        "test",
        "pass.wire.yaml",
        "--reporter",
        "jsonl",
        "--output",
        "-",
      );
      assert.equal(r.code, 0, r.stderr);
      const events = r.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
      assert.equal(events[0].type, "run-start");
      assert.equal(events.at(-1).type, "summary");
      assert.equal(await exists(join(dir, "-")), false, 'a file named "-" was written');
    });

    await t.step(
      "test: a second reporter on standard output next to --output - is refused",
      async () => {
        const r = await wiretest(
          dir,
          "test",
          "pass.wire.yaml",
          "--reporter",
          "console",
          "--reporter",
          "tap",
          "--output",
          "-",
        );
        assert.equal(r.code, 2);
        assert.match(
          r.stderr,
          /Cannot write reporters "console" and "tap" both to standard output/,
        );
        assert.equal(await exists(join(dir, "-")), false);
      },
    );

    await t.step(
      "test: the jsonl saved through --output - makes a page with report html --output -",
      async () => {
        const run = await wiretest(
          dir,
          "test",
          "pass.wire.yaml",
          "--reporter",
          "jsonl",
          "--output",
          "-",
        );
        await Deno.writeTextFile(join(dir, "run.jsonl"), run.stdout);
        const r = await wiretest(dir, "report", "html", "run.jsonl", "--output", "-");
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^<!doctype html>/i);
        assert.equal(await exists(join(dir, "-")), false);
      },
    );

    await t.step("schema --output -", async () => {
      const r = await wiretest(dir, "schema", "--output", "-");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).$schema, "https://json-schema.org/draft/2020-12/schema");
      assert.equal(await exists(join(dir, "-")), false);
    });

    await t.step("reference --output -", async () => {
      const r = await wiretest(dir, "reference", "--output", "-");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^# Metrics and facts/m);
      assert.equal(await exists(join(dir, "-")), false);
    });

    await t.step("reference --check --output - is refused", async () => {
      const r = await wiretest(dir, "reference", "--check", "--output", "-");
      assert.equal(r.code, 2);
      assert.equal(
        r.stderr.trim(),
        'error: Cannot check the reference: --check needs --output <file>, not "-" (standard output)',
      );
    });

    await t.step("load --hdr-log - is refused", async () => {
      const r = await wiretest(
        dir,
        "load",
        "echo",
        "127.0.0.1:9",
        "--vus",
        "1",
        "--iterations",
        "1",
        "--no-isolation",
        "--hdr-log",
        "-",
      );
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /Cannot write --hdr-log "-": standard output carries the summary/);
      assert.equal(await exists(join(dir, "-")), false);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
