// Writing a plugin: `wiretest new plugin` scaffolds a folder whose own test
// passes at once (run as a user would, with `deno test` in that folder), the
// fixture it writes loads against its manifest, the CLI serves and runs it,
// and the CLI refuses a plugin written for another contract version.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { newCommand } from "../lib/cli/new_command.ts";
import { loadFixture } from "../lib/fixture/mod.ts";
import { checkPlugins } from "../lib/fixture/check_plugins.ts";
import { builtinRegistry } from "../plugins/manifest.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const text = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function deno(args: string[], cwd: string): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    // INIT_CWD as a shell gives it (`deno task` keeps an inherited one).
    env: { NO_COLOR: "1", INIT_CWD: cwd },
    // Killed rather than waited for: a hang fails the test.
    signal: AbortSignal.timeout(180_000),
  }).output();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * Scaffolds a plugin into a fresh temporary folder. Run from this checkout,
 * the scaffold uses it for wiretest (through "links") without being told.
 */
async function scaffold(name: string, ...flags: string[]): Promise<string> {
  const parent = await Deno.makeTempDir({ prefix: "wiretest_new_" });
  const dir = join(parent, name);
  const code = await newCommand(["plugin", name, "--dir", dir, ...flags]);
  assert.equal(code, 0);
  return dir;
}

async function removeScaffold(dir: string): Promise<void> {
  await Deno.remove(join(dir, ".."), { recursive: true });
}

/** Runs `deno task test` in the generated folder, as the plugin's author would. */
async function assertOwnTestsPass(dir: string, expected: number): Promise<void> {
  const run = await deno(["task", "test"], dir);
  assert.equal(run.code, 0, `deno task test failed in ${dir}:\n${run.stdout}\n${run.stderr}`);
  const summary = /ok \| (\d+) passed \| 0 failed/.exec(run.stdout);
  assert.ok(summary, run.stdout);
  assert.equal(Number(summary[1]), expected);
}

Deno.test("wiretest new plugin creates a server+client plugin that passes its own tests", async () => {
  const dir = await scaffold("line-ping");
  try {
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      "deno.json",
      "line-ping.wire.yaml",
      "manifest.json",
      "mod.ts",
      "mod_test.ts",
    ]);
    // Four tests in mod_test.ts and the module's @example.
    await assertOwnTestsPass(dir, 5);
    for (const check of [["lint"], ["fmt", "--check"]]) {
      const run = await deno(check, dir);
      assert.equal(run.code, 0, `deno ${check.join(" ")}:\n${run.stdout}\n${run.stderr}`);
    }
  } finally {
    await removeScaffold(dir);
  }
});

