// The CLI shapes of the HTML report: which reporter writes where
// (`wiretest test --reporter … --output …`) and `wiretest report html`'s
// refusals, each one line with exit code 2.
import assert from "node:assert/strict";
import { main } from "../lib/cli/main.ts";

const FIXTURES = "tests/fixtures/html_report/invalid.wire.yaml";

async function run(args: string[]): Promise<{ code: number; errors: string }> {
  const original = console.error;
  let errors = "";
  console.error = (...parts: unknown[]) => errors += `${parts.join(" ")}\n`;
  try {
    return { code: await main(args), errors };
  } finally {
    console.error = original;
  }
}

Deno.test("wiretest test refuses two reporters on standard output", async () => {
  const { code, errors } = await run([
    "test",
    FIXTURES,
    "--reporter",
    "console",
    "--reporter",
    "tap",
  ]);
  assert.equal(code, 2);
  assert.equal(
    errors,
    'error: Cannot write reporters "console" and "tap" both to standard output: give all but one an --output file\n',
  );
});

Deno.test("wiretest test pairs each --output with the --reporter before it", async () => {
  const twice = await run([
    "test",
    FIXTURES,
    "--reporter",
    "html",
    "--output",
    "a",
    "--output",
    "b",
  ]);
  assert.equal(twice.code, 2);
  assert.match(twice.errors, /--reporter html already writes to "a"/);
  const early = await run([
    "test",
    FIXTURES,
    "--output",
    "a.html",
    "--reporter",
    "console",
    "--reporter",
    "html",
  ]);
  assert.equal(early.code, 2);
  assert.match(early.errors, /before --reporter with several reporters/);
  const same = await run([
    "test",
    FIXTURES,
    "--reporter",
    "html",
    "--output",
    "x",
    "--reporter",
    "jsonl",
    "--output",
    "x",
  ]);
  assert.match(same.errors, /Cannot use --output "x" twice/);
  const unknown = await run(["test", FIXTURES, "--reporter", "pdf"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.errors, /Cannot use --reporter "pdf": use one of console, html, jsonl/);
});

// The console's own output is checked in html_report_browser_test.ts (a child's stdout).
Deno.test("wiretest test --reporter html --output writes the page, its folder made", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/sub/report.html`;
    const { code } = await run([
      "test",
      FIXTURES,
      "--reporter",
      "console",
      "--reporter",
      "html",
      "--output",
      out,
    ]);
    assert.equal(code, 2);
    const page = await Deno.readTextFile(out);
    assert.match(page, /"status":"invalid"/);
    assert.match(page, /"command":\["wiretest","test",/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest report html refuses what is not a complete JSON-lines report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = `${dir}/bad.jsonl`;
    await Deno.writeTextFile(bad, '{"type":"run-start"}\nnot json\n');
    const notJson = await run(["report", "html", bad, "--output", `${dir}/r.html`]);
    assert.equal(notJson.code, 2);
    assert.equal(notJson.errors, `error: Cannot read "${bad}": line 2 is not JSON\n`);
    const cut = `${dir}/cut.jsonl`;
    await Deno.writeTextFile(cut, '{"type":"run-start","time":"x","fixtures":0,"concurrency":1}\n');
    const incomplete = await run(["report", "html", cut, "--output", `${dir}/r.html`]);
    assert.equal(incomplete.code, 2);
    assert.match(incomplete.errors, /has no "summary" event/);
    const other = `${dir}/other.jsonl`;
    await Deno.writeTextFile(other, '{"kind":"log"}\n');
    assert.match(
      (await run(["report", "html", other, "--output", "-"])).errors,
      /line 1 is not a wiretest event/,
    );
    assert.match((await run(["report", "xml", bad])).errors, /Cannot make a "xml" report/);
    assert.match((await run(["report", "html"])).errors, /name the JSON-lines files/);
    assert.match((await run(["report", "html", bad])).errors, /give --output <file>/);
    await assert.rejects(Deno.stat(`${dir}/r.html`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
