// Plugins' processes have a memory ceiling (issue 11): a built-in moves a
// large payload under the default one, and every command that runs a plugin
// (and the runner) takes another.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { deno, errorLines, MAIN, serve } from "./_support/deno_process.ts";
import { ofType, runCollecting } from "./runner/_support/run.ts";

const GIB = 2 ** 30;
const MEMORY_DIR = fileURLToPath(new URL("./fixtures/hostile/memory/", import.meta.url));
const HOG_MANIFEST = `${MEMORY_DIR}manifest.json`;

function ceilingMessage(mib: number, plugin: string): RegExp {
  return new RegExp(
    `^Cannot run plugin "${plugin}": its process went over its memory ceiling of ${mib} MiB \\((resident memory \\d+ MiB|V8 ran out of heap)\\), so it was killed$`,
  );
}

Deno.test("wiretest echo of 1 GiB, client and server isolated, completes under the default ceiling", async () => {
  // Both roles in their own process with 512 MiB each: a payload held whole
  // (or garbage left per chunk) would take the client over it.
  await using server = await serve(["echo", "--port", "0", "--idle-timeout-ms", "0"]);
  const ran = await deno([
    "run",
    "-A",
    MAIN,
    "echo",
    server.address,
    "--payload-size",
    String(GIB),
    "--chunk-size",
    "65536",
    "--timeout-ms",
    "110000",
    "--json",
  ], { timeoutMs: 120_000 });
  assert.equal(ran.code, 0, ran.stdout + ran.stderr);
  const outcome = JSON.parse(ran.stdout);
  assert.equal(outcome.ok, true);
  assert.equal(outcome.metrics.bytes_sent, GIB);
  assert.equal(outcome.metrics.bytes_received, GIB);
  assert.equal(outcome.metrics.mismatches, 0);
  assert.equal(outcome.facts.payload_bytes, GIB);
});

Deno.test("wiretest run --plugin-memory-mib sets the ceiling a plugin is killed at", async () => {
  const hog = [
    "run",
    "-A",
    MAIN,
    "run",
    "hog",
    "--plugins",
    HOG_MANIFEST,
    "--mib",
    "192",
    "--json",
  ];
  // 192 MiB fits the default 512 MiB …
  const fits = await deno(hog);
  assert.equal(fits.code, 0, fits.stderr);
  assert.equal(JSON.parse(fits.stdout).metrics.allocated_mib, 192);
  // … not a ceiling of 128 MiB.
  const killed = await deno([...hog, "--plugin-memory-mib", "128"]);
  assert.equal(killed.code, 1, killed.stderr);
  const outcome = JSON.parse(killed.stdout);
  assert.equal(outcome.error.name, "PluginMemoryError");
  assert.match(outcome.error.message, ceilingMessage(128, "hog"));
});

Deno.test("wiretest run --plugin-memory-mib=<n> raises the ceiling above the default", async () => {
  const hog = [
    "run",
    "-A",
    MAIN,
    "run",
    "hog",
    "--plugins",
    HOG_MANIFEST,
    "--mib",
    "640",
    "--json",
  ];
  const killed = await deno(hog);
  assert.equal(killed.code, 1, killed.stderr);
  assert.match(JSON.parse(killed.stdout).error.message, ceilingMessage(512, "hog"));
  const fits = await deno([...hog, "--plugin-memory-mib=1024"]);
  assert.equal(fits.code, 0, fits.stderr);
  assert.equal(JSON.parse(fits.stdout).metrics.allocated_mib, 640);
});

Deno.test("wiretest serve --plugin-memory-mib gives the server's process that ceiling", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  // The ceiling is V8's --max-old-space-size and the /proc watchdog's limit;
  // the plugin's process command line shows the first.
  await using _server = await serve([
    "echo",
    "--port",
    "0",
    "--plugin-memory-mib",
    "321",
  ]);
  const ours = descendants(Deno.pid).map(commandLine);
  assert.ok(
    ours.some((args) => args.includes("--v8-flags=--max-old-space-size=321")),
    JSON.stringify(ours),
  );
});

Deno.test("wiretest test --plugin-memory-mib kills a fixture's plugin at that ceiling", async () => {
  const ran = await deno([
    "run",
    "-A",
    MAIN,
    "test",
    `${MEMORY_DIR}hog.wire.yaml`,
    "--reporter",
    "jsonl",
    "--plugin-memory-mib",
    "160",
  ]);
  assert.equal(ran.code, 1, ran.stderr);
  const events = ran.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  const step = events.find((e) => e.type === "step-result");
  assert.equal(step.outcome.error.name, "PluginMemoryError");
  assert.match(step.outcome.error.message, ceilingMessage(160, "hog"));
});

Deno.test("runFixtures({ pluginMemoryMiB }) kills a plugin at that ceiling", async () => {
  const run = await runCollecting({
    paths: [`${MEMORY_DIR}hog.wire.yaml`],
    isolation: true,
    pluginMemoryMiB: 160,
  });
  const [step] = ofType(run.events, "step-result");
  assert.equal(step.outcome.error?.name, "PluginMemoryError");
  assert.match(step.outcome.error!.message, ceilingMessage(160, "hog"));
});

