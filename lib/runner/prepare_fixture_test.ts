import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareFixture } from "./prepare_fixture.ts";

async function prepareText(name: string, text: string) {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, name);
    await Deno.writeTextFile(file, text);
    return { file, prepared: await prepareFixture(file) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("prepareFixture() names a fixture that fails to load by its name", async () => {
  const { prepared } = await prepareText(
    "broken.wire.yaml",
    "name: broken one\nsteps:\n  - plugin: echo\n    expct: {}\n    x: [\n",
  );
  assert.equal(prepared.status, "invalid");
  assert.equal(prepared.name, "broken one");
});

Deno.test("prepareFixture() names a fixture too deep to read by its file", async () => {
  const { file, prepared } = await prepareText(
    "deep.wire.yaml",
    `name: deep\nx: ${"[".repeat(100_000)}\nsteps: [{ plugin: echo }]\n`,
  );
  assert.equal(prepared.status, "invalid");
  assert.equal(prepared.name, "deep.wire.yaml");
  if (prepared.status === "invalid") {
    assert.deepEqual(prepared.problems.map((p) => [p.file, p.line, p.column]), [[file, 2, 131]]);
  }
});

Deno.test("prepareFixture() locates a repeated key among thousands in a broken fixture", async () => {
  const { prepared } = await prepareText(
    "many.wire.yaml",
    `name: many\nsteps:\n  - plugin: echo\n${"    timeout: 1s\n".repeat(5000)}`,
  );
  assert.equal(prepared.status, "invalid");
  assert.equal(prepared.name, "many");
  if (prepared.status === "invalid") {
    assert.equal(prepared.problems.length, 101);
    assert.equal(prepared.problems[0].line, 5);
  }
});
