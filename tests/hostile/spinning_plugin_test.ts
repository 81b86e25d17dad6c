// A third-party plugin whose process spins (a busy loop in its run, or a
// catastrophic check of its params) answers nothing: the host kills that
// process once the run's deadline and the grace period pass, whatever other
// roles share it, and the next role gets a fresh process. Real plugin
// processes; children counted from /proc.
import assert from "node:assert/strict";
import { join } from "node:path";
import { registryWith } from "../../lib/cli/_load_plugin.ts";
import {
  checkIsolatedParams,
  IsolationPool,
  runIsolatedClient,
  runIsolatedLoad,
  startIsolatedServer,
} from "../../lib/plugin/isolation.ts";
import { checkLoadPlan } from "../../lib/load/load_plan.ts";
import type { ManifestEntry } from "../../lib/plugin/manifest.ts";
import { commandOutput, within } from "../_support/command.ts";
import { MarkedChildren } from "../_support/children.ts";

const DEFINE = new URL("../../lib/plugin/define_plugin.ts", import.meta.url).href;

// Spins in its run when `mode` is "run", in its params check when the target
// is "spin"; "slow" waits for its abort and stops at once, as asked.
const SPINNER = `import { z } from "zod";
import { definePlugin } from ${JSON.stringify(DEFINE)};
export default definePlugin({
  name: "spinner",
  version: "1.0.0",
  description: "Spins when asked.",
  server: {
    params: z.object({ spinOnClose: z.boolean().default(false) }),
    serve: (params) =>
      Promise.resolve({
        address: { transport: "unix", path: "/nonexistent/spinner" },
        stats: () => ({ pid: Deno.pid }),
        close: () => {
          if (params.spinOnClose) for (;;) { /* busy */ }
          return Promise.resolve();
        },
      }),
  },
  client: {
    params: z.object({
      target: z.string().refine((t) => {
        if (t === "spin") for (;;) { /* busy */ }
        return true;
      }),
      mode: z.enum(["run", "slow", "ok"]).default("ok"),
    }),
    run: async (params, ctx) => {
      if (params.mode === "run") {
        await new Promise((resolve) => setTimeout(resolve, 10));
        for (;;) { /* busy */ }
      }
      if (params.mode === "slow") {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        return { ok: false, metrics: { stopped: 1 }, facts: {} };
      }
      return { ok: true, metrics: { pid: Deno.pid }, facts: {} };
    },
  },
});
`;

// The spinner's processes: its manifest grants an environment variable of
// its own, which their command lines name (other test files run in
// parallel in this process, with children of their own).
const ours = new MarkedChildren(`WIRETEST_SPINNER_${crypto.randomUUID().slice(0, 8)}`);

