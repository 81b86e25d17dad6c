// file-send against programs we did not write: nc, socat and the seeds'
// Python send_file/receive_file (1 KiB chunks, bytes until EOF, no checksum).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { runFileSender, startFileReceiver } from "../../plugins/file_send/mod.ts";
import { freePort, ignoreWithout, spawnPeer, waitFor, waitForListen } from "../_support/peer.ts";

// The seeds' programs, shared with bench/rows/file_send.ts.
const SEEDS = new URL("../_support/seeds/", import.meta.url).pathname;
const PY_RECEIVE_FILE = `${SEEDS}receive_file.py`;
const PY_SEND_FILE = `${SEEDS}send_file.py`;

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function fixture(size: number) {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-interop-" });
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

Deno.test({
  name: "file-send raw sender delivers a file to the seeds' Python receive_file",
  async fn() {
    await using f = await fixture(300_000);
    const port = freePort();
    await using peer = spawnPeer("python3", [PY_RECEIVE_FILE, String(port), `${f.dir}/out`]);
    // The peer accepts exactly once: wait for its socket without connecting.
    await waitForListen(port);
    const outcome = await runFileSender({
      file: `${f.dir}/src.bin`,
      target: `127.0.0.1:${port}`,
      mode: "raw",
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    await peer.process.status;
    assert.equal(sha256(await Deno.readFile(`${f.dir}/out`)), outcome.facts.sha256);
    assert.equal(outcome.facts.sha256, sha256(f.data));
  },
});

Deno.test("file-send raw receiver stores what the seeds' Python send_file sends", async () => {
  await using f = await fixture(250_001);
  const receiver = await startFileReceiver({ dir: f.dir, mode: "raw", rawName: "from-python.bin" });
  try {
    const port = (receiver.address as Deno.NetAddr).port;
    await using peer = spawnPeer("python3", [PY_SEND_FILE, String(port), `${f.dir}/src.bin`]);
    assert.equal((await peer.process.status).success, true);
    await waitFor(() => receiver.stats().files_received === 1, "the receiver to store the file");
    assert.equal(sha256(await Deno.readFile(`${f.dir}/from-python.bin`)), sha256(f.data));
  } finally {
    await receiver.close();
  }
});

Deno.test({
  name: "file-send raw receiver stores what nc sends",
  ignore: ignoreWithout("nc"),
  async fn() {
    await using f = await fixture(100_000);
    const receiver = await startFileReceiver({ dir: f.dir, mode: "raw", rawName: "from-nc.bin" });
    try {
      const port = (receiver.address as Deno.NetAddr).port;
      await using peer = spawnPeer("sh", ["-c", `nc -N 127.0.0.1 ${port} < "${f.dir}/src.bin"`]);
      assert.equal((await peer.process.status).success, true);
      await waitFor(() => receiver.stats().files_received === 1, "the receiver to store the file");
      assert.equal(sha256(await Deno.readFile(`${f.dir}/from-nc.bin`)), sha256(f.data));
    } finally {
      await receiver.close();
    }
  },
});

Deno.test({
  name: "file-send raw sender delivers a file to socat writing to a file",
  ignore: ignoreWithout("socat"),
  async fn() {
    await using f = await fixture(500_000);
    const port = freePort();
    await using peer = spawnPeer("socat", [
      "-u",
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
      `CREATE:${f.dir}/socat.bin`,
    ]);
    // socat accepts once: probe readiness by polling for its listening socket.
    await waitForListen(port);
    const outcome = await runFileSender({
      file: `${f.dir}/src.bin`,
      target: `127.0.0.1:${port}`,
      mode: "raw",
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    await peer.process.status;
    assert.equal(sha256(await Deno.readFile(`${f.dir}/socat.bin`)), sha256(f.data));
  },
});
