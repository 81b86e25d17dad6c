// The V8 heap the exporter gives its plugin processes must leave V8 room:
// with 64 MiB, after about 2,000 http probes a process did an old-space
// collection every few milliseconds, one or more per probe, for good (a
// probe went from 1.1 to 7 ms; its live heap stayed at 10 MiB, no leak: V8
// kept finding its committed heap too close to the limit). Counted, not
// timed: the collections of 300 probes after 2,700, under the process's
// very V8 flags.
import assert from "node:assert/strict";
import { EXPORTER_PLUGIN_HEAP_MIB } from "../../lib/cli/exporter_command.ts";
import { processArgs } from "../../lib/plugin/_isolation_launch.ts";

Deno.test("exporter plugin processes' heap: 300 http probes after 2,700 cost few old-space collections", async () => {
  const v8Flags = processArgs({}, "/tmp/unused.sock", "unused.ts", EXPORTER_PLUGIN_HEAP_MIB)
    .filter((arg) => arg.startsWith("--v8-flags="))
    .map((arg) => arg.slice("--v8-flags=".length));
  assert.ok(v8Flags.some((flag) => flag.startsWith("--max-old-space-size=")), v8Flags.join(" "));
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--v8-flags=${[...v8Flags, "--trace-gc"].join(",")}`,
      new URL("../data/exporter/probe_loop.ts", import.meta.url).pathname,
      "2700",
      "300",
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const window = out.slice(out.indexOf("window start"), out.indexOf("window end"));
  assert.ok(window.length > 0, "the loop printed its window");
  const oldSpace = window.split("\n").filter((line) => line.includes("Mark-Compact")).length;
  // 64 MiB: 300-450 in this window; 128 MiB: 0-2.
  assert.ok(oldSpace < 30, `${oldSpace} old-space collections in 300 probes`);
});
