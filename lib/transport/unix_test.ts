import assert from "node:assert/strict";
import { ConnectionError, TimeoutError } from "../errors.ts";
import { connectUnix, listenUnix } from "./unix.ts";
import { commandOutput, within } from "../../tests/_support/command.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface TempDir {
  path: string;
  [Symbol.asyncDispose](): Promise<void>;
}

async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "wiretest_unix_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

// A socket file nobody listens on, as a crashed server leaves behind (Deno
// itself removes the file when its listener closes).
async function staleSocket(path: string): Promise<void> {
  const { success, stderr } = await commandOutput("python3", {
    args: [
      "-c",
      "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.close()",
      path,
    ],
    stderr: "piped",
  });
  assert.ok(success, decoder.decode(stderr));
  assert.ok((await Deno.lstat(path)).isSocket);
}

Deno.test("connectUnix() round trips bytes with a listenUnix() listener", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/echo.sock`;
  using listener = listenUnix({ path });
  using client = await connectUnix({ path, timeout: 2000 });
  using server = await listener.accept({ timeout: 2000 });
  await client.write(encoder.encode("over unix"), { timeout: 2000 });
  const buf = new Uint8Array(32);
  const n = await server.read(buf, { timeout: 2000 });
  assert.equal(decoder.decode(buf.subarray(0, n!)), "over unix");
  assert.equal(client.transport, "unix");
  assert.equal(listener.transport, "unix");
  assert.deepEqual(listener.addr, { transport: "unix", path });
  const { connectStart, connectEnd } = client.timings;
  assert.ok(connectStart !== undefined && connectEnd !== undefined && connectStart <= connectEnd);
});

Deno.test("connectUnix() maps a missing path to ConnectionError not-found", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/missing.sock`;
  const err = await connectUnix({ path, timeout: 2000 }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof ConnectionError, String(err));
  assert.equal(err.code, "not-found");
  assert.equal(err.address, `unix:${path}`);
  assert.equal(err.message, `Cannot connect to unix:${path}: no such socket`);
});

Deno.test("connectUnix() maps a stale socket file to ConnectionError refused", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/stale.sock`;
  await staleSocket(path);
  await assert.rejects(connectUnix({ path, timeout: 2000 }), {
    name: "ConnectionError",
    code: "refused",
  });
});

Deno.test("connectUnix() rejects with the signal's reason when already aborted", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.sock`;
  using _listener = listenUnix({ path });
  const reason = new Error("not now");
  await assert.rejects(
    connectUnix({ path, signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
});

Deno.test("listenUnix() throws ConnectionError address-in-use when the path exists", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/taken.sock`;
  using _first = listenUnix({ path });
  assert.throws(() => listenUnix({ path }).close(), {
    name: "ConnectionError",
    code: "address-in-use",
    message: `Cannot listen on unix:${path}: address already in use`,
  });
});

Deno.test("listenUnix() with replace takes over a stale socket file", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/stale.sock`;
  await staleSocket(path);
  using listener = listenUnix({ path, replace: true });
  using client = await connectUnix({ path, timeout: 2000 });
  using _server = await listener.accept({ timeout: 2000 });
  assert.equal(client.closed, false);
});

Deno.test("listenUnix() removes its socket file when closed", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/gone.sock`;
  listenUnix({ path }).close();
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
});

Deno.test("listenUnix() with replace refuses to remove a regular file", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/not-a-socket`;
  await Deno.writeTextFile(path, "keep me");
  assert.throws(() => listenUnix({ path, replace: true }).close(), {
    name: "ConnectionError",
    code: "address-in-use",
    message: /it exists and is not a socket$/,
  });
  assert.equal(await Deno.readTextFile(path), "keep me");
});

Deno.test("Unix read() times out with TimeoutError and keeps later bytes", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/t.sock`;
  using listener = listenUnix({ path });
  using client = await connectUnix({ path, timeout: 2000 });
  using server = await listener.accept({ timeout: 2000 });
  const err = await within(
    client.read(new Uint8Array(8), { timeout: 50 }),
    5000,
    "the read to time out",
  )
    .then(() => null, (e: unknown) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.address, `unix:${path}`);
  await server.write(encoder.encode("later"));
  const buf = new Uint8Array(8);
  const n = await client.read(buf, { timeout: 2000 });
  assert.equal(decoder.decode(buf.subarray(0, n!)), "later");
});

Deno.test("Unix accept() times out with TimeoutError naming the socket path", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.sock`;
  using listener = listenUnix({ path });
  await assert.rejects(listener.accept({ timeout: 30 }), {
    name: "TimeoutError",
    message: `Cannot accept on unix:${path}: timed out after 30 ms`,
  });
});

Deno.test("Unix closeWrite() lets the peer read EOF and still write back", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/h.sock`;
  using listener = listenUnix({ path });
  using client = await connectUnix({ path, timeout: 2000 });
  using server = await listener.accept({ timeout: 2000 });
  await client.closeWrite();
  assert.equal(await server.read(new Uint8Array(4), { timeout: 2000 }), null);
  await server.write(encoder.encode("bye"));
  const buf = new Uint8Array(4);
  const n = await client.read(buf, { timeout: 2000 });
  assert.equal(decoder.decode(buf.subarray(0, n!)), "bye");
});

Deno.test("Unix setNoDelay() and setKeepAlive() do nothing and do not throw", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/o.sock`;
  using listener = listenUnix({ path });
  using client = await connectUnix({ path, timeout: 2000 });
  using _server = await listener.accept({ timeout: 2000 });
  client.setNoDelay(true);
  client.setKeepAlive(true);
  assert.equal(client.closed, false);
});
