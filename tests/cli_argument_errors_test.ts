// The argument errors named in issue 13, as users meet them: the wiretest
// CLI in a process of its own (plugins isolated, the default), one line on
// stderr naming what is wrong and where, exit 2.
import assert from "node:assert/strict";
import { deno, errorLines, MAIN } from "./_support/deno_process.ts";

async function usageError(args: string[], expected: RegExp): Promise<void> {
  const ran = await deno(["run", "-A", MAIN, ...args], { timeoutMs: 60_000 });
  const lines = errorLines(ran.stderr);
  assert.equal(ran.code, 2, `${args.join(" ").slice(0, 80)}: exit ${ran.code}\n${ran.stderr}`);
  assert.equal(lines.length, 1, ran.stderr);
  assert.match(lines[0], expected);
  assert.ok(lines[0].length < 300, lines[0]);
}

Deno.test("wiretest echo 127.0.0.1:0: port 0 cannot be connected to, exit 2", async () => {
  await usageError(
    ["echo", "127.0.0.1:0"],
    /^error: .*--target|^error: .*"127\.0\.0\.1:0": port 0 cannot be connected to \(give 1-65535\)/,
  );
  await usageError(["ping", "[::1]:0"], /port 0 cannot be connected to/);
  await usageError(["probe", "http://127.0.0.1:0/"], /port 0, which cannot be connected to/);
});

Deno.test("wiretest echo unix:<long path>: says the path's length and the 107-byte limit, exit 2", async () => {
  const path = `/tmp/${"a".repeat(120)}`;
  await usageError(
    ["echo", `unix:${path}`],
    /Cannot use Unix socket path "\/tmp\/a+…" \(125 characters\): it is 125 bytes, longer than the 107 bytes a socket path may have on Linux/,
  );
  await usageError(
    ["serve", "echo", "--transport", "unix", "--path", path],
    /--path.*it is 125 bytes, longer than the 107 bytes/,
  );
});

Deno.test("wiretest probe --body-file, send <dir>, --ca-file /dev/zero: the file and why, exit 2", async () => {
  await usageError(
    ["probe", "http://127.0.0.1:9/", "--method", "POST", "--body-file", "/nonexistent"],
    /^error: Cannot read file "\/nonexistent": it does not exist$/,
  );
  await usageError(
    ["send", "/tmp", "127.0.0.1:9"],
    /^error: Cannot read file "\/tmp": it is a directory$/,
  );
  await usageError(
    ["probe", "https://127.0.0.1:9/", "--ca-file", "/dev/zero"],
    /^error: Cannot read file "\/dev\/zero": it is a character device, not a regular file$/,
  );
  await usageError(
    ["send", `/tmp/${"b".repeat(300)}`, "127.0.0.1:9"],
    /^error: Cannot read file "\/tmp\/b+…" \(305 characters\): the name is too long/,
  );
});

Deno.test("wiretest new plugin <300 characters> and --dir <300 characters>: one line, exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-new-long-" });
  try {
    await usageError(
      ["new", "plugin", "p".repeat(300), "--dir", `${dir}/x`],
      /the name is longer than 64 characters/,
    );
    await usageError(
      ["new", "plugin", "fine", "--dir", `${dir}/${"d".repeat(300)}`],
      /^error: Cannot create plugin "fine" in ".*…" \(\d+ characters\): the name is too long/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
