// The in-process executor validates a role's params once, at prepare; the
// runner prepares a fixture's roles once, whatever the retries.
import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { definePlugin } from "../plugin/define_plugin.ts";
import { parseManifest } from "../plugin/manifest.ts";
import { ParamsError } from "../plugin/params_schema.ts";
import { Registry } from "../plugin/registry.ts";
import { prepareFixture } from "../runner/prepare_fixture.ts";
import { runFixture } from "../runner/run_fixture.ts";
import { listenTcp } from "../transport/tcp.ts";
import { inProcessExecutor } from "./in_process_executor.ts";

/** A registry of one plugin whose schemas count how often they run. */
function countingRegistry() {
  const counts = { client: 0, server: 0, runs: 0 };
  const plugin = definePlugin({
    name: "count",
    version: "1.0.0",
    description: "Counts validations.",
    server: {
      params: z.object({ tag: z.string().default("s") }).superRefine(() => void counts.server++),
      serve: () => {
        const listener = listenTcp();
        return Promise.resolve({
          address: listener.addr,
          stats: () => ({}),
          close: () => Promise.resolve(listener.close()),
        });
      },
    },
    client: {
      params: z.object({ n: z.number(), tag: z.string().optional() })
        .superRefine(() => void counts.client++),
      run: (params) => {
        counts.runs++;
        return Promise.resolve({ ok: true, metrics: { n: params.n }, facts: {} });
      },
      summary: (outcome) => `n is ${outcome.metrics.n}`,
    },
  });
  const manifest = parseManifest(
    JSON.stringify({
      plugins: {
        count: {
          module: "./count.ts",
          description: "Counts validations.",
          roles: ["server", "client"],
          apiVersion: 1,
          permissions: { net: ["127.0.0.1"] },
        },
      },
    }),
    "file:///virtual/manifest.json",
  );
  const registry = new Registry([manifest], {
    modules: { "file:///virtual/count.ts": () => Promise.resolve({ default: plugin }) },
  });
  return { registry, counts };
}

Deno.test("inProcessExecutor().prepare() validates params once for every run", async () => {
  const { registry, counts } = countingRegistry();
  const executor = inProcessExecutor(registry);
  await using client = await executor.prepare("count", "client", { n: 2 });
  const outcomes = [await client.run(), await client.run(), await client.run()];
  assert.deepEqual(outcomes.map((o) => o.metrics.n), [2, 2, 2]);
  assert.deepEqual([counts.client, counts.runs], [1, 3]);
  assert.equal(await client.summary(outcomes[0]), "n is 2");
});

Deno.test("inProcessExecutor().prepare() throws ParamsError with issue paths", async () => {
  const { registry, counts } = countingRegistry();
  const executor = inProcessExecutor(registry);
  await assert.rejects(
    executor.prepare("count", "client", { n: "2" }),
    (error: unknown) => error instanceof ParamsError && error.issues[0].path[0] === "n",
  );
  assert.equal(counts.runs, 0);
});

Deno.test("a closed prepared role refuses to run or serve", async () => {
  const { registry } = countingRegistry();
  const executor = inProcessExecutor(registry);
  const client = await executor.prepare("count", "client", { n: 1 });
  const server = await executor.prepare("count", "server", {});
  await client.close();
  await server.close();
  await assert.rejects(
    client.run(),
    /^TypeError: Cannot run plugin "count" \(client\): the prepared role is closed$/,
  );
  await assert.rejects(
    server.serve(),
    /^TypeError: Cannot run plugin "count" \(server\): the prepared role is closed$/,
  );
});

Deno.test("inProcessExecutor() refuses a role the plugin does not have", async () => {
  const registry = new Registry([
    parseManifest(
      JSON.stringify({
        plugins: {
          only: {
            module: "./only.ts",
            description: "Client only.",
            roles: ["client"],
            apiVersion: 1,
            permissions: {},
          },
        },
      }),
      "file:///virtual/manifest.json",
    ),
  ], {
    modules: {
      "file:///virtual/only.ts": () =>
        Promise.resolve({
          default: definePlugin({
            name: "only",
            version: "1.0.0",
            description: "Client only.",
            client: {
              params: z.object({}),
              run: () => Promise.resolve({ ok: true, metrics: {}, facts: {} }),
            },
          }),
        }),
    },
  });
  await assert.rejects(
    inProcessExecutor(registry).prepare("only", "server", {}),
    /^TypeError: Cannot use plugin "only": it has no server role$/,
  );
});

Deno.test("the runner validates a step's with: once, whatever its retries", async () => {
  const { registry, counts } = countingRegistry();
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "count.wire.yaml");
    await Deno.writeTextFile(
      file,
      [
        "name: count",
        "services:",
        "  s: { plugin: count }",
        "steps:",
        "  - plugin: count",
        "    with: { n: 1 }",
        "    retries: 2",
        "    expect: { metrics.n: 2 }",
        "",
      ].join("\n"),
    );
    const prepared = await prepareFixture(file, { registry });
    const end = await runFixture(prepared);
    assert.equal(end.status, "failed");
    assert.deepEqual([counts.client, counts.server, counts.runs], [1, 1, 3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the runner prepares a step with variables once they are resolved", async () => {
  const { registry, counts } = countingRegistry();
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "count.wire.yaml");
    await Deno.writeTextFile(
      file,
      [
        "name: count",
        "env: { N: null }",
        "steps:",
        "  - plugin: count",
        '    with: { n: 1, tag: "${env.N}" }',
        "    retries: 2",
        "    expect: { metrics.n: 2 }",
        "",
      ].join("\n"),
    );
    const prepared = await prepareFixture(file, { registry, allowEnv: ["N"] });
    const end = await runFixture(prepared, {
      allowEnv: ["N"],
      env: (name) => name === "N" ? "1" : undefined,
    });
    assert.equal(end.status, "failed");
    // One check of the rest at prepare, one of the resolved params, whatever the retries.
    assert.deepEqual([counts.client, counts.runs], [2, 3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inProcessExecutor().prepare({ lazy: true }) still validates now", async () => {
  const { registry, counts } = countingRegistry();
  await assert.rejects(
    inProcessExecutor(registry).prepare("count", "client", { n: "1" }, { lazy: true }),
    ParamsError,
  );
  assert.equal(counts.runs, 0);
});

Deno.test("a prepared client's run that changes its params changes no later run's", async () => {
  const keeps = definePlugin({
    name: "keeps",
    version: "1.0.0",
    description: "Adds a tag to its params each run.",
    client: {
      params: z.object({ tags: z.array(z.string()).default([]) }),
      run: (params) => {
        const found = params.tags.length;
        params.tags.push("seen");
        return Promise.resolve({ ok: true, metrics: { found }, facts: {} });
      },
    },
  });
  const manifest = parseManifest(
    JSON.stringify({
      plugins: {
        keeps: {
          module: "./keeps.ts",
          description: "Adds a tag to its params each run.",
          roles: ["client"],
          apiVersion: 1,
          permissions: {},
        },
      },
    }),
    "file:///virtual/manifest.json",
  );
  const registry = new Registry([manifest], {
    modules: { "file:///virtual/keeps.ts": () => Promise.resolve({ default: keeps }) },
  });
  await using client = await inProcessExecutor(registry).prepare("keeps", "client", {});
  for (let run = 0; run < 3; run++) {
    assert.equal((await client.run()).metrics.found, 0, `run ${run}`);
  }
});