async function withSpinner(fn: (entry: ManifestEntry) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_spinner_" });
  try {
    await Deno.writeTextFile(join(dir, "spinner.ts"), SPINNER);
    await Deno.writeTextFile(
      join(dir, "manifest.json"),
      JSON.stringify({
        plugins: {
          spinner: {
            module: "./spinner.ts",
            description: "Spins when asked.",
            roles: ["server", "client"],
            apiVersion: 1,
            permissions: { env: [ours.token] },
          },
        },
      }),
    );
    const registry = await registryWith([join(dir, "manifest.json")]);
    await fn(registry.get("spinner"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Waits (20 s at most) until this process has `count` children, zombies included. */
async function untilChildren(count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (ours.list().length === count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`children: ${JSON.stringify(ours.list())}, expected ${count}`);
}

Deno.test("a plugin process spinning in its run is killed at deadline + grace, with the role sharing it, and the next run gets a fresh one", async () => {
  await withSpinner(async (spinner) => {
    await using pool = new IsolationPool({ rolesPerProcess: 8 });
    await pool.warm(spinner);
    const before = ours.list().length;
    assert.equal(before, 1);
    // A role sharing the process, with a long deadline: stuck behind the
    // busy loop, it must not keep the process alive until its own deadline.
    const slow = runIsolatedClient(spinner, { target: "x", mode: "slow" }, {
      timeout: 60_000,
      graceMs: 300,
      pool,
    });
    const spun = await within(
      runIsolatedClient(spinner, { target: "x", mode: "run" }, {
        timeout: 300,
        graceMs: 300,
        pool,
      }),
      20_000,
      "the spinning run to end",
    );
    assert.equal(spun.ok, false);
    assert.equal(spun.error?.name, "TimeoutError");
    assert.match(
      spun.error!.message,
      /^Cannot run plugin "spinner": its process answered nothing within 300 ms after its deadline passed \(its run stuck, a busy loop\), so it was killed$/,
    );
    const shared = await within(slow, 10_000, "the role sharing the killed process to end");
    assert.equal(shared.ok, false);
    assert.match(shared.error!.message, /plugin "spinner"/);
    // Killed and reaped: no child left, not even a zombie.
    await untilChildren(0);
    assert.equal(pool.size, 0);
    const next = await within(
      runIsolatedClient(spinner, { target: "x" }, { timeout: 10_000, pool }),
      20_000,
      "the next run",
    );
    assert.equal(next.ok, true, JSON.stringify(next.error));
    assert.equal(pool.size, 1);
  });
});

Deno.test("a well-behaved slow plugin that stops on its abort keeps its process", async () => {
  await withSpinner(async (spinner) => {
    await using pool = new IsolationPool();
    const first = await runIsolatedClient(spinner, { target: "x" }, { pool });
    const slow = await within(
      runIsolatedClient(spinner, { target: "x", mode: "slow" }, {
        timeout: 200,
        // Far more than its answer to the abort takes, even on a loaded
        // machine (1 s could pass there, and the process was killed).
        graceMs: 10_000,
        pool,
      }),
      20_000,
      "the slow run",
    );
    assert.equal(slow.metrics.stopped, 1);
    const again = await runIsolatedClient(spinner, { target: "x" }, { pool });
    // The same process served both.
    assert.equal(again.metrics.pid, first.metrics.pid);
    assert.equal(ours.list().length, 1);
  });
});

Deno.test("a plugin process spinning in its params check is killed once the check's signal and grace pass", async () => {
  await withSpinner(async (spinner) => {
    await using pool = new IsolationPool({ rolesPerProcess: 8 });
    await pool.warm(spinner);
    const checking = checkIsolatedParams(spinner, "client", { target: "spin" }, {
      pool,
      signal: AbortSignal.timeout(200),
    });
    const error = await within(
      checking.then(() => undefined, (e: Error) => e),
      20_000,
      "the stuck check to end",
    );
    assert.ok(error instanceof Error);
    assert.equal(error.name, "TimeoutError");
    assert.match(
      error.message,
      /^Cannot run plugin "spinner": its process answered nothing within 2000 ms after its deadline passed \(its check stuck, a busy loop\), so it was killed$/,
    );
    await untilChildren(0);
    // A fresh process checks the next params.
    await within(
      checkIsolatedParams(spinner, "client", { target: "x" }, { pool }),
      20_000,
      "the next check",
    );
    assert.equal(pool.size, 1);
  });
});

Deno.test("a service whose process spins on close is killed after the grace, and the next service gets a fresh process", async () => {
  await withSpinner(async (spinner) => {
    await using pool = new IsolationPool({ rolesPerProcess: 8 });
    const logs: string[] = [];
    const stuck = await startIsolatedServer(spinner, { spinOnClose: true }, {
      pool,
      graceMs: 300,
      log: (_level, message) => logs.push(message),
    });
    // Another service shares the process: it must not keep it alive.
    const other = await startIsolatedServer(spinner, {}, { pool });
    assert.equal(ours.list().length, 1);
    await within(stuck.close(), 20_000, "the stuck service's close");
    assert.deepEqual(logs, [
      'Cannot close plugin "spinner": its process did not answer within 300 ms, so it was killed with its connections',
    ]);
    await untilChildren(0);
    await within(other.close(), 20_000, "the other service's close");
    const fresh = await startIsolatedServer(spinner, {}, { pool });
    assert.equal(typeof fresh.stats().pid, "number");
    await fresh.close();
    assert.equal(pool.size, 1);
  });
});

Deno.test("a load whose plugin process spins is ended after its plan's end, the graceful stop, the slack and the grace", async () => {
  await withSpinner(async (spinner) => {
    await using pool = new IsolationPool();
    await pool.warm(spinner);
    const error = await within(
      runIsolatedLoad(
        spinner,
        { target: "x", mode: "run" },
        checkLoadPlan({ vus: 1, duration: "300ms" }),
        {
          pool,
          gracefulStopMs: 100,
          graceMs: 300,
        },
      ).then(() => undefined, (e: Error) => e),
      40_000,
      "the stuck load to end",
    );
    assert.ok(error instanceof Error);
    assert.equal(error.name, "TimeoutError");
    assert.match(
      error.message,
      /^Cannot run plugin "spinner": its process answered nothing within 300 ms after its deadline passed/,
    );
    await untilChildren(0);
    // The next load gets a fresh process and runs.
    const report = await within(
      runIsolatedLoad(spinner, { target: "x" }, checkLoadPlan({ vus: 1, iterations: 5 }), { pool }),
      40_000,
      "the next load",
    ) as { iterations: number };
    assert.equal(report.iterations, 5);
  });
});

Deno.test("wiretest test: a step whose plugin process spins fails with its timeout, and the next fixture's step of that plugin passes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_spinner_cli_" });
  try {
    await Deno.writeTextFile(join(dir, "spinner.ts"), SPINNER);
    await Deno.writeTextFile(
      join(dir, "manifest.json"),
      JSON.stringify({
        plugins: {
          spinner: {
            module: "./spinner.ts",
            description: "Spins when asked.",
            roles: ["server", "client"],
            apiVersion: 1,
            permissions: {},
          },
        },
      }),
    );
    const step = (mode: string) =>
      `steps:\n  - plugin: spinner\n    timeout: 500ms\n    with: { target: x, mode: ${mode} }\n`;
    await Deno.writeTextFile(join(dir, "a.wire.yaml"), `name: spins\n${step("run")}`);
    await Deno.writeTextFile(join(dir, "b.wire.yaml"), `name: answers\n${step("ok")}`);
    const cli = new URL("../../lib/cli/main.ts", import.meta.url).pathname;
    const out = await commandOutput(Deno.execPath(), {
      args: ["run", "-A", cli, "test", "--plugins", "manifest.json", "--reporter", "jsonl", "."],
      cwd: dir,
      env: { NO_COLOR: "1" },
    }, 60_000);
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 1, stdout + new TextDecoder().decode(out.stderr));
    const fixtures = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
      .filter((event) => event.type === "fixture-end");
    const byName = new Map(fixtures.map((f) => [f.fixture.name, f]));
    // The step outlasted its timeout: the fixture ends in error.
    assert.equal(byName.get("spins")?.status, "error", stdout);
    assert.match(stdout, /its process answered nothing within \d+ ms after its deadline passed/);
    assert.equal(byName.get("answers")?.status, "passed", stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
