// file-send against programs we did not write: nc, socat and the seeds'
// Python send_file/receive_file (1 KiB chunks, bytes until EOF, no checksum).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { runFileSender, startFileReceiver } from "../../plugins/file_send/mod.ts";
import { freePort, ignoreWithout, spawnPeer, waitFor, waitForListen } from "../_support/peer.ts";
import { within } from "../_support/command.ts";

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
    await within(peer.process.status, 30_000, "the peer to exit");
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
    assert.equal((await within(peer.process.status, 30_000, "python3 to exit")).success, true);
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
      assert.equal((await within(peer.process.status, 30_000, "nc to exit")).success, true);
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
    await within(peer.process.status, 30_000, "socat to exit");
    assert.equal(sha256(await Deno.readFile(`${f.dir}/socat.bin`)), sha256(f.data));
  },
});

/** A framed send to a raw receiver: the error must say so, whoever closes. */
async function framedToRaw(port: number, file: string, idleTimeoutMs: number) {
  const outcome = await runFileSender({
    file,
    name: "framed.bin",
    target: `127.0.0.1:${port}`,
    idleTimeoutMs,
  });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "FileSendError");
  assert.equal(outcome.error?.code, "no-ack", outcome.error?.message);
  return outcome.error!.message;
}

// What a raw receiver stores of a framed send: header, body, trailer.
const framedSize = (size: number) => 15 + "framed.bin".length + size + 36;

Deno.test({
  name: "file-send framed sender to OpenBSD nc -l asks whether the receiver is in raw mode",
  ignore: ignoreWithout("nc"),
  async fn() {
    await using f = await fixture(200_000);
    const port = freePort();
    await using peer = spawnPeer("sh", ["-c", `nc -l 127.0.0.1 ${port} > "${f.dir}/nc.bin"`]);
    await waitForListen(port);
    // nc closes once the sender has nothing more to send: no idle timeout to wait out.
    const message = await framedToRaw(port, `${f.dir}/src.bin`, 20_000);
    assert.equal(
      message,
      `Cannot send file to 127.0.0.1:${port}: no acknowledgement before the connection closed — is the receiver in raw mode? (\`--mode raw\`)`,
    );
    await within(peer.process.status, 30_000, "nc to exit");
    assert.equal((await Deno.stat(`${f.dir}/nc.bin`)).size, framedSize(200_000));
  },
});

Deno.test({
  name:
    "file-send framed sender to socat writing to a file asks whether the receiver is in raw mode",
  ignore: ignoreWithout("socat"),
  async fn() {
    await using f = await fixture(300_000);
    const port = freePort();
    await using peer = spawnPeer("socat", [
      "-u",
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
      `CREATE:${f.dir}/socat.bin`,
    ]);
    await waitForListen(port);
    const message = await framedToRaw(port, `${f.dir}/src.bin`, 20_000);
    assert.match(
      message,
      /no acknowledgement before the connection closed — is the receiver in raw mode\? \(`--mode raw`\)$/,
    );
    await within(peer.process.status, 30_000, "socat to exit");
    assert.equal((await Deno.stat(`${f.dir}/socat.bin`)).size, framedSize(300_000));
  },
});

// A raw receiver that reads to the end and keeps the connection open.
const PY_READ_AND_HOLD = `
import socket, sys, time
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(1)
conn, _ = server.accept()
while conn.recv(65536):
    pass
time.sleep(30)
`;

Deno.test({
  name:
    "file-send framed sender to a raw receiver that stays connected asks after its idle timeout",
  ignore: ignoreWithout("python3"),
  async fn() {
    await using f = await fixture(10_000);
    const port = freePort();
    await using _ = spawnPeer("python3", ["-c", PY_READ_AND_HOLD, String(port)]);
    await waitForListen(port);
    const message = await framedToRaw(port, `${f.dir}/src.bin`, 500);
    assert.equal(
      message,
      `Cannot send file to 127.0.0.1:${port}: no acknowledgement within 500 ms — is the receiver in raw mode? (\`--mode raw\`)`,
    );
  },
});
