// Every file and address argument of every command, given hostile values
// (empty, NUL, very long, a directory, a FIFO, /dev/zero, a symlink loop, a
// file used as a folder, missing; port 0, 65536 and -1, IPv6 without
// brackets, host names that cannot be, a Unix socket path over 107 bytes):
// each ends with one "error:" line on stderr naming what and where, exit 2
// (1 only when the network said no: a refused port, a name no lookup
// found), no stack trace, within 15 s. main() runs in one child process
// (tests/hostile/_support/cli_arguments_child.ts) in a temporary folder;
// nothing leaves loopback.
import assert from "node:assert/strict";
import { record } from "./_support/process.ts";

const CHILD = new URL("./_support/cli_arguments_child.ts", import.meta.url).pathname;

Deno.test("wiretest CLI: hostile file and address arguments end in one error line, exit 2 (1 for the network's)", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "wiretest-cli-arguments-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", CHILD],
      cwd,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 400_000);
    const { code, stdout, stderr } = await child.output();
    clearTimeout(timer);
    const text = new TextDecoder().decode(stdout).trim();
    assert.equal(code, 0, new TextDecoder().decode(stderr).slice(-2000));
    const summary = JSON.parse(text.split("\n").at(-1)!);
    record("CLI: hostile arguments", summary);
    console.log(
      `cli arguments: ${summary.cases} cases, exit codes ${JSON.stringify(summary.byCode)}, ` +
        `slowest ${summary.slowest[0]?.ms} ms`,
    );
    assert.ok(summary.cases >= 350, `only ${summary.cases} cases ran`);
    assert.deepEqual(summary.failures, []);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
