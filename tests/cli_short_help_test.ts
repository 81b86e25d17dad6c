// `-h` is `--help` on every command: the client and serve commands (whose
// flags come from the plugin) took it for an unknown flag, after starting
// the plugin's process early for nothing.
import assert from "node:assert/strict";
import { deno, MAIN } from "./_support/deno_process.ts";

function wiretest(...args: string[]) {
  return deno(["run", "-A", MAIN, ...args], { timeoutMs: 60_000 });
}

const COMMANDS = [
  ["probe"],
  ["echo"],
  ["ping"],
  ["send"],
  ["run", "echo"],
  ["serve", "udp-ping"],
  ["proxy"],
  ["load", "echo"],
];

Deno.test("-h prints what --help prints, for every command that runs a plugin", async () => {
  for (const command of COMMANDS) {
    const [short, long] = await Promise.all([
      wiretest(...command, "-h"),
      wiretest(...command, "--help"),
    ]);
    const name = command.join(" ");
    assert.equal(long.code, 0, `${name} --help: ${long.stderr}`);
    assert.equal(short.code, 0, `${name} -h: ${short.stderr}`);
    assert.match(long.stdout, /^(Usage: )?wiretest /, name);
    assert.equal(short.stdout, long.stdout, name);
  }
});

Deno.test("-h after a positional and among flags is help too; after -- it is the plugin's", async () => {
  const r = await wiretest("echo", "127.0.0.1:9", "--count", "2", "-h");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^wiretest echo /);
  const after = await wiretest("echo", "127.0.0.1:9", "--", "-h");
  assert.equal(after.code, 2);
  assert.match(after.stderr, /unexpected argument "-h"/);
});
