/**
 * Fixtures inside `deno test`: {@linkcode testFixtures} registers each
 * fixture as a `Deno.test`, each of its steps as a test step.
 *
 * ```ts ignore
 * // tests/fixtures_test.ts
 * import { testFixtures } from "@wiretest/wiretest/testing";
 *
 * await testFixtures("tests/fixtures");
 * ```
 *
 * ```sh
 * deno test -A tests/fixtures_test.ts
 * ```
 *
 * @example Registering the fixtures of a directory
 * ```ts
 * import { testFixtures } from "@wiretest/wiretest/testing";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(join(dir, "ping.wire.yaml"), `name: udp ping
 * services:
 *   pong: { plugin: udp-ping }
 * steps:
 *   - plugin: udp-ping
 *     with: { target: "\${services.pong.addr}", count: 3, intervalMs: 1 }
 * `);
 * const names: string[] = [];
 * await testFixtures(dir, { register: (test) => void names.push(test.name) });
 * assert.deepEqual(names, ["udp ping"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export * from "./test_fixtures.ts";