for (const command of ["run hog", "serve echo", "test", "echo 127.0.0.1:9"]) {
  Deno.test(`wiretest ${command} refuses --plugin-memory-mib below 64 or not a number, exit 2`, async () => {
    for (const value of ["63", "1.5", "lots"]) {
      const args = [...command.split(" "), "--plugin-memory-mib", value];
      if (command === "run hog") args.push("--plugins", HOG_MANIFEST);
      if (command === "test") args.push(`${MEMORY_DIR}hog.wire.yaml`);
      const ran = await deno(["run", "-A", MAIN, ...args]);
      assert.equal(ran.code, 2, ran.stderr);
      assert.deepEqual(errorLines(ran.stderr), [
        `error: Cannot use --plugin-memory-mib "${value}": it must be a whole number of MiB from 64`,
      ]);
    }
  });
}

/** Every process below `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = (p: number): number[] => {
    const out: number[] = [];
    for (const task of Deno.readDirSync(`/proc/${p}/task`)) {
      try {
        const text = Deno.readTextFileSync(`/proc/${p}/task/${task.name}/children`).trim();
        if (text !== "") out.push(...text.split(" ").map(Number));
      } catch {
        // The task ended meanwhile.
      }
    }
    return out;
  };
  const all: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && all.length < 1000) {
    for (const child of children(queue.shift()!)) {
      all.push(child);
      queue.push(child);
    }
  }
  return all;
}

function commandLine(pid: number): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  } catch {
    return [];
  }
}

Deno.test("IsolationPool({ heapMiB }) caps a plugin process's V8 heap below its memory ceiling", async () => {
  const { loadManifest } = await import("../lib/plugin/manifest.ts");
  const { IsolationPool, runIsolatedClient } = await import("../lib/plugin/isolation.ts");
  const manifest = await loadManifest(HOG_MANIFEST);
  const hog = manifest.plugins.find((p) => p.name === "heap-hog")!;
  // 48 MiB of live objects fit the default heap (the 512 MiB ceiling) …
  {
    await using pool = new IsolationPool({ maxIdlePerPlugin: 0 });
    const outcome = await runIsolatedClient(hog, { mib: 48 }, { pool, timeout: 60_000 });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
  }
  // … not a 32 MiB heap, while resident memory may still go to 512 MiB.
  {
    await using pool = new IsolationPool({ maxIdlePerPlugin: 0, heapMiB: 32 });
    const outcome = await runIsolatedClient(hog, { mib: 48 }, { pool, timeout: 60_000 });
    assert.equal(outcome.error?.name, "PluginMemoryError", JSON.stringify(outcome.error));
    assert.match(
      outcome.error!.message,
      /^Cannot run plugin "heap-hog": its process went over its memory ceiling of 32 MiB \(V8 ran out of heap\), so it was killed$/,
    );
  }
});

Deno.test("IsolationPool refuses a heapMiB below 16 or above memoryMiB", async () => {
  const { IsolationPool } = await import("../lib/plugin/isolation.ts");
  for (const [heapMiB, memoryMiB] of [[8, 512], [600, 512], [1.5, 512]]) {
    assert.throws(() => new IsolationPool({ heapMiB, memoryMiB }), {
      name: "RangeError",
      message:
        `Cannot create isolation pool: heapMiB "${heapMiB}" is not an integer from 16 to memoryMiB (${memoryMiB})`,
    });
  }
});

Deno.test("wiretest serve ends, exit 1, saying why, when its isolated plugin is killed at its ceiling", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "serve",
      "hog-server",
      "--plugins",
      HOG_MANIFEST,
      "--plugin-memory-mib",
      "128",
      "--json",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    const listening = JSON.parse(text.split("\n")[0]);
    assert.equal(listening.event, "listening");
    const [hostname, port] = listening.address.split(":");
    // The first connection makes it allocate past 128 MiB.
    (await Deno.connect({ hostname, port: Number(port) })).close();
    while (true) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    // Before, the command went on saying it listened, its service gone.
    assert.equal(status.code, 1, text + stderr);
    const events = text.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(events.map((e) => e.event), ["listening", "ended"]);
    assert.match(events[1].error, ceilingMessage(128, "hog-server"));
    assert.deepEqual(
      errorLines(stderr).map((line) => line.replace(/^error: /, "")).filter((line) =>
        ceilingMessage(128, "hog-server").test(line)
      ).length,
      1,
      stderr,
    );
  } finally {
    clearTimeout(killer);
  }
});

Deno.test("a plugin's process gets its young generation's size as a second V8 flag", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  // See youngGenerationArgs() in lib/plugin/_isolation_host.ts.
  const { IsolationPool } = await import("../lib/plugin/isolation.ts");
  const { builtinRegistry } = await import("../plugins/manifest.ts");
  await using pool = new IsolationPool({ maxIdlePerPlugin: 1, memoryMiB: 256 });
  await pool.warm(builtinRegistry().get("echo"));
  const ours = descendants(Deno.pid).map(commandLine);
  const plugin = ours.find((args) => args.includes("--v8-flags=--max-old-space-size=256"));
  assert.ok(plugin, JSON.stringify(ours));
  assert.ok(plugin.includes("--v8-flags=--min-semi-space-size=8"), JSON.stringify(plugin));
});
