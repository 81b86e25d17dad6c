// The echo server's memory per connection and its default cap: 2,000 clients
// that send a few bytes and hold must cost about 16 KiB each (README's
// budget; a 64 KiB buffer per connection made it 64 KiB), and the 10,000
// connections the default cap allows then fit an isolated plugin's 512 MiB.
import assert from "node:assert/strict";
import { echoServerParams } from "../../plugins/echo/params.ts";
import { validateParams } from "../../lib/plugin/params_schema.ts";
import { record, serveProcess, spawnLines } from "./_support/process.ts";

const PEER = new URL("./_support/http_client_peer.py", import.meta.url).pathname;

Deno.test("echo server: 2,000 held connections cost under 24 KiB each, in the server's own process", async () => {
  const count = 2000;
  // In this process, so its memory is the server's own.
  await using server = await serveProcess("echo", ["--no-isolation"]);
  const before = server.memory().rssKb;
  await using peer = spawnLines("python3", [
    "-u",
    PEER,
    "hold",
    JSON.stringify({ port: server.port, count, settle: 2 }),
  ]);
  assert.deepEqual(JSON.parse(await peer.nextLine(60_000)), { open: count, closed: 0 });
  const after = server.memory().rssKb;
  const perConnectionKb = (after - before) / count;
  record("echo server: RSS per held connection", { before, after, perConnectionKb });
  assert.ok(perConnectionKb < 24, `${perConnectionKb.toFixed(1)} KiB per connection`);
  const stats = await server.stop();
  assert.equal(stats.connections, count);
});

Deno.test("echo server: connections are capped at 10,000 unless told otherwise", () => {
  assert.equal(validateParams(echoServerParams, {}).maxConnections, 10_000);
});
