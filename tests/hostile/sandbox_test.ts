// Issue 11's escapes, each run as an attacker would: a hostile plugin and its
// manifest under tests/fixtures/hostile/, run isolated (the default) through
// the CLI (`wiretest test --reporter jsonl`) and through the runner
// (`runFixtures`), and shown blocked.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ofType, runCollecting } from "../runner/_support/run.ts";
import { commandOutput } from "../_support/command.ts";
import type { RunEvent } from "../../lib/runner/events.ts";
import { deno } from "../_support/deno_process.ts";

const DIR = fileURLToPath(new URL("../fixtures/hostile/", import.meta.url));
const MAIN = fileURLToPath(new URL("../../lib/cli/main.ts", import.meta.url));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  events: RunEvent[];
}

/** `wiretest test <fixture> --reporter jsonl [...extra]`, bounded. */
async function cli(fixture: string, extra: string[] = [], env: Record<string, string> = {}) {
  const out = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", MAIN, "test", `${DIR}${fixture}`, "--reporter", "jsonl", ...extra],
    env: { NO_COLOR: "1", ...env },
  }, 90_000);
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout);
  const events = stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  return { code: out.code, stdout, stderr: dec.decode(out.stderr), events } satisfies CliRun;
}

/** The same fixture through the runner, isolated, keeping the plugins' log lines. */
async function runner(fixture: string) {
  const logs: string[] = [];
  const run = await runCollecting({
    paths: [`${DIR}${fixture}`],
    isolation: true,
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  return { ...run, logs };
}

/** Every problem and step error of a run, as text. */
function failures(events: RunEvent[]): string {
  return JSON.stringify(
    events.flatMap((e) =>
      e.type === "fixture-end"
        ? e.problems.map((p) => p.message)
        : e.type === "step-result"
        ? [e.outcome.error?.message ?? ""]
        : []
    ),
  );
}

const PASSWD_FIRST_LINE = (await Deno.readTextFile("/etc/passwd")).split("\n")[0];

for (
  const [fixture, module, at] of [
    ["reads_passwd.wire.yaml", "reads_passwd.ts", "4:20"],
    ["reads_passwd_later.wire.yaml", "reads_passwd_later.ts", "13:36"],
  ] as const
) {
  const refusal = new RegExp(
    `Cannot load plugin \\\\"${
      module.replace(/_/g, "-").replace(".ts", "")
    }\\\\" from .*: it imports \\\\"/etc/passwd\\\\" at file://${DIR}${module}:${at}, which it may not: read access to \\\\"/etc/passwd\\\\" is not granted by its manifest entry \\(grants no read access\\)`,
  );

  Deno.test(`escape 1 (${module}): wiretest test refuses a plugin that imports /etc/passwd as text without a read grant`, async () => {
    const run = await cli(fixture);
    assert.equal(run.code, 2, run.stderr);
    assert.ok(!run.stdout.includes(PASSWD_FIRST_LINE), "the file's first line reached the report");
    assert.match(failures(run.events), refusal);
  });

  Deno.test(`escape 1 (${module}): the runner refuses a plugin that imports /etc/passwd as text without a read grant`, async () => {
    const run = await runner(fixture);
    assert.ok(!JSON.stringify(run.events).includes(PASSWD_FIRST_LINE));
    assert.equal(run.fixtures[0].status === "passed", false);
    assert.match(failures(run.events), refusal);
  });
}

/** Serves the remote payload on 127.0.0.2:47311 (the port the fixture names), counting requests. */
function payloadServer() {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.2", port: 47311, onListen() {} }, () => {
    requests++;
    return new Response("export const ran = 'remote code ran';\n", {
      headers: { "content-type": "application/javascript" },
    });
  });
  return {
    get requests() {
      return requests;
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const REMOTE_REFUSAL =
  /it imports \\"http:\/\/127\.0\.0\.2:47311\/payload\.js\\" at file:\/\/.*imports_remote\.ts:13:35, which it may not: net access to \\"127\.0\.0\.2:47311\\" is not granted by its manifest entry \(grants net: 127\.0\.0\.1\)/;

Deno.test("escape 2: wiretest test refuses a plugin granted net 127.0.0.1 that imports code from 127.0.0.2, never fetching it", async () => {
  await using server = payloadServer();
  const run = await cli("imports_remote.wire.yaml");
  assert.equal(run.code, 2, run.stderr);
  assert.ok(!run.stdout.includes("remote code ran"));
  assert.match(failures(run.events), REMOTE_REFUSAL);
  assert.equal(server.requests, 0);
});

Deno.test("escape 2: the runner refuses a plugin granted net 127.0.0.1 that imports code from 127.0.0.2, never fetching it", async () => {
  await using server = payloadServer();
  const run = await runner("imports_remote.wire.yaml");
  assert.ok(!JSON.stringify(run.events).includes("remote code ran"));
  assert.match(failures(run.events), REMOTE_REFUSAL);
  assert.equal(server.requests, 0);
});

const RUNNER_CHILD = fileURLToPath(
  new URL("./_support/sandbox_runner_child.ts", import.meta.url),
);

/** A Deno script on a terminal (util-linux `script`), answering "y" to any prompt. */
async function onTerminal(args: string[]) {
  const command = [Deno.execPath(), "run", "-A", ...args].map((a) => `'${a}'`).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const answers = setInterval(
    () => writer.write(new TextEncoder().encode("y\n")).catch(() => {}),
    200,
  );
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const out = await child.output();
    return new TextDecoder().decode(out.stdout);
  } finally {
    clearInterval(answers);
    clearTimeout(killer);
    await writer.close().catch(() => {});
  }
}

Deno.test("escape 3: on a terminal, a plugin's permission request is denied without a prompt (CLI)", async () => {
  const text = await onTerminal([MAIN, "test", `${DIR}prompts.wire.yaml`, "--reporter", "jsonl"]);
  assert.doesNotMatch(text, /requests run access/i);
  assert.doesNotMatch(text, /uid=\d+/);
  assert.match(text, /"state":"denied"/);
});

Deno.test("escape 3: on a terminal, a plugin's permission request is denied without a prompt (runner)", async () => {
  const text = await onTerminal([RUNNER_CHILD, `${DIR}prompts.wire.yaml`]);
  assert.doesNotMatch(text, /requests run access/i);
  assert.doesNotMatch(text, /uid=\d+/);
  assert.match(text, /"state":"denied"/);
});

const SECRET = "hostile-secret-5c1f";

Deno.test("escape 4: plugins share no BroadcastChannel, so a net-only plugin never gets an env-only plugin's secret (CLI)", async () => {
  const run = await cli("channels.wire.yaml", [], { WIRETEST_HOSTILE_SECRET: SECRET });
  assert.equal(run.code, 0, run.stderr);
  const steps = ofType(run.events, "step-result");
  assert.equal(steps.length, 3);
  assert.equal(steps[1].outcome.facts.posted, 5);
  assert.deepEqual(steps[2].outcome.facts.received, []);
  assert.ok(!run.stdout.includes(SECRET));
});

Deno.test("escape 4: plugins share no BroadcastChannel, so a net-only plugin never gets an env-only plugin's secret (runner)", async () => {
  Deno.env.set("WIRETEST_HOSTILE_SECRET", SECRET);
  try {
    const run = await runner("channels.wire.yaml");
    const steps = ofType(run.events, "step-result");
    assert.equal(steps[1].outcome.facts.posted, 5);
    assert.deepEqual(steps[2].outcome.facts.received, []);
  } finally {
    Deno.env.delete("WIRETEST_HOSTILE_SECRET");
  }
});

Deno.test("escape 5: a plugin's stdout never reaches the jsonl report, and its escapes never reach the terminal (CLI)", async () => {
  const run = await cli("forger.wire.yaml", ["--debug"]);
  assert.equal(run.code, 0, run.stderr);
  // Every line parsed as JSON above; exactly one summary, the real one.
  const summaries = ofType(run.events, "summary");
  assert.equal(summaries.length, 1);
  assert.equal(summaries[0].passed, 1);
  assert.ok(!run.stdout.includes("\x1b") && !run.stderr.includes("\x1b"));
  // Shown as the plugin's log: attributed, escaped.
  assert.match(run.stderr, /plugin "forger" stdout: \{"type":"summary","passed":999/);
  assert.match(run.stderr, /plugin "forger" stdout: \\x1b\[2J\\x1b\]0;pwned\\x07forged/);
});

Deno.test("escape 5: a plugin's stdout reaches the runner only as its escaped, attributed log", async () => {
  const run = await runner("forger.wire.yaml");
  assert.equal(run.exitCode, 0);
  const forged = run.logs.filter((l) => l.includes('"passed":999'));
  assert.equal(forged.length, 2);
  for (const line of forged) assert.match(line, /^info: forger: plugin "forger" stdout: /);
  assert.ok(
    run.logs.some((l) => l.endsWith('plugin "forger" stdout: \\x1b[2J\\x1b]0;pwned\\x07forged')),
  );
  assert.ok(run.logs.every((l) => !l.includes("\x1b")));
});

Deno.test("also: a plugin sees no command-line arguments and not the runtime's path (CLI)", async () => {
  const run = await cli("peeks.wire.yaml", ["--filter", "peeks"]);
  assert.equal(run.code, 0, run.stderr);
  const [step] = ofType(run.events, "step-result");
  assert.deepEqual(step.outcome.facts.args, []);
  assert.equal(step.outcome.facts.execPath, "deno");
});

Deno.test("also: a plugin sees no command-line arguments and not the runtime's path (runner)", async () => {
  const run = await runner("peeks.wire.yaml");
  const [step] = ofType(run.events, "step-result");
  assert.deepEqual(step.outcome.facts.args, []);
  assert.notEqual(step.outcome.facts.execPath, Deno.execPath());
  assert.equal(step.outcome.facts.execPath, "deno");
});

const MEMORY =
  /^Cannot run plugin "hog": its process went over its memory ceiling of 512 MiB \((resident memory \d+ MiB|V8 ran out of heap)\), so it was killed$/;

Deno.test("also: a plugin that allocates without bound fails its step at the memory ceiling, and the run's report is written (CLI)", async () => {
  const run = await cli("memory");
  assert.equal(run.code, 1, run.stderr);
  const steps = ofType(run.events, "step-result");
  const hog = steps.find((s) => s.step.plugin === "hog")!;
  assert.equal(hog.outcome.error?.name, "PluginMemoryError");
  assert.match(hog.outcome.error!.message, MEMORY);
  assert.equal(steps.find((s) => s.step.plugin === "peeks")?.status, "passed");
  const [summary] = ofType(run.events, "summary");
  assert.equal(summary.total, 2);
  assert.equal(summary.passed, 1);
});

Deno.test("also: a plugin that allocates without bound fails its step at the memory ceiling (runner)", async () => {
  const run = await runner("memory");
  const steps = ofType(run.events, "step-result");
  const hog = steps.find((s) => s.step.plugin === "hog")!;
  assert.equal(hog.outcome.error?.name, "PluginMemoryError");
  assert.match(hog.outcome.error!.message, MEMORY);
  assert.equal(steps.find((s) => s.step.plugin === "peeks")?.status, "passed");
  assert.equal(ofType(run.events, "summary").length, 1);
});

Deno.test("escape 5: a plugin that floods stdout has its log cut at 1 MiB, each line at 4,096 characters", async () => {
  const run = await runner("floods.wire.yaml");
  assert.equal(run.exitCode, 0);
  const lines = run.logs.filter((l) => l.includes('plugin "floods" stdout: '));
  const kept = lines.filter((l) => l.endsWith("x…"));
  assert.ok(kept.length > 0 && kept.length <= 16, `${kept.length} long lines kept`);
  for (const line of kept) assert.ok(line.length < 4_200, `a line of ${line.length} characters`);
  assert.ok(lines.at(-1)!.endsWith("(more output than wiretest keeps: the rest is dropped)"));
});

Deno.test("escape 5: a plugin's summary under wiretest run is attributed, escaped and held to three lines", async () => {
  const out = await deno([
    "run",
    "-A",
    MAIN,
    "run",
    "forger",
    "--plugins",
    new URL("../fixtures/hostile/manifest.json", import.meta.url).pathname,
  ]);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split("\n");
  assert.deepEqual(lines, [
    "forger: ok      all good (x.wire.yaml) 1 ms",
    "forger: 999 passed, 0 failed (1 s)",
    "forger: \\u001b[2Jthree",
    '(1 more line of plugin "forger"\'s summary not shown)',
  ]);
});