Deno.test("deno task wiretest new plugin, from the checkout, writes a plugin whose task test passes offline", async () => {
  const parent = await Deno.makeTempDir({ prefix: "wiretest_new_" });
  try {
    // As a user with a checkout and no JSR: the CLI of the checkout, run elsewhere.
    const made = await deno(
      ["task", "--config", join(ROOT, "deno.json"), "wiretest", "new", "plugin", "wire-pong"],
      parent,
    );
    assert.equal(made.code, 0, made.stderr);
    const dir = join(parent, "wire-pong");
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    assert.deepEqual(config.links, [ROOT.replace(/\/$/, "")]);
    await assertOwnTestsPass(dir, 5);
    for (const check of [["lint"], ["fmt", "--check"]]) {
      const run = await deno(check, dir);
      assert.equal(run.code, 0, `deno ${check.join(" ")}:\n${run.stdout}\n${run.stderr}`);
    }
    // Its own `deno task wiretest` runs the checkout's CLI, from a subfolder too.
    await Deno.mkdir(join(dir, "sub"));
    const help = await deno(
      ["task", "wiretest", "run", "wire-pong", "--help", "--plugins", "../manifest.json"],
      join(dir, "sub"),
    );
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^wiretest run wire-pong <target> \[flags\]$/m);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("wiretest new plugin --roles client creates a client-only plugin that passes its tests", async () => {
  const dir = await scaffold("pinger", "--roles", "client");
  try {
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.deepEqual(manifest.plugins.pinger.roles, ["client"]);
    const source = await Deno.readTextFile(join(dir, "mod.ts"));
    assert.doesNotMatch(source, /startServer|listenTcp/);
    await assertOwnTestsPass(dir, 3);
  } finally {
    await removeScaffold(dir);
  }
});

Deno.test("wiretest new plugin --roles server creates a server-only plugin, without a fixture", async () => {
  const dir = await scaffold("ponger", "--roles", "server");
  try {
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.deepEqual(manifest.plugins.ponger.roles, ["server"]);
    await assert.rejects(Deno.stat(join(dir, "ponger.wire.yaml")), Deno.errors.NotFound);
    await assertOwnTestsPass(dir, 3);
  } finally {
    await removeScaffold(dir);
  }
});

Deno.test("wiretest new plugin writes a manifest entry the registry loads and a fixture that checks", async () => {
  const dir = await scaffold("line-echo");
  try {
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.deepEqual(manifest.plugins["line-echo"], {
      module: "./mod.ts",
      description: "Line-based PING/PONG over TCP: a server that answers, a client that times it.",
      roles: ["server", "client"],
      apiVersion: 1,
      permissions: { net: ["127.0.0.1"] },
    });
    const fixture = await loadFixture(join(dir, "line-echo.wire.yaml"));
    assert.deepEqual(fixture.plugins, [join(dir, "manifest.json")]);
    assert.equal(fixture.services[0].plugin, "line-echo");
    assert.equal(fixture.steps[0].with.target, "${services.server.addr}");
    const registry = await builtinRegistry().withManifests(...fixture.plugins);
    assert.deepEqual(checkPlugins(fixture, registry.list()), []);
    // What the fixture expects holds for the outcome its step would give.
    const outcome = {
      ok: true,
      metrics: { pings: 100, pongs: 100, rtt_p99_ms: 0.2 },
      facts: {},
    };
    assert.deepEqual(fixture.steps[0].expect.map((e) => e.check(outcome).pass), [
      true,
      true,
      true,
      true,
    ]);
  } finally {
    await removeScaffold(dir);
  }
});

Deno.test("a scaffolded plugin serves and runs through the wiretest CLI from its own folder", async () => {
  const dir = await scaffold("wire-ping");
  try {
    // `deno task wiretest` runs this, resolved to the checkout through `links`.
    const cli = ["run", "-A", "jsr:@wiretest/wiretest@^0.1/cli"];
    const server = new Deno.Command(Deno.execPath(), {
      args: [...cli, "serve", "wire-ping", "--plugins", "manifest.json", "--json"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const killer = setTimeout(() => server.kill("SIGKILL"), 60_000);
    let out = "";
    try {
      while (!out.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) break;
        out += value;
      }
      const listening = JSON.parse(out.split("\n")[0]);
      assert.equal(listening.event, "listening");

      const client = await deno(
        [
          ...cli,
          "run",
          "wire-ping",
          listening.address,
          "--count",
          "7",
          "--plugins",
          "manifest.json",
          "--json",
        ],
        dir,
      );
      assert.equal(client.code, 0, client.stderr);
      const outcome = JSON.parse(client.stdout);
      assert.equal(outcome.ok, true);
      assert.equal(outcome.metrics.pongs, 7);
    } finally {
      server.kill("SIGTERM");
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        out += value;
      }
      await new Response(server.stderr).text();
      await server.status;
      clearTimeout(killer);
    }
    const closed = JSON.parse(out.trim().split("\n").at(-1)!);
    assert.equal(closed.event, "closed");
    assert.equal(closed.stats.pings, 7);
  } finally {
    await removeScaffold(dir);
  }
});

Deno.test("wiretest new plugin from a checkout links it; --jsr and --wiretest choose", async () => {
  const parent = await Deno.makeTempDir({ prefix: "wiretest_new_" });
  try {
    const linked = join(parent, "linked-ping");
    assert.equal(await newCommand(["plugin", "linked-ping", "--dir", linked]), 0);
    const linkedConfig = JSON.parse(await Deno.readTextFile(join(linked, "deno.json")));
    assert.deepEqual(linkedConfig.links, [ROOT.replace(/\/$/, "")]);
    const other = join(parent, "other-ping");
    assert.equal(await newCommand(["plugin", "other-ping", "--dir", other, "--wiretest", ROOT]), 0);
    const otherConfig = JSON.parse(await Deno.readTextFile(join(other, "deno.json")));
    assert.deepEqual(otherConfig.links, [ROOT.replace(/\/$/, "")]);
    assert.equal(await newCommand(["plugin", "both-ping", "--jsr", "--wiretest", ROOT]), 2);

    const dir = join(parent, "jsr-ping");
    assert.equal(await newCommand(["plugin", "jsr-ping", "--dir", dir, "--jsr"]), 0);
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    assert.equal(config.imports["@wiretest/wiretest"], "jsr:@wiretest/wiretest@^0.1");
    assert.equal(config.links, undefined);
    assert.equal(
      config.tasks.wiretest,
      'ROOT="$(pwd)" && cd "$INIT_CWD" && deno run -A --config "$ROOT/deno.json" jsr:@wiretest/wiretest@^0.1/cli',
    );
    const source = await Deno.readTextFile(join(dir, "mod.ts"));
    assert.match(source, /from "@wiretest\/wiretest\/plugin"/);
    // Nothing reaches into wiretest by path: the folder can move anywhere.
    assert.doesNotMatch(source, /from "\.\.\//);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("wiretest new plugin refuses a folder that is not empty and leaves it alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_new_" });
  try {
    await Deno.writeTextFile(join(dir, "keep.txt"), "mine");
    const run = await deno(
      ["run", "-A", "lib/cli/new_command.ts", "plugin", "taken", "--dir", dir],
      ROOT,
    );
    // A --dir that cannot be used is a usage error, as every file argument.
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^error: Cannot create plugin "taken" in ".*": the directory is not empty\n$/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["keep.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest new plugin rejects a name that is not kebab-case with exit code 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_new_" });
  try {
    const run = await deno([
      "run",
      "-A",
      "lib/cli/new_command.ts",
      "plugin",
      "My_Plugin",
      "--dir",
      `${dir}/x`,
    ], ROOT);
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      'error: Cannot create plugin "My_Plugin": the name is not kebab-case (e.g. "redis-ping")\n',
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest new plugin rejects a built-in plugin's name and unknown roles with exit code 2", async () => {
  assert.equal(await newCommand(["plugin", "echo", "--dir", "/nonexistent/echo"]), 2);
  assert.equal(await newCommand(["plugin", "x", "--roles", "server,peer"]), 2);
  assert.equal(await newCommand(["fixture", "x"]), 2);
});

Deno.test("wiretest run refuses a plugin whose manifest needs another API version, exit code 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_api_" });
  try {
    const manifest = join(dir, "manifest.json");
    await Deno.writeTextFile(
      manifest,
      JSON.stringify({
        plugins: {
          "future-ping": {
            module: "./mod.ts",
            description: "Written for a later contract.",
            roles: ["client"],
            apiVersion: 2,
            permissions: {},
          },
        },
      }),
    );
    const run = await deno(
      ["run", "-A", "lib/cli/main.ts", "run", "future-ping", "127.0.0.1:9", "--plugins", manifest],
      ROOT,
    );
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /^error: Cannot load plugin "future-ping" from "file:\/\/.*\/mod\.ts": it needs plugin API version 2, this wiretest provides version 1\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
