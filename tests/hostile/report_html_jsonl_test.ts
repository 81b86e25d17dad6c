// `wiretest report html` reads JSON-lines files that may come from anywhere
// (CI artifacts, other machines): a field of the wrong shape, or a file too
// large to become one page, is one located line and exit 2 — not a crash of
// the page builder.
import assert from "node:assert/strict";
import { deno, MAIN } from "../_support/deno_process.ts";

const SUMMARY =
  '{"type":"summary","passed":0,"failed":0,"errors":0,"invalid":0,"skipped":0,"total":0,"durationMs":1}';

async function reportHtml(dir: string, name: string, text: string) {
  const file = `${dir}/${name}`;
  await Deno.writeTextFile(file, text);
  return await deno(["run", "-A", MAIN, "report", "html", file, "--output", `${dir}/out.html`], {
    timeoutMs: 60_000,
  });
}

Deno.test("wiretest report html: events of the wrong shape are refused, located, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, string, RegExp][] = [
      ["step.jsonl", '{"type":"step-result"}', /line 1: "fixture" must be an object$/],
      [
        "status.jsonl",
        '{"type":"fixture-end","fixture":{"file":"x","name":"y"},"status":"__proto__","durationMs":1,"problems":[]}',
        /line 1: "status" must be passed, failed, error, invalid or skipped$/,
      ],
      [
        "summary.jsonl",
        '{"type":"summary","passed":"9</script>","failed":{},"errors":0,"invalid":0,"skipped":0,"total":0,"durationMs":1}',
        /line 1: "passed" must be a whole number, not negative$/,
      ],
      [
        "command.jsonl",
        '{"type":"run-start","time":"t","fixtures":1,"concurrency":1,"command":[1]}',
        /line 1: "command\[0\]" must be a string$/,
      ],
      [
        "series.jsonl",
        '{"type":"step-result","fixture":{"file":"x","name":"y"},"step":{"index":0,"name":"s","plugin":"echo","location":{"file":"x","line":1,"column":1,"path":"steps[0]"}},"status":"passed","attempt":1,"willRetry":false,"durationMs":1,"outcome":{"ok":true,"metrics":{},"facts":{}},"expectations":[],"load":{"model":"closed","interrupted":false,"elapsedMs":1,"series":[{"second":"<b>"}]}}',
        /line 1: "load\.series\[0\]\.second" must be a number or null$/,
      ],
    ];
    for (const [name, line, message] of cases) {
      const r = await reportHtml(dir, name, `${line}\n${SUMMARY}\n`);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], new RegExp(`^error: Cannot read ".*/${name}": `));
      assert.match(lines[0], message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest report html: JSON lines past 128 MiB in all are refused by size, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Sparse: 600 MiB that take no disk; read, it passed V8's string limit.
    const file = `${dir}/huge.jsonl`;
    using handle = await Deno.open(file, { write: true, create: true });
    await handle.truncate(600 * 1024 * 1024);
    const r = await deno(["run", "-A", MAIN, "report", "html", file, "--output", `${dir}/o.html`], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^error: Cannot read ".*huge\.jsonl": the JSON-lines files of one page may hold 134217728 bytes together/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
