// http-probe as load: a keep-alive connection per VU, opened again when the
// server closes it, one request per iteration.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkLoadPlan, pluginSessions, runLoad } from "../../lib/load/mod.ts";
import { freePort, spawnPeer, waitForTcp } from "../../tests/_support/peer.ts";
import httpProbe, { startHttpServer } from "./mod.ts";

const CLOSE_EVERY = fileURLToPath(
  new URL("../../tests/data/load/http_close_every.py", import.meta.url),
);
const STATUS_SEQUENCE = fileURLToPath(
  new URL("../../tests/data/load/http_status_sequence.py", import.meta.url),
);

Deno.test("http-probe load: one keep-alive connection per VU, one request per iteration", async () => {
  const server = await startHttpServer({ body: "hello" });
  try {
    const { port } = server.address as Deno.NetAddr;
    const report = await runLoad(
      pluginSessions(httpProbe, { url: `http://127.0.0.1:${port}/` }),
      checkLoadPlan({ vus: 3, iterations: 90 }),
    );
    assert.equal(report.errors, 0);
    assert.equal(report.iterations, 90);
    assert.equal(server.stats().requests, 90);
    assert.equal(server.stats().connections, 3);
    assert.equal(report.latency.count, 90);
  } finally {
    await server.close();
  }
});

Deno.test("http-probe load: a server closing every 5th response gets a new connection, no request lost", async () => {
  const port = freePort();
  const peer = spawnPeer("python3", [CLOSE_EVERY, String(port), "5"]);
  let report;
  try {
    await waitForTcp(port);
    report = await runLoad(
      pluginSessions(httpProbe, { url: `http://127.0.0.1:${port}/`, timeoutMs: 5000 }),
      checkLoadPlan({ vus: 1, iterations: 23 }),
    );
  } finally {
    await peer[Symbol.asyncDispose]();
  }
  const lines = (await peer.output()).trim().split("\n");
  assert.equal(report.errors, 0, JSON.stringify(report.errorsByType));
  assert.equal(report.iterations, 23);
  assert.equal(lines.filter((l) => l === "req").length, 23);
  // 5 + 5 + 5 + 5 + 3, one connection each (waitForTcp's probe is one more).
  assert.equal(lines.filter((l) => l === "conn").length, 5 + 1);
});

Deno.test("http-probe load: with fail, a 500 is an error counted by type", async () => {
  const server = await startHttpServer({ status: 500 });
  try {
    const { port } = server.address as Deno.NetAddr;
    const report = await runLoad(
      pluginSessions(httpProbe, { url: `http://127.0.0.1:${port}/`, fail: true }),
      checkLoadPlan({ vus: 1, iterations: 3 }),
    );
    assert.equal(report.errors, 3);
    assert.deepEqual(Object.keys(report.errorsByType), ["http-status"]);
  } finally {
    await server.close();
  }
});

Deno.test("http-probe load: a server that never answers fails each iteration with a TimeoutError after timeoutMs", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const report = await runLoad(
      pluginSessions(httpProbe, { url: `http://127.0.0.1:${listener.addr.port}/`, timeoutMs: 100 }),
      checkLoadPlan({ vus: 2, iterations: 4 }),
    );
    assert.equal(report.iterations, 4);
    assert.deepEqual({ ...report.errorsByType }, { TimeoutError: 4 });
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("http-probe load: a head differing only in its status on a kept-alive connection is checked anew", async () => {
  // Same-length heads: "HTTP/1.1 200 OK" then "HTTP/1.1 500 OK" on the
  // connection that carried two 200s; a head reused by length, or without
  // comparing its bytes, would count the 500 as a pass.
  const port = freePort();
  const peer = spawnPeer("python3", [STATUS_SEQUENCE, String(port), "200,200,500,500,200,200"]);
  let report;
  try {
    await waitForTcp(port);
    report = await runLoad(
      pluginSessions(httpProbe, { url: `http://127.0.0.1:${port}/`, fail: true, timeoutMs: 5000 }),
      checkLoadPlan({ vus: 1, iterations: 6 }),
    );
  } finally {
    await peer[Symbol.asyncDispose]();
  }
  const answered = (await peer.output()).trim().split("\n").filter((l) => l.startsWith("req"));
  assert.deepEqual(answered, ["req 200", "req 200", "req 500", "req 500", "req 200", "req 200"]);
  assert.equal(report.iterations, 6);
  assert.deepEqual({ ...report.errorsByType }, { "http-status": 2 });
});
