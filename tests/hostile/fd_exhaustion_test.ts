// Our stream servers run out of file descriptors (a process limit of 40,
// and more clients than that): each must keep its accept loop alive, say so
// once, and serve the next client once connections end.
import assert from "node:assert/strict";
import {
  eventually,
  record,
  runClientProcess,
  serveProcess,
  type ServerProcess,
} from "./_support/process.ts";

const LIMIT = 40;
const CLIENTS = 30;

/** Holds CLIENTS idle connections until the server hits EMFILE, then closes them. */
async function exhaust(server: ServerProcess): Promise<number> {
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) conns.push(await Deno.connect({ port: server.port }));
    const hit = await eventually(() => /Too many open files/.test(server.stderr()), 10_000);
    assert.ok(hit, `the server never ran out of file descriptors: ${server.stderr()}`);
    return performance.now();
  } finally {
    for (const conn of conns) conn.close();
  }
}

function warnings(server: ServerProcess): number {
  return server.stderr().match(/Too many open files/g)?.length ?? 0;
}

/**
 * The server said so at least once, and once per run of failed accepts
 * (a run ends with an accept that works), not at every retry.
 */
function assertWarnedOncePerRun(server: ServerProcess, stats: Record<string, number>): void {
  const n = warnings(server);
  assert.ok(n >= 1, "no warning about the failed accepts");
  assert.ok(n <= stats.connections + 1, `${n} warnings for ${stats.connections} accepted`);
}

Deno.test("echo server keeps accepting after running out of file descriptors", async () => {
  await using server = await serveProcess("echo", [], { nofile: LIMIT });
  const freed = await exhaust(server);
  const { outcome } = await runClientProcess("echo", { target: `127.0.0.1:${server.port}` });
  record("fd exhaustion: echo server", {
    ms: performance.now() - freed,
    warnings: warnings(server),
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assertWarnedOncePerRun(server, await server.stop());
});

Deno.test("http responder keeps accepting after running out of file descriptors", async () => {
  await using server = await serveProcess("http-probe", [], { nofile: LIMIT });
  const freed = await exhaust(server);
  const { outcome } = await runClientProcess("http-probe", {
    url: `http://127.0.0.1:${server.port}/`,
  });
  record("fd exhaustion: http responder", {
    ms: performance.now() - freed,
    warnings: warnings(server),
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assertWarnedOncePerRun(server, await server.stop());
});

Deno.test("file receiver keeps accepting after running out of file descriptors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-hostile-fd-" });
  const source = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(source, "after the storm");
    await using server = await serveProcess("file-send", [
      "--dir",
      dir,
      "--idle-timeout-ms",
      "1000",
    ], {
      nofile: LIMIT,
    });
    const freed = await exhaust(server);
    const { outcome } = await runClientProcess("file-send", {
      file: source,
      target: `127.0.0.1:${server.port}`,
      name: "after.txt",
    });
    record("fd exhaustion: file receiver", {
      ms: performance.now() - freed,
      warnings: warnings(server),
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(await Deno.readTextFile(`${dir}/after.txt`), "after the storm");
    assertWarnedOncePerRun(server, await server.stop());
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(source);
  }
});
