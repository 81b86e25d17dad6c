// `wiretest report html` names a missing or unreadable JSON-lines file the
// way every other command names a file it is given (README: "Cannot read
// file "x": it does not exist (relative to "/home/me")"), not with Deno's
// "No such file or directory (os error 2): readfile …".
import assert from "node:assert/strict";
import { main } from "../lib/cli/main.ts";

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

Deno.test("wiretest report html names a missing or directory input file as every command does, exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_report_missing_" });
  try {
    const missing = await run(["report", "html", "no-such-run.jsonl", "--output", `${dir}/r.html`]);
    assert.equal(missing.code, 2);
    assert.equal(
      missing.errors,
      `error: Cannot read file "no-such-run.jsonl": it does not exist (relative to "${Deno.cwd()}")\n`,
    );
    const directory = await run(["report", "html", dir, "--output", `${dir}/r.html`]);
    assert.equal(directory.code, 2);
    assert.equal(directory.errors, `error: Cannot read file "${dir}": it is a directory\n`);
    await assert.rejects(Deno.stat(`${dir}/r.html`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
