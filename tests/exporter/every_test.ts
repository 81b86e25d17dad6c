// `wiretest test --every <duration> --metrics-listen <addr>`: fixtures run
// again and again, their last results served as Prometheus metrics.
import assert from "node:assert/strict";
import { join } from "node:path";
import { MAIN, ROOT } from "../_support/deno_process.ts";
import { deno } from "../_support/deno_process.ts";
import { freePort, ignoreWithout } from "../_support/peer.ts";
import { get, promtoolCheck, samples } from "./_exporter.ts";

Deno.test({
  name: "wiretest test --every 1s --metrics-listen: runs repeat and their results are metrics",
  ignore: ignoreWithout("promtool"),
}, async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "test",
      "examples/fixtures/echo_tcp.wire.yaml",
      "--every",
      "1s",
      "--metrics-listen",
      `127.0.0.1:${port}`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const output = child.output();
  try {
    let values = new Map<string, number>();
    let text = "";
    for (let i = 0; i < 300 && !((values.get("wiretest_runs_total") ?? 0) >= 2); i++) {
      try {
        text = (await get(`http://127.0.0.1:${port}/metrics`)).text;
        values = samples(text);
      } catch { /* not listening yet */ }
      await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.ok(values.get("wiretest_runs_total")! >= 2, text);
    const fixture = "echo over TCP";
    const file = "examples/fixtures/echo_tcp.wire.yaml";
    assert.equal(
      values.get(`wiretest_fixture_success{fixture="${fixture}",file="${file}"}`),
      1,
      text,
    );
    assert.ok(
      values.get(
        `wiretest_fixture_runs_total{fixture="${fixture}",file="${file}",status="passed"}`,
      )! >= 2,
    );
    assert.ok(
      [...values.keys()].some((k) => k.startsWith("wiretest_step_echo_round_trips{")),
      text,
    );
    // Named from echo's declared units, as the exporter names them
    // (`mismatches` is in bytes: probe_echo_mismatches_bytes there).
    assert.ok(
      [...values.keys()].some((k) => k.startsWith("wiretest_step_echo_mismatches_bytes{")),
      text,
    );
    assert.ok(
      ![...values.keys()].some((k) => k.startsWith("wiretest_step_echo_mismatches{")),
      text,
    );
    const checked = await promtoolCheck(text);
    assert.equal(checked.code, 0, checked.output);
    child.kill("SIGTERM");
    const done = await output;
    assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
    const stdout = new TextDecoder().decode(done.stdout);
    assert.ok((stdout.match(/1 passed, 0 failed/g) ?? []).length >= 2, stdout);
  } finally {
    clearTimeout(killer);
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
    await output.catch(() => {});
  }
});

Deno.test("wiretest test --metrics-listen without --every is a usage error", async () => {
  const r = await deno([
    "run",
    "-A",
    MAIN,
    "test",
    "examples/fixtures",
    "--metrics-listen",
    "127.0.0.1:0",
  ], {
    cwd: ROOT,
  });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "error: Cannot use --metrics-listen without --every\n");
});

const DEFINE = new URL("../../lib/plugin/define_plugin.ts", import.meta.url).href;

Deno.test({
  name:
    "wiretest test --every: a third-party metric is converted by its declared unit, as the exporter converts it",
  ignore: ignoreWithout("promtool"),
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_every_units_" });
  // `answer_time` is in ms, but its name does not say so: only the
  // declaration can.
  await Deno.writeTextFile(
    join(dir, "timer.ts"),
    `import { z } from "zod";
import { definePlugin } from ${JSON.stringify(DEFINE)};
export default definePlugin({
  name: "timer",
  version: "1.0.0",
  description: "Reports a time in ms under a name without its unit.",
  client: {
    params: z.object({}),
    outcome: {
      metrics: [
        { name: "answer_time", unit: "ms", description: "Time to the answer." },
        { name: "answers", unit: "count", description: "Answers." },
      ],
      facts: [],
    },
    run: () => Promise.resolve({ ok: true, metrics: { answer_time: 250, answers: 3 }, facts: {} }),
  },
});
`,
  );
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    JSON.stringify({
      plugins: {
        timer: {
          module: "./timer.ts",
          description: "Reports a time in ms under a name without its unit.",
          roles: ["client"],
          apiVersion: 1,
          permissions: {},
        },
      },
    }),
  );
  await Deno.writeTextFile(
    join(dir, "timer.wire.yaml"),
    "name: timer\nplugins: [./manifest.json]\nsteps:\n  - name: answer\n    plugin: timer\n",
  );
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "test",
      join(dir, "timer.wire.yaml"),
      "--every",
      "1s",
      "--metrics-listen",
      `127.0.0.1:${port}`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const output = child.output();
  try {
    let values = new Map<string, number>();
    let text = "";
    for (let i = 0; i < 300 && !((values.get("wiretest_runs_total") ?? 0) >= 1); i++) {
      try {
        text = (await get(`http://127.0.0.1:${port}/metrics`)).text;
        values = samples(text);
      } catch { /* not listening yet */ }
      await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.ok(values.get("wiretest_runs_total")! >= 1, text);
    const labels = `{fixture="timer",step="answer",file="${join(dir, "timer.wire.yaml")}"}`;
    assert.equal(values.get(`wiretest_step_timer_answer_time_seconds${labels}`), 0.25, text);
    assert.equal(values.get(`wiretest_step_timer_answers${labels}`), 3, text);
    assert.ok(!text.includes("wiretest_step_timer_answer_time{"), text);
    assert.match(text, /# HELP wiretest_step_timer_answer_time_seconds .*"answer_time"/);
    const checked = await promtoolCheck(text);
    assert.equal(checked.code, 0, checked.output);
    child.kill("SIGTERM");
    const done = await output;
    assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
  } finally {
    clearTimeout(killer);
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
    await output.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
