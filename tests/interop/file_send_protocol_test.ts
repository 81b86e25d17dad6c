// PROTOCOL.md put to the test: a Python sender and receiver written from that
// text alone (tests/_support/wtfs/, stdlib only) against wiretest's receiver
// and sender, both ways, for a stored file and for a refusal.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { runFileSender, startFileReceiver } from "../../plugins/file_send/mod.ts";
import { freePort, ignoreWithout, type Peer, spawnPeer, waitForListen } from "../_support/peer.ts";
import { within } from "../_support/command.ts";

const WTFS = new URL("../_support/wtfs/", import.meta.url).pathname;
const PY_SEND = `${WTFS}wtfs_send.py`;
const PY_RECEIVE = `${WTFS}wtfs_receive.py`;
const noPython = ignoreWithout("python3");

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function fixture(size: number) {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-wtfs-" });
  await Deno.mkdir(`${dir}/in`);
  const data = new Uint8Array(size);
  for (let off = 0; off < size; off += 65536) {
    crypto.getRandomValues(data.subarray(off, off + 65536));
  }
  await Deno.writeFile(`${dir}/src.bin`, data);
  return {
    dir,
    data,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The peer's exit code and JSON lines, or a failure after `ms` (it is killed on dispose). */
async function finished(peer: Peer, ms = 20_000) {
  const status = await within(peer.process.status, ms, "the Python peer to exit");
  const lines = (await peer.output()).trim().split("\n").filter((l) => l);
  return { code: status.code, results: lines.map((l) => JSON.parse(l)) };
}

Deno.test({
  name: "PROTOCOL.md: a Python sender written from it stores a file in wiretest's receiver",
  ignore: noPython,
  async fn() {
    await using f = await fixture(3 * 1024 * 1024 + 7);
    const receiver = await startFileReceiver({ dir: `${f.dir}/in` });
    try {
      const port = (receiver.address as Deno.NetAddr).port;
      await using peer = spawnPeer("python3", [
        PY_SEND,
        "127.0.0.1",
        String(port),
        `${f.dir}/src.bin`,
        "from-python.bin",
      ]);
      const { code, results: [result] } = await finished(peer);
      assert.equal(code, 0, JSON.stringify(result));
      assert.equal(result.ok, true);
      assert.equal(result.ack.bytes, f.data.length);
      assert.equal(result.ack.sha256, sha256(f.data));
      assert.equal(sha256(await Deno.readFile(`${f.dir}/in/from-python.bin`)), sha256(f.data));
      assert.equal(receiver.stats().files_received, 1);
    } finally {
      await receiver.close();
    }
  },
});

Deno.test({
  name: "PROTOCOL.md: wiretest's receiver refuses the Python sender an existing name",
  ignore: noPython,
  async fn() {
    await using f = await fixture(64 * 1024 * 1024);
    await Deno.writeTextFile(`${f.dir}/in/taken.bin`, "mine");
    const receiver = await startFileReceiver({ dir: `${f.dir}/in` });
    try {
      const port = (receiver.address as Deno.NetAddr).port;
      await using peer = spawnPeer("python3", [
        PY_SEND,
        "127.0.0.1",
        String(port),
        `${f.dir}/src.bin`,
        "taken.bin",
      ]);
      const { code, results: [result] } = await finished(peer);
      assert.equal(code, 1);
      assert.equal(result.code, "exists", JSON.stringify(result));
      assert.equal(result.ack.ok, false);
      // The refusal follows the header: the sender stops long before the end.
      assert.ok(result.sent < f.data.length, `sent ${result.sent} bytes`);
      assert.equal(await Deno.readTextFile(`${f.dir}/in/taken.bin`), "mine");
    } finally {
      await receiver.close();
    }
  },
});

Deno.test({
  name: "PROTOCOL.md: wiretest's sender stores a file in a Python receiver written from it",
  ignore: noPython,
  async fn() {
    await using f = await fixture(2 * 1024 * 1024 + 3);
    const port = freePort();
    await using peer = spawnPeer("python3", [PY_RECEIVE, String(port), `${f.dir}/in`]);
    await waitForListen(port);
    const outcome = await runFileSender({
      file: `${f.dir}/src.bin`,
      name: "from-wiretest.bin",
      target: `127.0.0.1:${port}`,
      idleTimeoutMs: 10_000,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    const { results: [ack] } = await finished(peer);
    assert.deepEqual(ack, {
      ok: true,
      message: 'stored "from-wiretest.bin"',
      bytes: f.data.length,
      sha256: sha256(f.data),
    });
    assert.deepEqual(outcome.facts.ack, ack);
    assert.equal(outcome.facts.sha256, sha256(f.data));
    assert.equal(sha256(await Deno.readFile(`${f.dir}/in/from-wiretest.bin`)), sha256(f.data));
  },
});

Deno.test({
  name: "PROTOCOL.md: wiretest's sender reports the Python receiver's refusals",
  ignore: noPython,
  async fn() {
    await using f = await fixture(1000);
    await Deno.writeTextFile(`${f.dir}/in/taken.bin`, "mine");
    const port = freePort();
    // Two transfers: an existing name, then a file over the 500-byte limit.
    await using peer = spawnPeer("python3", [PY_RECEIVE, String(port), `${f.dir}/in`, "500", "2"]);
    await waitForListen(port);
    await Deno.writeTextFile(`${f.dir}/small.bin`, "small");
    const send = (name: string, file: string) =>
      runFileSender({
        file,
        name,
        target: `127.0.0.1:${port}`,
        idleTimeoutMs: 10_000,
      });
    const taken = await send("taken.bin", `${f.dir}/small.bin`);
    assert.equal(taken.ok, false);
    assert.equal(taken.error?.code, "exists", taken.error?.message);
    const big = await send("big.bin", `${f.dir}/src.bin`);
    assert.equal(big.error?.code, "too-large", big.error?.message);
    const { results } = await finished(peer);
    assert.deepEqual(results.map((r) => r.code), ["exists", "too-large"]);
    assert.equal(await Deno.readTextFile(`${f.dir}/in/taken.bin`), "mine");
    assert.deepEqual([...Deno.readDirSync(`${f.dir}/in`)].map((e) => e.name), ["taken.bin"]);
  },
});
