// `fail` (curl's --fail): a status of 400 or more fails the probe, with
// the response still reported; against our responder, Python's
// http.server, and through the CLI.
import assert from "node:assert/strict";
import { freePort, hasProgram, spawnPeer, waitForTcp } from "../../tests/_support/peer.ts";
import { runHttpProbe, startHttpServer } from "./mod.ts";

const MAIN = new URL("../../lib/cli/main.ts", import.meta.url).pathname;

Deno.test("probeHttp() with fail turns a 404 into HttpStatusError and keeps the response", async () => {
  const server = await startHttpServer({ status: 404, body: "no such page" });
  try {
    const { port } = server.address as Deno.NetAddr;
    const url = `http://127.0.0.1:${port}/missing`;
    const outcome = await runHttpProbe({ url, fail: true });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, "HttpStatusError");
    assert.equal(outcome.error?.code, "http-status");
    assert.match(outcome.error!.message, /status 404 "Not Found" is 400 or more/);
    assert.equal(outcome.metrics.status, 404);
    assert.equal(outcome.metrics.body_bytes, 12);
    assert.equal(outcome.facts.body_text, "no such page");
    assert.equal(outcome.facts.status, 404);
    // Without fail, a 404 is an observation, not a failure.
    const plain = await runHttpProbe({ url });
    assert.equal(plain.ok, true, plain.error?.message);
    assert.equal(plain.metrics.status, 404);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() with fail accepts statuses below 400 and checks every repeat", async () => {
  let served = 0;
  // 200, 399, then 500: only the third request is a failure.
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("x", { status: [200, 399, 500][Math.min(served++, 2)] }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const two = await runHttpProbe({ url, fail: true, repeat: 2 });
  assert.equal(two.ok, true, two.error?.message);
  served = 0;
  const three = await runHttpProbe({ url, fail: true, repeat: 3 });
  assert.equal(three.ok, false);
  assert.equal(three.error?.code, "http-status");
  assert.match(three.error!.message, /status 500/);
  // The metrics describe the first request, which succeeded.
  assert.equal(three.metrics.status, 200);
  assert.equal(three.metrics.requests, 3);
});

Deno.test({
  name: "wiretest probe --fail exits 1 on a 404 from Python's http.server, 0 without it",
  ignore: !hasProgram("python3"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-fail-" });
    try {
      await Deno.writeTextFile(`${dir}/here.txt`, "here\n");
      const port = freePort();
      await using _python = spawnPeer("python3", [
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        "--directory",
        dir,
        String(port),
      ]);
      await waitForTcp(port);
      const probe = async (...args: string[]) => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", MAIN, "probe", ...args],
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1" },
          signal: AbortSignal.timeout(30_000),
        }).output();
        const text = new TextDecoder();
        return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
      };
      const missing = `http://127.0.0.1:${port}/missing.txt`;
      const failed = await probe(missing, "--fail");
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stdout, / 404 File not found/);
      assert.equal(failed.stderr.trim().split("\n").length, 1);
      assert.match(
        failed.stderr,
        /^error: Cannot accept response from ".*\/missing\.txt": status 404/,
      );
      const json = await probe(missing, "--fail", "--json");
      assert.equal(json.code, 1);
      const outcome = JSON.parse(json.stdout);
      assert.equal(outcome.error.code, "http-status");
      assert.equal(outcome.metrics.status, 404);
      const passed = await probe(missing);
      assert.equal(passed.code, 0, passed.stderr);
      const found = await probe(`http://127.0.0.1:${port}/here.txt`, "--fail");
      assert.equal(found.code, 0, found.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
