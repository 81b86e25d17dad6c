// Issue 11 follow-up: a plugin busy in a loop never reads its socket, so it
// cannot see its runner go. When the runner is killed outright (SIGKILL, no
// unload handler runs), the plugin's process must still end with it — a
// `wiretest run` (here `test`) step and a `wiretest serve` service alike.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { MAIN } from "../_support/deno_process.ts";

const DIR = fileURLToPath(new URL("../fixtures/hostile/orphan/", import.meta.url));
// How long the plugin's process may outlive its runner (its loop lasts 60 s).
const GONE_WITHIN_MS = 15_000;

/** A process's state letter (R, S, Z…), or `undefined` once it is gone. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** The plugin processes `parent` started: children whose main module is in a wiretest-plugin- folder. */
function pluginChildren(parent: number): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== parent) continue;
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (cmdline.some((arg) => /\/wiretest-plugin-[^/]+\/main\.js$/.test(arg))) {
        found.push(Number(entry.name));
      }
    } catch {
      // Gone while read.
    }
  }
  return found;
}

/** Reads `stream` until `pattern` shows (rejects at its end); returns what was read. */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
): Promise<string> {
  let text = "";
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Cannot find ${pattern} in the CLI's output: ${text}`);
    text += value;
  }
  return text;
}

/**
 * Starts the CLI with `args`, lets `busy` bring its plugin into the loop,
 * SIGKILLs the CLI and returns whether the plugin's process ended in time.
 */
async function killRunner(
  args: string[],
  busy: (stdout: ReadableStreamDefaultReader<string>) => Promise<void>,
): Promise<{ plugin: number; stateBefore: string | undefined; stateAfter: string | undefined }> {
  const cli = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const bound = setTimeout(() => cli.kill("SIGKILL"), 60_000);
  const stdout = cli.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = cli.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let plugins: number[] = [];
  try {
    await busy(stdout);
    // The plugin says so on stdout just before its loop; the CLI logs it (--debug).
    await readUntil(stderr, /plugin "spins" stdout: spinning/);
    plugins = pluginChildren(cli.pid);
    assert.equal(plugins.length, 1, `plugin processes of the CLI: ${plugins}`);
    // Started through nothing it could see: its command line is deno's own.
    const cmdline = Deno.readTextFileSync(`/proc/${plugins[0]}/cmdline`).split("\0");
    assert.equal(cmdline[0], Deno.execPath());
    assert.equal(cmdline[1], "run");
    const stateBefore = stateOf(plugins[0]);
    cli.kill("SIGKILL");
    await cli.status;
    const until = Date.now() + GONE_WITHIN_MS;
    let stateAfter = stateOf(plugins[0]);
    // A zombie has ended (PID 1 of a container may never reap it).
    while (stateAfter !== undefined && stateAfter !== "Z" && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      stateAfter = stateOf(plugins[0]);
    }
    return { plugin: plugins[0], stateBefore, stateAfter };
  } finally {
    clearTimeout(bound);
    try {
      cli.kill("SIGKILL");
    } catch {
      // Ended.
    }
    await cli.status;
    await Promise.allSettled([stdout.cancel(), stderr.cancel()]);
    // Left behind by a regression: not left spinning for the rest of its loop.
    for (const pid of plugins) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone, as it should be.
      }
    }
  }
}

Deno.test({
  name: "a step's plugin busy in a loop ends when `wiretest test` is killed with SIGKILL",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { stateBefore, stateAfter } = await killRunner(
      ["test", `${DIR}spins.wire.yaml`, "--reporter", "jsonl", "--debug"],
      () => Promise.resolve(),
    );
    // Alive and busy (running, or runnable but preempted) when the runner died.
    assert.ok(stateBefore === "R" || stateBefore === "S", `state before: ${stateBefore}`);
    assert.ok(stateAfter === undefined || stateAfter === "Z", `state after: ${stateAfter}`);
  },
});

Deno.test({
  name: "a service busy in a loop ends when `wiretest serve` is killed with SIGKILL",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { stateBefore, stateAfter } = await killRunner(
      ["serve", "spins", "--plugins", `${DIR}manifest.json`, "--json", "--debug"],
      async (stdout) => {
        const text = await readUntil(stdout, /\n/);
        const address = String(JSON.parse(text.split("\n")[0]).address);
        const conn = await Deno.connect({
          hostname: address.replace(/:\d+$/, ""),
          port: Number(/\d+$/.exec(address)),
        });
        conn.close();
      },
    );
    assert.ok(stateBefore === "R" || stateBefore === "S", `state before: ${stateBefore}`);
    assert.ok(stateAfter === undefined || stateAfter === "Z", `state after: ${stateAfter}`);
  },
});
