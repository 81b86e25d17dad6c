// Every example script runs, as a user would run it, and reports success.
import assert from "node:assert/strict";
import { commandOutput } from "./_support/command.ts";

const root = new URL("../", import.meta.url);

async function runExample(name: string, ...args: string[]) {
  const out = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", `examples/${name}`, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

for (const name of ["echo.ts", "http_probe.ts", "udp_ping.ts", "file_send.ts"]) {
  Deno.test(`examples/${name} runs and its outcome is ok`, async () => {
    const r = await runExample(name);
    assert.equal(r.code, 0, r.stderr);
    const json = r.stdout.slice(0, r.stdout.lastIndexOf("}\n") + 1);
    const outcome = JSON.parse(json.slice(0, json.indexOf("\n}") + 2));
    assert.equal(outcome.ok, true);
    assert.ok(Object.keys(outcome.metrics).length > 3);
  });
}

Deno.test("examples/demo.ts runs every example fixture, each passes, and writes reports/demo.html", async () => {
  const page = new URL("reports/demo.html", root);
  await Deno.remove(page).catch(() => {});
  const r = await runExample("demo.ts");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const fixtures = [...Deno.readDirSync(new URL("examples/fixtures", root))]
    .filter((entry) => entry.name.endsWith(".wire.yaml"));
  assert.ok(fixtures.length >= 6);
  for (const { name } of fixtures) {
    assert.match(
      r.stdout,
      new RegExp(`^ok .*\\(examples/fixtures/${name.replaceAll(".", "\\.")}\\) [\\d.]+ m?s$`, "m"),
    );
  }
  assert.match(r.stdout, new RegExp(`^${fixtures.length} passed, 0 failed`, "m"));
  const html = await Deno.readTextFile(page);
  assert.match(html, /^<!doctype html>/);
  assert.equal(html.match(/"status":"passed","durationMs"/g)?.length, fixtures.length);
});
