// Ctrl-C on a terminal sends SIGINT to the whole foreground process group:
// the CLI and the plugin processes it started. The service must still close
// through the CLI and report its stats, isolated as without isolation.
import assert from "node:assert/strict";
import { MAIN } from "./_support/deno_process.ts";

async function ctrlC(isolation: string[]): Promise<Record<string, unknown>> {
  // setsid: a process group of its own, as a shell gives a foreground job.
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "run", "-A", MAIN, "serve", "echo", "--json", ...isolation],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // already ended
    }
  }, 60_000);
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    const listening = JSON.parse(text.split("\n")[0]);
    const [host, port] = [
      listening.address.replace(/:\d+$/, ""),
      Number(/\d+$/.exec(listening.address)),
    ];
    const conn = await Deno.connect({ hostname: host, port });
    await conn.write(new TextEncoder().encode("hello"));
    const echoed = new Uint8Array(5);
    let got = 0;
    while (got < 5) {
      const n = await conn.read(echoed.subarray(got));
      assert.ok(n !== null, "the echo server closed early");
      got += n;
    }
    conn.close();
    Deno.kill(-child.pid, "SIGINT");
    for (;;) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    await child.stderr.cancel();
    const status = await child.status;
    assert.equal(status.code, 0, text);
    const closed = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.equal(closed.event, "closed");
    return closed.stats;
  } finally {
    clearTimeout(killer);
  }
}

Deno.test("wiretest serve: Ctrl-C to the process group still closes the isolated service and prints its stats", async () => {
  const stats = await ctrlC([]);
  assert.equal(stats.connections, 1);
  assert.equal(stats.bytes_in, 5);
  assert.equal(stats.bytes_out, 5);
});

Deno.test("wiretest serve --no-isolation: Ctrl-C to the process group prints the stats", async () => {
  const stats = await ctrlC(["--no-isolation"]);
  assert.equal(stats.connections, 1);
  assert.equal(stats.bytes_in, 5);
});
