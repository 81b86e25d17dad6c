// README's Load section, run: its sessions' commands, with wiretest on PATH
// (a wrapper of this checkout's CLI) against the echo server the section
// starts, each output line matched (numbers that vary are any numbers).
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { MAIN, ROOT, run } from "./_support/deno_process.ts";
import { freePort, waitForTcp } from "./_support/peer.ts";

import { loadFiles, loadSessions } from "./_support/readme_load_sessions.ts";

// What varies from run to run: decimals (times, rates, percentiles).
function linePattern(line: string): RegExp {
  const parts = line.split(/(\d+\.\d+)/).map((part, i) =>
    i % 2 === 0 ? part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : "\\d+\\.\\d+"
  );
  return new RegExp(`^${parts.join("")}$`);
}

Deno.test("README Load: the sessions run as shown", async () => {
  const sessions = loadSessions();
  assert.equal(sessions.length, 3);
  // The fixture form: its files are written where the sessions run.
  const files = loadFiles();
  assert.deepEqual(Object.keys(files), ["load.wire.yaml", "strict.wire.yaml"]);
  const [first, ...others] = sessions;
  assert.ok(first[0].command.startsWith("wiretest serve echo --port 7011"));
  const dir = await Deno.makeTempDir({ prefix: "wiretest-load-readme-" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    join(bin, "wiretest"),
    `#!/bin/sh\nexec "${Deno.execPath()}" run -A --config "${ROOT}/deno.json" "${MAIN}" "$@"\n`,
    { mode: 0o755 },
  );
  const port = String(freePort());
  const mapped = (text: string) => text.replaceAll("7011", port);
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "echo", "--port", port],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const killer = setTimeout(() => server.kill("SIGKILL"), 240_000);
  try {
    await waitForTcp(Number(port), 30_000);
    for (const step of [...first.slice(1), ...others.flat()]) {
      const command = mapped(step.command);
      const r = await run("sh", ["-c", `(${command}) 2>&1`], {
        cwd: dir,
        env: { PATH: `${bin}:${dirname(Deno.execPath())}:${Deno.env.get("PATH")}` },
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, `$ ${command}\n${r.stdout}`);
      const lines = r.stdout.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, step.output.length, `$ ${command} printed:\n${r.stdout}`);
      lines.forEach((line, i) =>
        assert.match(line, linePattern(step.output[i]), `$ ${command} printed\n  ${line}`)
      );
    }
  } finally {
    server.kill("SIGTERM");
    await server.status;
    clearTimeout(killer);
    await Deno.remove(dir, { recursive: true });
  }
});
