/**
 * The fixture runner: finds fixture files, checks them, runs their services
 * and steps, judges expectations and reports events.
 *
 * ```sh
 * wiretest test tests/fixtures --concurrency 4 --reporter junit --output report.xml
 * ```
 *
 * - {@linkcode runFixtures} runs a whole set (what `wiretest test` does);
 * - {@linkcode prepareFixture} and {@linkcode runFixture} run one;
 * - {@linkcode discoverFixtures}, {@linkcode selectShard},
 *   {@linkcode parseShard} and {@linkcode parseFilter} choose what runs;
 * - plugins run through an `Executor` (`@wiretest/wiretest/host`), in-process
 *   or isolated (`isolation`, or `executor` in the options);
 * - the events ({@linkcode RunEvent}) are what reporters consume.
 *
 * @example Running a fixture directory
 * ```ts
 * import { runFixtures } from "@wiretest/wiretest/runner";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(join(dir, "probe.wire.yaml"), `name: http probe
 * services:
 *   web: { plugin: http-probe, with: { body: hello } }
 * steps:
 *   - plugin: http-probe
 *     with: { url: "http://\${services.web.addr}/" }
 *     expect:
 *       metrics.status: 200
 *       facts.body_text: hello
 * `);
 * const result = await runFixtures({ paths: [dir], isolation: false });
 * assert.equal(result.exitCode, 0);
 * assert.equal(result.summary.passed, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export type * from "./events.ts";
export * from "./discover.ts";
export * from "./shard.ts";
export * from "./filter.ts";
export * from "./prepare_fixture.ts";
export * from "./plugins_lock.ts";
export * from "./run_fixture.ts";
export * from "./run.ts";
