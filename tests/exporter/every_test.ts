// `wiretest test --every <duration> --metrics-listen <addr>`: fixtures run
// again and again, their last results served as Prometheus metrics.
import assert from "node:assert/strict";
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
    // README: units from names only here (declared units are the exporter's).
    assert.ok(
      [...values.keys()].some((k) => k.startsWith("wiretest_step_echo_mismatches{")),
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
