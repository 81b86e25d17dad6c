import assert from "node:assert/strict";
import { escapeOutput, MAX_LINE_CHARS, ResidentMemory, residentMiB } from "./_isolation_output.ts";

Deno.test("escapeOutput() shows control characters, C1 controls and bidi overrides as escapes", () => {
  assert.equal(
    escapeOutput("\x1b[2J\x1b]0;title\x07a\rb\x9b\u202etxt\u2028\tok"),
    "\\x1b[2J\\x1b]0;title\\x07a\\x0db\\x9b\\u202etxt\\u2028\tok",
  );
});

Deno.test("escapeOutput() cuts a line at MAX_LINE_CHARS characters", () => {
  const line = escapeOutput("y".repeat(MAX_LINE_CHARS + 10));
  assert.equal(line, `${"y".repeat(MAX_LINE_CHARS)}…`);
});

Deno.test({
  name: "ResidentMemory reads a live process's memory again and again, and nothing once it ended",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "const a = new Uint8Array(48 << 20).fill(1); await new Promise((ok) => setTimeout(ok, 20_000)); console.log(a[0]);",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const memory = new ResidentMemory(child.pid);
    try {
      // Read through the one file as the child grows: its 48 MiB shows up
      // (within 20 s: a loaded machine may take seconds to start it).
      let peak = 0;
      for (let i = 0; i < 400 && peak < 48; i++) {
        peak = memory.read("VmHWM") ?? 0;
        await new Promise((ok) => setTimeout(ok, 50));
      }
      assert.ok(peak >= 48, `peak ${peak} MiB`);
      const byPath = residentMiB(child.pid, "VmHWM")!;
      assert.equal(memory.read("VmHWM"), byPath);
      assert.ok(memory.read("VmRSS")! > 0);
      child.kill("SIGKILL");
      await child.status;
      // Ended: its file reads nothing (a reused pid is never read through it).
      assert.equal(memory.read("VmHWM"), undefined);
    } finally {
      memory.close();
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
      await child.status;
    }
  },
});
