// deno-lint-ignore-file no-control-regex -- these tests are about control characters
import assert from "node:assert/strict";
import { jsonLinesReporter } from "./json_lines_reporter.ts";
import { feed, HTTP, runEvents, sink } from "./_test_utils.ts";

Deno.test("jsonLinesReporter() writes every event as one line that JSON.parse reads back", async () => {
  const out = sink();
  const events = runEvents();
  await feed(jsonLinesReporter(out.write), events);

  const lines = out.text().split("\n");
  assert.equal(lines.pop(), "", "the output ends with a line break");
  assert.equal(lines.length, events.length);
  // Compare with the JSON form of each event: JSON drops `undefined` fields.
  assert.deepEqual(lines.map((line) => JSON.parse(line)), JSON.parse(JSON.stringify(events)));
});

Deno.test("jsonLinesReporter() hands each line to write whole, as its event comes", async () => {
  const out = sink();
  const reporter = jsonLinesReporter(out.write);
  const events = runEvents();
  for (const [i, event] of events.entries()) {
    await reporter.onEvent(event);
    assert.equal(out.calls.length, i + 1, `one write for event ${i}`);
    const line = out.calls[i];
    assert.ok(line.endsWith("\n"));
    assert.equal(line.indexOf("\n"), line.length - 1, "no line break inside the line");
    assert.equal(JSON.parse(line).type, event.type);
  }
});

Deno.test("jsonLinesReporter() keeps control characters, non-ASCII and Unicode line breaks inside one line", async () => {
  const out = sink();
  const name = "a\nb\r\u0000\u001b[2J\u0085\u2028\u2029 — ✓ 𝄞 <&>\"'";
  await jsonLinesReporter(out.write).onEvent({ type: "fixture-start", fixture: { ...HTTP, name } });

  const text = out.text();
  // Python's str.splitlines() splits on all of these; none may appear raw.
  assert.doesNotMatch(text.slice(0, -1), /[\n\r\u000b\u000c\u001c-\u001e\u0085\u2028\u2029]/);
  assert.equal(JSON.parse(text).fixture.name, name);
});
