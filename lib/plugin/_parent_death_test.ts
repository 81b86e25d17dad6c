import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parentDeathLauncher } from "./_parent_death.ts";

const MODULE = new URL("./_parent_death.ts", import.meta.url).href;
const MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url));
const PEEKS = fileURLToPath(
  new URL("../../tests/fixtures/hostile/peeks.wire.yaml", import.meta.url),
);
const LINUX = Deno.build.os === "linux";

function hasSetpriv(): boolean {
  try {
    return new Deno.Command("setpriv", { args: ["--pdeathsig", "KILL", "--help"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Runs `deno run <flags> <script>` bounded in time; its stdout. */
async function denoRun(flags: string[], script: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, ...script],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  return { code: out.code, out: text + new TextDecoder().decode(out.stderr) };
}

Deno.test({
  name:
    "parentDeathLauncher() starts programs through setpriv --pdeathsig KILL from the main thread",
  ignore: !LINUX || !hasSetpriv(),
  fn() {
    assert.deepEqual(parentDeathLauncher(), {
      command: "setpriv",
      prefix: ["--pdeathsig", "KILL", "--"],
    });
  },
});

Deno.test({
  name: "parentDeathLauncher() is undefined in a Worker, whose thread may end before its processes",
  ignore: !LINUX || !hasSetpriv(),
  async fn() {
    // In a process of its own, which asks on its main thread too (as a control).
    const inWorker = `import { parentDeathLauncher } from ${JSON.stringify(MODULE)};\n` +
      `postMessage(parentDeathLauncher() ?? "none");`;
    const script = `import { parentDeathLauncher } from ${JSON.stringify(MODULE)};\n` +
      `const worker = new Worker(${
        JSON.stringify(`data:text/javascript,${encodeURIComponent(inWorker)}`)
      }, { type: "module" });\n` +
      `worker.onmessage = (event) => {\n` +
      `  console.log(JSON.stringify([event.data, parentDeathLauncher()?.command ?? "none"]));\n` +
      `  worker.terminate();\n` +
      `};\n`;
    const run = await denoRun(["-A", "--no-config"], [
      `data:text/javascript,${encodeURIComponent(script)}`,
    ]);
    assert.equal(run.code, 0, run.out);
    assert.equal(run.out.trim(), '["none","setpriv"]');
  },
});

Deno.test({
  name: "without run access to setpriv, the launcher is undefined and plugins start directly",
  ignore: !LINUX || !hasSetpriv(),
  async fn() {
    const deno = Deno.execPath();
    const probe = await denoRun(
      [`--allow-run=${deno}`, "--allow-read"],
      [
        "--no-config",
        `data:text/javascript,${
          encodeURIComponent(
            `import { parentDeathLauncher } from ${
              JSON.stringify(MODULE)
            }; console.log(JSON.stringify(parentDeathLauncher() ?? "none"));`,
          )
        }`,
      ],
    );
    assert.equal(probe.code, 0, probe.out);
    assert.equal(probe.out.trim(), '"none"');
    // The CLI with run access to deno alone still runs an isolated plugin.
    const cli = await denoRun(
      [
        "--allow-read",
        "--allow-write",
        "--allow-net",
        "--allow-env",
        "--allow-sys",
        `--allow-run=${deno}`,
      ],
      [MAIN, "test", PEEKS, "--reporter", "jsonl"],
    );
    assert.equal(cli.code, 0, cli.out);
    const summary = JSON.parse(cli.out.trim().split("\n").filter((l) => l.startsWith("{")).at(-1)!);
    assert.equal(summary.type, "summary");
    assert.equal(summary.passed, 1);
  },
});

Deno.test({
  name: "a setpriv that does not know --pdeathsig (util-linux before 2.33) is not used",
  ignore: !LINUX,
  async fn() {
    const bin = await Deno.makeTempDir({ prefix: "wiretest-old-setpriv-" });
    try {
      // As util-linux 2.31 answers an option it does not have.
      await Deno.writeTextFile(
        `${bin}/setpriv`,
        "#!/bin/sh\necho \"setpriv: unrecognized option '$1'\" >&2\nexit 1\n",
        { mode: 0o755 },
      );
      const script = `import { parentDeathLauncher } from ${JSON.stringify(MODULE)};\n` +
        `console.log(JSON.stringify(parentDeathLauncher() ?? "none"));`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-config", `data:text/javascript,${encodeURIComponent(script)}`],
        env: { NO_COLOR: "1", PATH: `${bin}:${Deno.env.get("PATH") ?? ""}` },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(text.trim(), '"none"');
    } finally {
      await Deno.remove(bin, { recursive: true });
    }
  },
});

Deno.test({
  name: "a setpriv that knows --pdeathsig is found from its file, without starting a process",
  ignore: !LINUX,
  async fn() {
    const bin = await Deno.makeTempDir({ prefix: "wiretest-new-setpriv-" });
    try {
      // An ELF file whose text names --pdeathsig, as util-linux's binary does
      // (not a program that runs: run, it would fail and it would not be used).
      await Deno.writeFile(
        `${bin}/setpriv`,
        new Uint8Array([0x7f, 0x45, 0x4c, 0x46, ...new TextEncoder().encode("\0--pdeathsig\0")]),
        { mode: 0o755 },
      );
      const script = `import { parentDeathLauncher } from ${JSON.stringify(MODULE)};\n` +
        `console.log(JSON.stringify(parentDeathLauncher() ?? "none"));`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-config", `data:text/javascript,${encodeURIComponent(script)}`],
        env: { NO_COLOR: "1", PATH: `${bin}:${Deno.env.get("PATH") ?? ""}` },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
        command: "setpriv",
        prefix: ["--pdeathsig", "KILL", "--"],
      });
      // Read, not run (a process started and waited for was 1–20 ms before
      // every plugin's): run, this file would have failed and been refused.
    } finally {
      await Deno.remove(bin, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a setpriv script that names --pdeathsig but refuses it is run to ask, not trusted; plugins still start",
  ignore: !LINUX,
  async fn() {
    const bin = await Deno.makeTempDir({ prefix: "wiretest-shim-setpriv-" });
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response("ok"),
    );
    try {
      // A shim's text may name the option (a comment, a message) whatever it runs.
      await Deno.writeTextFile(
        `${bin}/setpriv`,
        "#!/bin/sh\n# a stand-in for setpriv: no --pdeathsig here\n" +
          "echo \"setpriv: unrecognized option '$1'\" >&2\nexit 1\n",
        { mode: 0o755 },
      );
      const env = { NO_COLOR: "1", PATH: `${bin}:${Deno.env.get("PATH") ?? ""}` };
      const script = `import { parentDeathLauncher } from ${JSON.stringify(MODULE)};\n` +
        `console.log(JSON.stringify(parentDeathLauncher() ?? "none"));`;
      const asked = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-config", `data:text/javascript,${encodeURIComponent(script)}`],
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      assert.equal(asked.code, 0, new TextDecoder().decode(asked.stderr));
      assert.equal(new TextDecoder().decode(asked.stdout).trim(), '"none"');
      // The CLI's isolated probe starts its plugin's process directly.
      const probe = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "probe", `http://127.0.0.1:${server.addr.port}/`],
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      assert.equal(probe.code, 0, new TextDecoder().decode(probe.stderr));
    } finally {
      await Deno.remove(bin, { recursive: true });
    }
  },
});

Deno.test({
  name: "without read access to setpriv's file, setpriv is asked by running it",
  ignore: !LINUX || !hasSetpriv(),
  async fn() {
    const script = `import { parentDeathLauncher } from ${JSON.stringify(MODULE)};\n` +
      `console.log(JSON.stringify(parentDeathLauncher() ?? "none"));`;
    const run = await denoRun(["--allow-run=setpriv", "--allow-env", "--no-config"], [
      `data:text/javascript,${encodeURIComponent(script)}`,
    ]);
    assert.equal(run.code, 0, run.out);
    assert.equal(JSON.parse(run.out.trim()).command, "setpriv");
  },
});
