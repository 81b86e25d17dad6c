// A third-party plugin's code shares its process with the code that answers
// the host, and can write frames of its own on the socket (Deno's internals
// are reachable from plugin code): replies whose outcome is not an outcome,
// JSON nested past what any reporter can print, bytes that are no frame and
// a frame announcing 4 GiB, a service address that is none. Each fails its
// run with one typed line; none is passed on as a result (a false pass) or
// crashes the CLI.
import assert from "node:assert/strict";
import { loadManifest } from "../../lib/plugin/manifest.ts";
import { startIsolatedServer } from "../../lib/plugin/isolation.ts";
import { deno, MAIN, ROOT } from "../_support/deno_process.ts";

const MANIFEST = `${ROOT}/tests/fixtures/frame_forger/manifest.json`;
const forge = (kind: string) =>
  deno(
    ["run", "-A", MAIN, "run", "frame-forger", "--forge", kind, "--json", "--plugins", MANIFEST],
    {
      timeoutMs: 60_000,
    },
  );

for (
  const [kind, field] of [
    ["null-outcome", "outcome"],
    ["string-metric", "metrics.round_trips"],
    ["bad-ok", "ok"],
    ["bad-error", "error.message"],
    ["deep-json", "facts"],
  ] as const
) {
  Deno.test(`wiretest run: a forged outcome (${kind}) fails the run, typed, naming "${field}"`, async () => {
    const r = await forge(kind);
    assert.equal(r.code, 1, r.stderr);
    const outcome = JSON.parse(r.stdout);
    assert.equal(outcome.ok, false);
    assert.deepEqual(outcome.metrics, {});
    assert.equal(outcome.error.name, "TypeError");
    assert.equal(
      outcome.error.message,
      `Cannot run plugin "frame-forger": its process sent a malformed outcome ("${field}")`,
    );
  });
}

Deno.test("wiretest run: a forged outcome with __proto__ keys pollutes no prototype", async () => {
  const r = await forge("proto");
  const outcome = JSON.parse(r.stdout);
  // "__proto__" holds an object, not a number: not a metric.
  assert.equal(outcome.ok, false, r.stdout);
  assert.match(outcome.error.message, /malformed outcome \("metrics\.__proto__"\)/);
  assert.equal(r.code, 1);
});

Deno.test("wiretest run: a frame announcing 4 GiB or not JSON fails the run with a TypeError, one message", async () => {
  for (
    const [kind, message] of [
      ["huge-length", /announces 4294967295 bytes, more than the 67108864 allowed/],
      ["bad-json", /in JSON at position 1/],
    ] as const
  ) {
    const r = await forge(kind);
    assert.equal(r.code, 1, r.stderr);
    const outcome = JSON.parse(r.stdout);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error.name, "TypeError");
    assert.match(outcome.error.message, /^Cannot run plugin "frame-forger": /);
    assert.match(outcome.error.message, message);
  }
});

Deno.test("startIsolatedServer(): a forged service address fails the start, typed, naming the field", async () => {
  const manifest = await loadManifest(MANIFEST);
  const entry = manifest.plugins.find((p) => p.name === "frame-forger")!;
  for (
    const [forge, field] of [
      ["null-address", "address"],
      ["string-port", "port"],
      ["big-port", "port"],
      ["no-path", "path"],
    ] as const
  ) {
    await assert.rejects(
      startIsolatedServer(entry, { forge }),
      (error: Error) => {
        assert.equal(error.name, "TypeError", String(error));
        assert.equal(
          error.message,
          `Cannot start plugin "frame-forger": its process sent a malformed address ("${field}")`,
        );
        return true;
      },
    );
  }
});
