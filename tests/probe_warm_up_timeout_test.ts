// A one-shot probe warms itself up (three loopback exchanges of its own)
// before its clock starts; its timeoutMs is the target's, so the warm-up's
// time must not be charged to it. A probe of a target that answers in a
// millisecond or two, with a 15 ms timeout, in a new process (where the
// warm-up's first exchange is slowest), used to time out "connecting" to
// the target.
import assert from "node:assert/strict";
import { deno, MAIN } from "./_support/deno_process.ts";

for (const isolation of [[], ["--no-isolation"]]) {
  Deno.test(
    `wiretest probe --timeout-ms 15 ${isolation.join(" ")}: the warm-up's time is not the target's`
      .trimEnd(),
    async () => {
      await using server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        () => new Response("ok"),
      );
      const url = `http://127.0.0.1:${server.addr.port}/`;
      const r = await deno([
        "run",
        "-A",
        MAIN,
        "probe",
        url,
        "--timeout-ms",
        "15",
        "--json",
        ...isolation,
      ], {
        timeoutMs: 60_000,
      });
      const outcome = JSON.parse(r.stdout);
      assert.equal(outcome.error, undefined, r.stdout);
      assert.equal(outcome.ok, true);
      assert.equal(outcome.metrics.status, 200);
      // Whether it ran in time or not, the fact says so.
      assert.ok(
        ["loopback-exchange", "none"].includes(outcome.facts.warm_up),
        outcome.facts.warm_up,
      );
      assert.equal(r.code, 0);
    },
  );
}
