// The file receiver (`wiretest serve file-send`, a process of its own)
// under 100 concurrent senders and, at the same time, clients that connect
// and say nothing or reset: every file stored whole, no temporary file left,
// idle ones closed after the idle timeout, fds back to the baseline.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  eventually,
  record,
  runClientProcess,
  serveProcess,
  startHostile,
} from "./_support/process.ts";

const IDLE_MS = 4000;
const SIZE = 256 * 1024;

Deno.test("file receiver: 100 concurrent senders stored whole, abusers closed, fds back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-hostile-load-" });
  const source = await Deno.makeTempFile();
  try {
    await using server = await serveProcess("file-send", [
      "--dir",
      dir,
      "--idle-timeout-ms",
      String(IDLE_MS),
    ]);
    // The baseline is taken after a first transfer: start-up files are closed by then.
    await Deno.writeTextFile(source, "warm");
    const warm = await runClientProcess("file-send", {
      file: source,
      target: `127.0.0.1:${server.port}`,
      name: "warm.txt",
    });
    assert.equal(warm.outcome.ok, true, warm.outcome.error?.message);
    const baseFds = server.fds();
    const baseMem = server.memory();
    const started = performance.now();
    await using abusers = await startHostile("abusive-clients", {
      port: server.port,
      idle: 50,
      reset: 50,
    });
    await using senders = await startHostile("file-senders", {
      port: server.port,
      clients: 100,
      size: SIZE,
    });
    const sent = JSON.parse(await senders.nextLine(90_000));
    const abuse = JSON.parse(await abusers.nextLine(90_000));
    const back = await eventually(() => server.fds() <= baseFds, 10_000);
    const elapsed = performance.now() - started;
    const peak = server.memory();
    const stats = await server.stop();
    record("load: file receiver, 100 senders + 100 abusive", {
      ms: elapsed,
      serverBaseRssKb: baseMem.rssKb,
      serverHwmKb: peak.hwmKb,
      idleClosedMs: [Math.min(...abuse.idle_closed_ms), Math.max(...abuse.idle_closed_ms)],
      stats,
    });
    assert.deepEqual(sent, { ok: 100, refused: 0, errors: [] });
    const expected = new Uint8Array(SIZE).map((_, i) => i % 256);
    const digest = createHash("sha256").update(expected).digest("hex");
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.equal(
      names.length,
      101,
      `stored: ${names.length} (${names.filter((n) => n.startsWith("."))})`,
    );
    for (let i = 0; i < 100; i++) {
      const bytes = await Deno.readFile(`${dir}/f${i}.bin`);
      assert.equal(createHash("sha256").update(bytes).digest("hex"), digest, `f${i}.bin`);
    }
    // Every idle client was closed, and the receiver says why, once for each.
    assert.equal(abuse.idle_closed_ms.length, 50);
    const stalled = () =>
      server.stderr().split("\n").filter((line) =>
        line.includes(`warn: Cannot receive file: the sender stalled for ${IDLE_MS} ms`)
      ).length;
    assert.ok(
      await eventually(() => stalled() >= 50, 15_000),
      `${stalled()} stalled senders logged`,
    );
    assert.equal(stalled(), 50);
    assert.ok(back, `fds: more than the ${baseFds} open at start`);
    assert.equal(stats.files_received, 101);
    assert.ok(stats.rejected >= 50, `rejected ${stats.rejected}`);
    assert.ok(peak.hwmKb - baseMem.rssKb < 128 * 1024, `grew by ${peak.hwmKb - baseMem.rssKb} KiB`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(source);
  }
});
