// A failed client command prints its summary on stdout and its error once, on
// stderr: udp-ping's summary line "Cannot ping…" and http-probe's "failed: …"
// repeated the error on stdout, so a terminal showed it twice.
import assert from "node:assert/strict";
import { deno, MAIN, type Ran } from "./_support/deno_process.ts";

/** The CLI as a subprocess, bounded in time (tests/_support/deno_process.ts). */
function wiretest(...args: string[]): Promise<Ran> {
  return deno(["run", "-A", MAIN, ...args], { timeoutMs: 60_000 });
}

Deno.test("wiretest ping against a silent port prints the error once, on stderr", async () => {
  // Bound and never answering: every ping is lost.
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = silent.addr as Deno.NetAddr;
    const run = await wiretest("ping", `127.0.0.1:${port}`, "--count", "2", "--timeout-ms", "200");
    assert.equal(run.code, 1, run.stdout + run.stderr);
    // The I/O path and clock end the line (libc where FFI for it is granted, as on Linux).
    assert.match(
      run.stdout,
      new RegExp(
        `^2 pings to 127\\.0\\.0\\.1:${port}: 0 received, 100\\.0% lost \\(0 late\\); io (libc, clock kernel-rx|deno, clock performance\\.now)\n$`,
      ),
    );
    assert.equal(
      run.stderr,
      `error: Cannot ping "127.0.0.1:${port}": none of 2 pings was answered within 200 ms\n`,
    );
  } finally {
    silent.close();
  }
});

Deno.test("wiretest probe --fail on a 404 prints the error once, on stderr", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("nope", { status: 404 }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/missing`;
  const run = await wiretest("probe", url, "--fail");
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, new RegExp(`^GET ${url} 404 Not Found: 4 B in `));
  assert.doesNotMatch(run.stdout, /Cannot accept|failed:/);
  assert.equal(
    run.stderr,
    `error: Cannot accept response from "${url}": status 404 "Not Found" is 400 or more (fail is set)\n`,
  );
});
