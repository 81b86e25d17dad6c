import assert from "node:assert/strict";
import { parseXmlTree } from "./_xml_test_utils.ts";
import { Parser } from "tap-parser";
import { createReporter, REPORTER_NAMES } from "./create_reporter.ts";
import { feed, runEvents, sink } from "./_test_utils.ts";
import { commandOutput } from "../../tests/_support/command.ts";

async function output(name: (typeof REPORTER_NAMES)[number]): Promise<string> {
  const out = sink();
  await feed(createReporter(name, out.write), runEvents());
  return out.text();
}

Deno.test("createReporter() names the five reporters", () => {
  assert.deepEqual([...REPORTER_NAMES], ["console", "html", "jsonl", "junit", "tap"]);
});

Deno.test('createReporter("html", write) writes one page holding every fixture', async () => {
  const page = await output("html");
  assert.match(page, /^<!doctype html>/);
  const data = JSON.parse(
    page.match(/<script type="application\/json" id="wt--data">(.*?)<\/script>/s)![1],
  );
  assert.equal(data.fixtures.length, runEvents().filter((e) => e.type === "fixture-end").length);
  assert.deepEqual(data.fixtures.map((f: { status: string }) => f.status).slice(0, 1), ["failed"]);
});

Deno.test('createReporter("console", write) writes plain text, as to a file', async () => {
  const text = await output("console");
  assert.match(text, /^2 passed, 1 failed, 1 error, 1 invalid, 1 skipped \(3\.2 s\)$/m);
  assert.ok(!text.includes("\x1b"), "no colour or progress codes in a file");
});

Deno.test('createReporter("jsonl", write) writes one JSON event per line', async () => {
  const lines = (await output("jsonl")).trimEnd().split("\n");
  assert.deepEqual(lines.map((line) => JSON.parse(line).type), runEvents().map((e) => e.type));
});

Deno.test('createReporter("junit", write) writes a JUnit document', async () => {
  const doc = parseXmlTree(await output("junit"));
  assert.equal(doc.testsuites.tests, "6");
});

Deno.test('createReporter("tap", write) writes a TAP stream', async () => {
  const tap = await output("tap");
  // deno-lint-ignore no-explicit-any
  const result = await new Promise<any>((resolve) => new Parser(resolve).end(tap));
  assert.equal(result.count, 6);
  assert.equal(result.plan.end, 6);
});

Deno.test("createReporter() writes to standard output when no write is given", async () => {
  const script = `
    import { createReporter } from ${JSON.stringify(import.meta.resolve("./create_reporter.ts"))};
    import { feed, runEvents } from ${JSON.stringify(import.meta.resolve("./_test_utils.ts"))};
    await feed(createReporter("jsonl"), runEvents());
  `;
  const { code, stdout, stderr } = await commandOutput(Deno.execPath(), {
    args: [
      "eval",
      "--no-lock",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      script,
    ],
  });
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const lines = new TextDecoder().decode(stdout).trimEnd().split("\n");
  assert.equal(lines.length, runEvents().length);
  assert.equal(JSON.parse(lines.at(-1)!).type, "summary");
});

Deno.test("createReporter() throws a TypeError for an unknown name", () => {
  assert.throws(
    () => createReporter("xml" as "tap"),
    {
      name: "TypeError",
      message:
        'Cannot create reporter: unknown reporter "xml", expected one of "console", "html", "jsonl", "junit", "tap"',
    },
  );
});
