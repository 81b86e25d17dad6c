// The `mod_test.ts` of a generated plugin: real sockets on loopback, every
// test asserting what the plugin observed, everything closed (Deno's
// sanitizers are on).
import { fill, type PluginNames, type Roles } from "./names.ts";

/** The source of `mod_test.ts` for a plugin with the given roles. */
export function testSource(names: PluginNames, roles: Roles): string {
  const parts = roles.server && roles.client
    ? [BOTH_IMPORTS, ROUND_TRIP, REFUSED, UNKNOWN_COMMAND, CLIENT_PARAMS]
    : roles.server
    ? [SERVER_IMPORTS, SERVER_PINGS, UNKNOWN_COMMAND, SERVER_PARAMS]
    : [CLIENT_IMPORTS, CLIENT_AGAINST_LISTENER, REFUSED, CLIENT_PARAMS];
  return fill(parts.join("\n"), names);
}

const BOTH_IMPORTS = String.raw`import assert from "node:assert/strict";
import {
  outcomeProblems,
  ParamsError,
  runClient,
  startServer,
  statsProblems,
  validateParams,
} from "@wiretest/wiretest/plugin";
import {
  connectTcp,
  formatAddress,
  listenTcp,
  readFull,
} from "@wiretest/wiretest/transport";
import __camel__, { __camel__ClientParams } from "./mod.ts";
`;

const SERVER_IMPORTS = String.raw`import assert from "node:assert/strict";
import {
  ParamsError,
  startServer,
  statsProblems,
  validateParams,
} from "@wiretest/wiretest/plugin";
import { connectTcp, readFull } from "@wiretest/wiretest/transport";
import __camel__, { __camel__ServerParams, __camel__Stats } from "./mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
`;

const CLIENT_IMPORTS = String.raw`import assert from "node:assert/strict";
import { outcomeProblems, ParamsError, runClient, validateParams } from "@wiretest/wiretest/plugin";
import { encodeLine, LineDecoder, readFrames } from "@wiretest/wiretest/codec";
import { listenTcp } from "@wiretest/wiretest/transport";
import __camel__, { __camel__ClientParams } from "./mod.ts";
`;

const ROUND_TRIP = String
  .raw`Deno.test("__kebab__ client gets a PONG for every PING over loopback", async () => {
  const server = await startServer(__camel__, {});
  try {
    const target = formatAddress(server.address);
    const outcome = await runClient(__camel__, { target, count: 20 });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.pings, 20);
    assert.equal(outcome.metrics.pongs, 20);
    assert.ok(outcome.metrics.rtt_p99_ms >= outcome.metrics.rtt_p50_ms);
    assert.equal(server.stats().pings, 20);
    assert.match(__camel__.client!.summary!(outcome), /^20 PINGs to 127\.0\.0\.1:\d+: 20 PONGs/);
    // What the roles report is what they declare (wiretest reference lists it).
    assert.deepEqual(outcomeProblems(__camel__.client!.outcome!, outcome), []);
    assert.deepEqual(statsProblems(__camel__.server!.stats!, server.stats()), []);
  } finally {
    await server.close();
  }
});
`;

const REFUSED = String.raw`
Deno.test("__kebab__ client reports a refused connection as ok: false", async () => {
  const listener = listenTcp();
  const port = listener.addr.port;
  listener.close();
  const outcome = await runClient(__camel__, { target: \`127.0.0.1:\${port}\`, count: 1 });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "refused");
  assert.equal(outcome.metrics.pongs, 0);
});
`;

const UNKNOWN_COMMAND = String.raw`
Deno.test("__kebab__ server answers an unknown command with an error line", async () => {
  const server = await startServer(__camel__, {});
  try {
    const port = (server.address as Deno.NetAddr).port;
    using conn = await connectTcp({ port });
    await conn.write(new TextEncoder().encode("HELLO\n"));
    const expected = "ERR unknown command\n";
    const reply = new Uint8Array(expected.length);
    assert.equal(await readFull(conn, reply, { timeout: 5000 }), expected.length);
    assert.equal(new TextDecoder().decode(reply), expected);
    assert.equal(server.stats().errors, 1);
  } finally {
    await server.close();
  }
});
`;

const CLIENT_PARAMS = String.raw`
Deno.test("__kebab__ client params reject a count of 0 with the field's path", () => {
  assert.throws(
    () => validateParams(__camel__ClientParams, { target: "127.0.0.1:7", count: 0 }),
    (error: unknown) => error instanceof ParamsError && error.issues[0].path[0] === "count",
  );
});
`;

const SERVER_PINGS = String
  .raw`Deno.test("__kebab__ server answers every PING with a PONG", async () => {
  const server = await startServer(__camel__, {});
  try {
    const port = (server.address as Deno.NetAddr).port;
    using conn = await connectTcp({ port });
    await conn.write(encoder.encode("PING\nPING\nPING\n"));
    const expected = "PONG\nPONG\nPONG\n";
    const replies = new Uint8Array(expected.length);
    assert.equal(await readFull(conn, replies, { timeout: 5000 }), expected.length);
    assert.equal(decoder.decode(replies), expected);
    assert.deepEqual(server.stats(), { connections: 1, pings: 3, errors: 0 });
    assert.deepEqual(statsProblems(__camel__Stats, server.stats()), []);
  } finally {
    await server.close();
  }
});
`;

const SERVER_PARAMS = String.raw`
Deno.test("__kebab__ server params reject a port beyond 65535 with the field's path", () => {
  assert.throws(
    () => validateParams(__camel__ServerParams, { port: 70_000 }),
    (error: unknown) => error instanceof ParamsError && error.issues[0].path[0] === "port",
  );
});
`;

// A client-only plugin talks to servers written elsewhere; its test stands
// in for one with a few lines on a real loopback listener.
const CLIENT_AGAINST_LISTENER = String
  .raw`Deno.test("__kebab__ client times a PONG for every PING over loopback", async () => {
  using listener = listenTcp();
  const pong = encodeLine("PONG");
  const serving = (async () => {
    using conn = await listener.accept({ timeout: 5000 });
    for await (const _line of readFrames(conn, new LineDecoder(), { timeout: 5000 })) {
      await conn.write(pong);
    }
  })();
  const target = \`127.0.0.1:\${listener.addr.port}\`;
  const outcome = await runClient(__camel__, { target, count: 20 });
  await serving;
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.pongs, 20);
  assert.ok(outcome.metrics.rtt_p99_ms >= outcome.metrics.rtt_p50_ms);
  assert.match(__camel__.client!.summary!(outcome), /^20 PINGs to 127\.0\.0\.1:\d+: 20 PONGs/);
  assert.deepEqual(outcomeProblems(__camel__.client!.outcome!, outcome), []);
});
`;
