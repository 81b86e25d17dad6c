// Every command in README.md's shell blocks is run here, as written (or, for
// the one that needs JSR, its local equivalent is run and checked to be the
// same command): a README command no test knows fails this file. The `ts`
// blocks are run by `deno test --doc`.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { deno, ROOT, run } from "./_support/deno_process.ts";
import { freePort } from "./_support/peer.ts";
import { loadSessions } from "./_support/readme_load_sessions.ts";

const README = await Deno.readTextFile(join(ROOT, "README.md"));
const EXAMPLE_FIXTURES = join(ROOT, "examples/fixtures");

/** The commands of every ```sh block, without comments and blank lines. */
function shellCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^ *```sh\n([\s\S]*?)^ *```$/gm)].map((m) => m[1]);
  return blocks.flatMap((block) =>
    block.split("\n").map((line) => line.replace(/(^|\s)#.*$/, "").trim()).filter((l) => l)
  );
}

const COMMANDS = shellCommands(README);
const JSR_INSTALL =
  "deno install -g -A --unstable-net --unstable-worker-options -n wiretest jsr:@wiretest/wiretest/cli";
const LOCAL_INSTALL =
  "deno install -g -f -A --unstable-net --unstable-worker-options --config deno.json -n wiretest lib/cli/main.ts";
const SHARD =
  "wiretest test --shard $((JOB_COMPLETION_INDEX + 1))/$N --reporter junit --output reports/$JOB_COMPLETION_INDEX.xml";

/** `sh -c` with the Deno running this test first on PATH (and `extraPath` before it). */
function sh(
  command: string,
  options: { cwd: string; env?: Record<string, string>; extraPath?: string },
) {
  const path = [options.extraPath, dirname(Deno.execPath()), Deno.env.get("PATH")]
    .filter((p) => p).join(":");
  return run("sh", ["-c", command], {
    cwd: options.cwd,
    env: { PATH: path, ...options.env },
    timeoutMs: 240_000,
  });
}

/** The demo, whichever Deno runs it: every example fixture passes. */
async function demo(command: string): Promise<void> {
  const r = await sh(command, { cwd: ROOT });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const fixtures = [...Deno.readDirSync(EXAMPLE_FIXTURES)].filter((e) =>
    e.name.endsWith(".wire.yaml")
  );
  assert.match(r.stdout, new RegExp(`^${fixtures.length} passed, 0 failed `, "m"));
  // What README shows the demo printing.
  const shown = /`deno task demo` runs[\s\S]*?```text\n([\s\S]*?)```/.exec(README);
  assert.ok(shown, "README shows what deno task demo prints");
  assertPrinted(r.stdout, shown[1].split("\n").filter((l) => l !== ""), command);
}

/** Installs wiretest as README says, into a temporary root; returns its `bin` folder. */
async function install(root: string): Promise<string> {
  const r = await sh(LOCAL_INSTALL, { cwd: ROOT, env: { DENO_INSTALL_ROOT: root } });
  assert.equal(r.code, 0, r.stderr);
  return join(root, "bin");
}

// What each README command is checked by. The suite's own command is the one
// thing a test cannot run: .ci/run runs it, with either Deno.
const CI_RUN = await Deno.readTextFile(join(ROOT, ".ci/run"));
const ranByCi = () => {
  assert.match(CI_RUN, /DENO=\(deno\); else DENO=\(npx -y deno@2\.9\.6\)/);
  assert.match(CI_RUN, /"\$\{DENO\[@\]\}" task test /);
};
const CHECKED: Record<string, string> = {
  "npx -y deno@2.9.6 task demo": "demo",
  "deno task demo": "demo",
  "npx -y deno@2.9.6 task test": "ci",
  "deno task test": "ci",
  [JSR_INSTALL]: "install",
  [LOCAL_INSTALL]: "install",
  [SHARD]: "shard",
  // tests/exporter/readme_monitoring_test.ts runs it with README's exporter.yaml.
  "wiretest exporter --config exporter.yaml --listen 127.0.0.1:9115": "exporter",
};

Deno.test("README: every shell command is one this file runs", () => {
  assert.ok(COMMANDS.length >= 7, COMMANDS.join("\n"));
  const unchecked = COMMANDS.filter((c) => !Object.hasOwn(CHECKED, c));
  assert.deepEqual(unchecked, [], "README commands no test runs");
  ranByCi();
});

// Sessions (`$ command` in text blocks): the loopback session is run whole,
// the fixture runs one by one; the one left is run elsewhere.
const SESSION_RUN_ELSEWHERE: Record<string, string> = {
  "deno test -A tests/fixtures_test.ts":
    "Deno's own test runner over testFixtures: tests/runner/testing_test.ts runs testFixtures",
};

Deno.test("README: every session command is one this file runs", () => {
  const all = sessions(README);
  const loopback = all.find((s) => s[0].command.startsWith("wiretest serve echo")) ?? [];
  const covered = new Set([
    ...loopback.map((s) => s.command),
    // tests/readme_load_test.ts runs the Load section's sessions.
    ...loadSessions().flat().map((s) => s.command),
    "wiretest test examples/fixtures",
    'wiretest test fixtures; echo "exit $?"',
    ...Object.keys(SESSION_RUN_ELSEWHERE),
  ]);
  const commands = all.flat().map((s) => s.command);
  assert.ok(commands.length >= 13, commands.join("\n"));
  assert.deepEqual(commands.filter((c) => !covered.has(c)), [], "README sessions no test runs");
});

Deno.test("README: the demo runs with the installed Deno and with Deno from npm", async () => {
  assert.ok(
    COMMANDS.includes("deno task demo") && COMMANDS.includes("npx -y deno@2.9.6 task demo"),
  );
  await demo("deno task demo");
  await demo("npx -y deno@2.9.6 task demo");
});

Deno.test("README: the JSR install line is the local one with the package in place of the checkout", () => {
  assert.ok(COMMANDS.includes(JSR_INSTALL) && COMMANDS.includes(LOCAL_INSTALL));
  // The same flags, so the local run below vouches for the published line.
  assert.equal(
    LOCAL_INSTALL.replace(" -f", "").replace(
      "--config deno.json -n wiretest lib/cli/main.ts",
      "-n wiretest jsr:@wiretest/wiretest/cli",
    ),
    JSR_INSTALL,
  );
});

Deno.test("README: wiretest installed from the checkout runs fixtures (UDP, Workers) and shards", async () => {
  assert.ok(COMMANDS.includes(SHARD));
  const root = await Deno.makeTempDir({ prefix: "wiretest-install-" });
  try {
    const bin = await install(root);
    const version = await sh("wiretest --version", { cwd: root, extraPath: bin });
    assert.equal(version.stdout.trim(), "wiretest 0.1.0", version.stderr);

    // A project of one's own: tests/fixtures is where `wiretest test` looks.
    const project = join(root, "project");
    await Deno.mkdir(join(project, "tests"), { recursive: true });
    await copyDir(EXAMPLE_FIXTURES, join(project, "tests/fixtures"));
    const files = [...Deno.readDirSync(join(project, "tests/fixtures"))]
      .map((e) => e.name).filter((n) => n.endsWith(".wire.yaml")).sort();
    // Both shards of two, as two CI jobs would run them.
    for (const index of [0, 1]) {
      const r = await sh(SHARD, {
        cwd: project,
        extraPath: bin,
        env: { JOB_COMPLETION_INDEX: String(index), N: "2" },
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const report = await Deno.readTextFile(join(project, `reports/${index}.xml`));
      const mine = files.filter((_, k) => k % 2 === index);
      assert.equal(report.match(/<testcase /g)?.length, mine.length, report);
      assert.doesNotMatch(report, /<failure|<error/);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(join(from, entry.name), join(to, entry.name));
    else await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

// Using the library from a checkout before it is on JSR, as README's Library
// section says: the project's deno.json from README plus "links".
const SCRIPT = `import { formatAddress } from "@wiretest/wiretest";
import { runEchoClient, startEchoServer } from "@wiretest/wiretest/plugins/echo";

const server = await startEchoServer({ transport: "udp" });
const outcome = await runEchoClient({
  target: formatAddress(server.address),
  transport: "udp",
  payload: "hello",
  count: 3,
});
await server.close();
console.log(JSON.stringify(outcome));
`;

function projectConfig(): Record<string, unknown> {
  const library = README.slice(README.indexOf("\n## Library\n"));
  const block = /```json\n([\s\S]*?)\n```/.exec(library);
  assert.ok(block, "README's Library section has a deno.json block");
  return JSON.parse(block[1]);
}

function assertEchoRan(r: { code: number; stdout: string; stderr: string }): void {
  assert.equal(r.code, 0, r.stderr);
  const outcome = JSON.parse(r.stdout);
  assert.equal(outcome.ok, true);
  assert.equal(outcome.metrics.round_trips, 3);
  assert.equal(outcome.metrics.mismatches, 0);
}

Deno.test("README: a project outside the checkout uses it through links, offline", async () => {
  const parent = await Deno.makeTempDir({ prefix: "wiretest-consumer-" });
  try {
    // The checkout beside the project, as README's "../wiretest".
    await Deno.symlink(ROOT, join(parent, "wiretest"));
    const app = join(parent, "app");
    await Deno.mkdir(app);
    const config = projectConfig();
    assert.deepEqual(config.imports, { "@wiretest/wiretest": "jsr:@wiretest/wiretest@^0.1" });
    assert.match(README, /add `"links": \["\.\.\/wiretest"\]`/);
    await Deno.writeTextFile(
      join(app, "by_path.ts"),
      `import echo from "../wiretest/plugins/echo/mod.ts";\nconsole.log("ran", echo.name);\n`,
    );
    await Deno.writeTextFile(join(app, "main.ts"), SCRIPT);

    // Without links, README says, importing the checkout's plugins by path fails, and why.
    await Deno.writeTextFile(join(app, "deno.json"), JSON.stringify(config, null, 2));
    const unlinked = await deno(["run", "-A", "by_path.ts"], { cwd: app });
    assert.notEqual(unlinked.code, 0);
    assert.match(unlinked.stderr, /Import "zod" not a dependency/);

    config.links = ["../wiretest"];
    await Deno.writeTextFile(join(app, "deno.json"), JSON.stringify(config, null, 2));
    assertEchoRan(await deno(["run", "-A", "main.ts"], { cwd: app }));
    const linked = await deno(["run", "-A", "by_path.ts"], { cwd: app });
    assert.equal(linked.stdout, "ran echo\n", linked.stderr);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("README: a lone script runs with the checkout's configuration (--config)", async () => {
  const parent = await Deno.makeTempDir({ prefix: "wiretest-consumer-" });
  try {
    await Deno.symlink(ROOT, join(parent, "wiretest"));
    const lone = join(parent, "lone");
    await Deno.mkdir(lone);
    await Deno.writeTextFile(join(lone, "script.ts"), SCRIPT);
    const line = "deno run -A --config ../wiretest/deno.json script.ts";
    assert.ok(README.includes(`\`${line}\``));
    assertEchoRan(await sh(line, { cwd: lone }));
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

// The sessions README shows (`$ command` then what it prints) are run too,
// with wiretest installed as README says: each command must end as shown (the
// `echo "exit $?"` line, else 0) and print the lines shown. Durations, rates
// and hashes vary from run to run; every other character must match. Ports
// are replaced by free ones, consistently within a session.

/** One `$ command` of a README text block and the lines it prints there. */
interface SessionStep {
  command: string;
  output: string[];
}

function sessions(markdown: string): SessionStep[][] {
  const blocks = [...markdown.matchAll(/^```text\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  return blocks.filter((b) => b.startsWith("$ ")).map((block) => {
    const steps: SessionStep[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("$ ")) steps.push({ command: line.slice(2), output: [] });
      else if (line !== "") steps.at(-1)!.output.push(line);
    }
    return steps;
  });
}

// What varies: a sha256, a duration in ms or s (either unit), a decimal.
const VARIES = /([0-9a-f]{64}|\d+(?:\.\d+)? m?s\b|\d+\.\d+)/;

function linePattern(line: string): RegExp {
  const parts = line.split(VARIES).map((part, i) =>
    i % 2 === 0
      ? part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
      : part.length === 64
      ? "[0-9a-f]{64}"
      : part.endsWith("s")
      ? "\\d+(?:\\.\\d+)? m?s"
      : "\\d+(?:\\.\\d+)?"
  );
  return new RegExp(`^${parts.join("")}$`);
}

function assertPrinted(actual: string, expected: string[], what: string): void {
  const lines = actual.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, expected.length, `${what} printed:\n${actual}`);
  lines.forEach((line, i) =>
    assert.match(
      line,
      linePattern(expected[i]),
      `${what} printed\n  ${line}\nREADME shows\n  ${expected[i]}`,
    )
  );
}

/**
 * `wiretest serve …` in the background until it is sent SIGINT (Ctrl-C);
 * resolves once it has printed its first line (where it listens).
 */
async function startSession(command: string, cwd: string, bin: string) {
  const child = new Deno.Command("sh", {
    args: ["-c", `exec ${command}`],
    cwd,
    env: {
      NO_COLOR: "1",
      INIT_CWD: cwd,
      PATH: `${bin}:${dirname(Deno.execPath())}:${Deno.env.get("PATH")}`,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let firstLine!: () => void;
  const listening = new Promise<void>((ok) => firstLine = ok);
  const output = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
      if (out.includes("\n")) firstLine();
    }
    firstLine();
    const err = await new Response(child.stderr).text();
    await child.status;
    clearTimeout(killer);
    return { out, err };
  })();
  await listening;
  let stopping: Promise<{ out: string; err: string }> | undefined;
  return {
    stop() {
      if (!stopping) {
        child.kill("SIGINT");
        stopping = output;
      }
      return stopping;
    },
  };
}

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

Deno.test("README: the loopback session runs as shown, with wiretest installed as README says", async () => {
  const session = sessions(README).find((s) => s[0].command.startsWith("wiretest serve echo"));
  assert.ok(session, "README shows a session starting with wiretest serve echo");
  const root = await Deno.makeTempDir({ prefix: "wiretest-session-" });
  const servers: {
    command: string;
    expected: string[];
    stop: Awaited<ReturnType<typeof startSession>>["stop"];
  }[] = [];
  try {
    const bin = await install(root);
    const work = join(root, "work");
    await Deno.mkdir(join(work, "inbox"), { recursive: true });
    await Deno.writeFile(join(work, "report.bin"), randomBytes(10 * 1024 * 1024));
    const ports = new Map<string, string>();
    const mapped = (text: string) =>
      text.replace(/(127\.0\.0\.1:|--port )(\d{4,5})\b/g, (_, head, port) => {
        if (!ports.has(port)) {
          const udp = session.some((s) => s.command.includes(`udp-ping --port ${port}`));
          ports.set(port, String(freePort(udp ? "udp" : "tcp")));
        }
        return `${head}${ports.get(port)}`;
      });
    for (const step of session) {
      const command = mapped(step.command);
      if (command.startsWith("wiretest serve ")) {
        const { stop } = await startSession(command, work, bin);
        servers.push({ command, expected: step.output.map(mapped), stop });
        continue;
      }
      const r = await sh(`(${command}) 2>&1`, { cwd: work, extraPath: bin });
      // A command shown with `; echo "exit $?"` prints its exit code; any other must succeed.
      assert.equal(r.code, 0, `$ ${command}\n${r.stdout}`);
      assertPrinted(r.stdout, step.output.map(mapped), `$ ${command}`);
    }
    // "When the server stops (Ctrl-C or SIGTERM) it prints its counters".
    const stopped = /`(echo stopped \(SIGINT\): [^`]*)`/.exec(README);
    assert.ok(stopped, "README shows what the echo server prints when it stops");
    const [head, tail] = stopped[1].split(" … ");
    for (const server of servers) {
      const { out, err } = await server.stop();
      const lines = out.trim().split("\n");
      if (server.expected.length > 0) {
        assertPrinted(lines[0], server.expected, `$ ${server.command}`);
      }
      if (server.command.startsWith("wiretest serve echo")) {
        assert.ok(lines.at(-1)!.startsWith(head) && lines.at(-1)!.endsWith(tail), out + err);
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await Deno.remove(root, { recursive: true });
  }
});

/** The session whose command is `command`, as README shows it. */
function sessionOf(command: string): SessionStep {
  const step = sessions(README).flat().find((s) => s.command === command);
  assert.ok(step, `README shows "$ ${command}"`);
  return step;
}

Deno.test("README: the fixture runs it shows print what it shows", async () => {
  const root = await Deno.makeTempDir({ prefix: "wiretest-session-" });
  try {
    const bin = await install(root);

    const examples = sessionOf("wiretest test examples/fixtures");
    const ran = await sh(`(${examples.command}) 2>&1`, { cwd: ROOT, extraPath: bin });
    assert.equal(ran.code, 0, ran.stdout);
    assertPrinted(ran.stdout, examples.output, `$ ${examples.command}`);

    // "Mistakes are located": the fixture README shows, and a typo in another.
    const located = sessionOf('wiretest test fixtures; echo "exit $?"');
    const budget = /```yaml\n# fixtures\/echo_budget\.wire\.yaml\n([\s\S]*?)```/.exec(README);
    assert.ok(budget, "README shows fixtures/echo_budget.wire.yaml");
    await Deno.mkdir(join(root, "fixtures"));
    await Deno.writeTextFile(
      join(root, "fixtures/echo_budget.wire.yaml"),
      `# fixtures/echo_budget.wire.yaml\n${budget[1]}`,
    );
    // README does not show this one; its output names where the typo is.
    await Deno.writeTextFile(
      join(root, "fixtures/typo.wire.yaml"),
      "name: typo\nsteps:\n  - plugin: udp-pnig\n",
    );
    const failed = await sh(`(${located.command}) 2>&1`, { cwd: root, extraPath: bin });
    assert.equal(failed.code, 0, failed.stdout);
    assertPrinted(failed.stdout, located.output, `$ ${located.command}`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("README: the fault-injection fixture is examples/fixtures/proxy_faults.wire.yaml, which the demo runs", async () => {
  const section = README.slice(README.indexOf("\n## Fault injection\n"));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, "the Fault injection section shows a fixture");
  const file = await Deno.readTextFile(join(EXAMPLE_FIXTURES, "proxy_faults.wire.yaml"));
  assert.equal(block[1], file);
});
