// file-send against hostile senders and receivers, with the wiretest side in
// a process of its own (`wiretest serve file-send`, or a sender in a child):
// every transfer that goes wrong leaves no file and no partial file, never
// replaces an existing file, and both sides say what happened.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { freePort, spawnPeer, waitForListen } from "../_support/peer.ts";
import {
  eventually,
  type HostilePeer,
  record,
  runClientProcess,
  runClientProcesses,
  serveProcess,
  type ServerProcess,
  startHostile,
} from "./_support/process.ts";
import { outputWithin } from "../_support/command.ts";

const IDLE_MS = 1000;
// The receivers' own: a sender held or paced by these tests (a kill, a race
// with a file made mid-transfer) stays silent longer than 1 s when a loaded
// machine stalls the test, and was then cut as stalled instead.
const RECEIVER_IDLE_MS = 5000;

interface Answer {
  event: "answer" | "error" | "sent";
  bytes: number;
  ms: number;
  ok?: boolean;
  ack?: { ok: boolean; code?: string; message: string } | null;
  error?: string;
}

/** A receiver process in a fresh directory, with what it logged. */
async function receiver(flags: string[] = [], dir?: string) {
  const where = dir ?? await Deno.makeTempDir({ prefix: "wiretest-hostile-recv-" });
  const server = await serveProcess("file-send", [
    "--dir",
    where,
    "--idle-timeout-ms",
    String(RECEIVER_IDLE_MS),
    ...flags,
  ]);
  return Object.assign(server, {
    dir: where,
    async [Symbol.asyncDispose]() {
      server.kill("SIGKILL");
      await server.status;
      if (dir === undefined) await Deno.remove(where, { recursive: true });
    },
  });
}

/** Runs the hand-made sender of hostile_peer.py against `port` and returns its report. */
async function hostileSend(port: number, options: Record<string, unknown>): Promise<Answer> {
  await using peer = await startHostile("file-sender", { port, ...options });
  return JSON.parse(await peer.nextLine(20_000)) as Answer;
}

/** Like {@linkcode hostileSend} for several transfers, one after another, from one process. */
async function hostileSends(port: number, jobs: Record<string, unknown>[]): Promise<Answer[]> {
  await using peer = await startHostile("file-sender", { port, jobs });
  const answers: Answer[] = [];
  for (const _ of jobs) answers.push(JSON.parse(await peer.nextLine(20_000)) as Answer);
  return answers;
}

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/** Checks the receiver refused with `code`, stored nothing and is still within bounds. */
/**
 * The receiver logged a line matching `pattern`. Its stderr reaches the test
 * through a pipe, so the line may trail the sender's answer: wait for it.
 */
async function assertLogged(server: { stderr(): string }, pattern: RegExp): Promise<void> {
  await eventually(() => pattern.test(server.stderr()), 15_000);
  assert.match(server.stderr(), pattern);
}

async function assertRefused(
  label: string,
  server: ServerProcess & { dir: string },
  answer: Answer,
  code: string,
  before: string[] = [],
): Promise<void> {
  const { rssKb, hwmKb } = server.memory();
  record(`file-send: ${label}`, { ms: answer.ms, receiverRssKb: rssKb, receiverHwmKb: hwmKb });
  assert.equal(answer.event, "answer", `${label}: ${JSON.stringify(answer)}`);
  assert.equal(answer.ok, false, `${label}: accepted`);
  assert.equal(answer.ack?.code, code, `${label}: ${answer.ack?.message}`);
  assert.deepEqual(await listing(server.dir), before, `${label}: files left behind`);
}

Deno.test("file-send receiver refuses traversal and other hostile names, writing nothing", async () => {
  const outside = await Deno.makeTempDir({ prefix: "wiretest-hostile-outside-" });
  await Deno.mkdir(join(outside, "in"));
  await using server = await receiver([], join(outside, "in"));
  try {
    const names: [string, Record<string, unknown>][] = [
      ["../escape", { name: "../escape" }],
      ["absolute path", { name: "/tmp/escape" }],
      ["nested traversal", { name: "a/../../escape" }],
      ["dot-dot", { name: ".." }],
      ["dot", { name: "." }],
      ["empty", { name: "" }],
      ["backslash", { name: "..\\escape" }],
      ["drive letter", { name: "C:escape" }],
      ["NUL byte", { name: "esc\u0000ape" }],
      ["line break (forged log line)", { name: "a\nwarn: forged" }],
      ["256 bytes", { name: "x".repeat(256) }],
      ["not UTF-8", { name_hex: "fffe2e2e" }],
      ["a temporary file's name", { name: `.wiretest-${crypto.randomUUID()}.part` }],
    ];
    const answers = await hostileSends(
      server.port,
      names.map(([, name]) => ({ ...name, announce: 10, send: 10 })),
    );
    for (const [i, [label]] of names.entries()) {
      await assertRefused(`name: ${label}`, server, answers[i], "bad-name");
    }
    assert.deepEqual(await listing(outside), ["in"], "something was written outside");
    // The forged line stays inside the quoted name: no log line starts with it.
    assert.doesNotMatch(server.stderr(), /^warn: forged/m);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("file-send receiver stores a 255-byte name, the longest allowed", async () => {
  await using server = await receiver();
  const name = "n".repeat(255);
  const answer = await hostileSend(server.port, { name, announce: 100, send: 100 });
  assert.equal(answer.ok, true, JSON.stringify(answer));
  assert.deepEqual(await listing(server.dir), [name]);
});

Deno.test("file-send receiver rejects size lies and keeps nothing", async () => {
  await using server = await receiver();
  const more = await hostileSend(server.port, { name: "more", announce: 1000, send: 2000 });
  await assertRefused("announces 1000, sends 2000", server, more, "oversize");
  const less = await hostileSend(server.port, {
    name: "less",
    announce: 2_000_000,
    send: 1_000_000,
    then: "close",
  });
  await assertRefused("announces 2 MB, sends 1 MB and closes", server, less, "truncated");
  assert.match(less.ack!.message, /connection closed after 1000036 of 2000000 bytes/);
  const stall = await hostileSend(server.port, { name: "stall", announce: 2000, send: 1000 });
  await assertRefused("announces 2000, sends 1000 and stalls", server, stall, "stalled");
  await assertLogged(
    server,
    new RegExp(`warn: Cannot receive file: the sender stalled for ${RECEIVER_IDLE_MS} ms`),
  );
});

Deno.test("file-send receiver rejects a sha256 mismatch and keeps nothing", async () => {
  await using server = await receiver();
  const answer = await hostileSend(server.port, {
    name: "bad.bin",
    announce: 100_000,
    send: 100_000,
    trailer: "bad",
  });
  await assertRefused("sha256 mismatch", server, answer, "sha256-mismatch");
  await assertLogged(server, /warn: Cannot receive file "bad\.bin": sha256 /);
});

Deno.test("file-send receiver cleans up after a sender killed with SIGKILL mid-transfer", async () => {
  await using server = await receiver();
  let peer: HostilePeer | undefined;
  try {
    peer = await startHostile("file-sender", {
      port: server.port,
      name: "killed.bin",
      announce: 10 * 1024 * 1024,
      send: 1024 * 1024,
      trailer: "none",
      then: "hold",
    });
    assert.equal(JSON.parse(await peer.nextLine()).event, "sent");
    // The receiver is writing its temporary file when the sender dies.
    assert.ok(
      await eventually(() => [...Deno.readDirSync(server.dir)].length === 1, 15_000),
      "no temporary file",
    );
    const killedAt = performance.now();
    peer.kill("SIGKILL");
    await peer.status;
    const gone = await eventually(
      () => /warn: Cannot receive file "killed\.bin": connection closed/.test(server.stderr()),
      15_000,
    );
    record("file-send: sender killed mid-transfer", {
      ms: performance.now() - killedAt,
      receiverHwmKb: server.memory().hwmKb,
    });
    assert.ok(gone, `receiver said: ${server.stderr()}`);
    assert.match(server.stderr(), /after 1048576 of 10485760 bytes/);
    assert.deepEqual(await listing(server.dir), []);
  } finally {
    await peer?.[Symbol.asyncDispose]();
  }
});

/** A sparse file: reads as zeros, takes no disk space until the receiver writes it. */
async function sparseFile(size: number): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "wiretest-hostile-src-" });
  using file = await Deno.open(path, { write: true });
  await file.truncate(size);
  return path;
}

Deno.test("file-send sender reports a receiver killed mid-transfer; a new receiver sweeps its leftovers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-hostile-recv-" });
  const source = await sparseFile(4 * 1024 ** 3);
  try {
    {
      await using server = await receiver([], dir);
      const sending = runClientProcess("file-send", {
        file: source,
        target: `127.0.0.1:${server.port}`,
        name: "big.bin",
        idleTimeoutMs: 5000,
      });
      // Kill the receiver once its temporary file has some bytes.
      const started = await eventually(() => {
        for (const entry of Deno.readDirSync(dir)) {
          if (Deno.statSync(join(dir, entry.name)).size > 1024 * 1024) return true;
        }
        return false;
      }, 15_000);
      server.kill("SIGKILL");
      await server.status;
      const { outcome, ms } = await sending;
      record("file-send: receiver killed mid-transfer (sender side)", { ms });
      assert.ok(started, "the transfer never started");
      assert.equal(outcome.ok, false);
      // Cut before every byte went: truncated, the reset or broken pipe as its cause.
      assert.equal(outcome.error?.name, "FileSendError", outcome.error?.message);
      assert.equal(outcome.error!.code, "truncated");
      assert.match(
        outcome.error!.message,
        /: the connection was cut after \d+ of 4294967296 bytes were sent, before the receiver could answer /,
      );
      assert.ok(outcome.metrics.bytes === undefined || outcome.metrics.bytes < 4 * 1024 ** 3);
    }
    // A killed receiver cannot clean up: its temporary file is still there…
    const left = await listing(dir);
    assert.equal(left.length, 1);
    assert.match(left[0], /^\.wiretest-.*\.part$/);
    // …until a receiver starts on the same directory.
    await using again = await receiver([], dir);
    assert.deepEqual(await listing(dir), []);
    assert.doesNotMatch(again.stderr(), /could not remove/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(source);
  }
});

Deno.test("file-send receiver never replaces an existing file, even one made mid-transfer", async () => {
  await using server = await receiver();
  const keep = join(server.dir, "keep.txt");
  await Deno.writeTextFile(keep, "precious");
  const answer = await hostileSend(server.port, { name: "keep.txt", announce: 10, send: 10 });
  await assertRefused("name of an existing file", server, answer, "exists", ["keep.txt"]);
  // The target appears while the transfer runs: link() refuses to replace it.
  const racing = hostileSend(server.port, {
    name: "race.txt",
    announce: 131_072,
    send: 131_072,
    pace: 0.5,
    pace_after: 65_536,
  });
  assert.ok(
    await eventually(() => [...Deno.readDirSync(server.dir)].length === 2, 15_000),
    "the transfer never started",
  );
  await Deno.writeTextFile(join(server.dir, "race.txt"), "mine");
  await assertRefused("target made mid-transfer", server, await racing, "exists", [
    "keep.txt",
    "race.txt",
  ]);
  assert.equal(await Deno.readTextFile(keep), "precious");
  assert.equal(await Deno.readTextFile(join(server.dir, "race.txt")), "mine");
});

Deno.test("file-send receiver with overwrite replaces a symlink, not the file it points to", async () => {
  const outside = await Deno.makeTempFile({ prefix: "wiretest-hostile-target-" });
  await Deno.writeTextFile(outside, "outside");
  await using server = await receiver(["--overwrite"]);
  try {
    await Deno.symlink(outside, join(server.dir, "link.txt"));
    const answer = await hostileSend(server.port, { name: "link.txt", announce: 10, send: 10 });
    assert.equal(answer.ok, true, JSON.stringify(answer));
    assert.equal(await Deno.readTextFile(outside), "outside");
    assert.equal((await Deno.lstat(join(server.dir, "link.txt"))).isSymlink, false);
  } finally {
    await Deno.remove(outside);
  }
});

/**
 * Why a tmpfs cannot be mounted here (not root, no CAP_SYS_ADMIN), or
 * undefined when it can: probed once, so the full-disk case is reported
 * ignored where it cannot run instead of passing without running.
 */
function cannotMount(): string | undefined {
  const dir = Deno.makeTempDirSync({ prefix: "wiretest-hostile-probe-" });
  try {
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).outputSync();
    if (!mount.success) return new TextDecoder().decode(mount.stderr).trim();
    new Deno.Command("umount", { args: [dir], stdin: "null" }).outputSync();
    return undefined;
  } catch (error) {
    return String(error);
  } finally {
    Deno.removeSync(dir);
  }
}

const mountProblem = cannotMount();
if (mountProblem) {
  console.error(`ignoring the full-disk case: cannot mount a tmpfs (${mountProblem})`);
}

/** Mounts a 1 MiB tmpfs on a new directory; unmounts and removes it on dispose. */
async function smallTmpfs(): Promise<AsyncDisposable & { dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-hostile-full-" });
  const mount = await outputWithin("mount", {
    args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir],
  }, 10_000);
  if (!mount.success) {
    await Deno.remove(dir);
    throw new Error(`Cannot mount a tmpfs on "${dir}": ${mount.stderr.trim()}`);
  }
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await outputWithin("umount", { args: [dir] }, 10_000);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test({
  name: "file-send reports a destination that runs out of space on both sides and keeps nothing",
  ignore: mountProblem !== undefined,
  async fn() {
    await using disk = await smallTmpfs();
    await using server = await receiver([], disk.dir);
    const source = await Deno.makeTempFile({ prefix: "wiretest-hostile-src-" });
    try {
      await Deno.writeFile(source, crypto.getRandomValues(new Uint8Array(65536)));
      await Deno.writeFile(source, new Uint8Array(2 * 1024 * 1024 - 65536), { append: true });
      const { outcome, ms, growthKb } = await runClientProcess("file-send", {
        file: source,
        target: `127.0.0.1:${server.port}`,
        name: "too-big.bin",
      });
      record("file-send: destination out of space", {
        ms,
        senderGrowthKb: growthKb,
        receiverHwmKb: server.memory().hwmKb,
      });
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.name, "FileSendError");
      assert.equal(outcome.error?.code, "io");
      assert.match(outcome.error!.message, /No space left on device/);
      await assertLogged(server, /warn: Cannot store file: No space left on device/);
      assert.deepEqual(await listing(disk.dir), []);
      // The space came back: a file that fits is stored.
      await Deno.writeTextFile(source, "fits");
      const small = await runClientProcess("file-send", {
        file: source,
        target: `127.0.0.1:${server.port}`,
        name: "fits.txt",
      });
      assert.equal(small.outcome.ok, true, small.outcome.error?.message);
      assert.deepEqual(await listing(disk.dir), ["fits.txt"]);
    } finally {
      await Deno.remove(source);
    }
  },
});

Deno.test("file-send sender gives up on receivers that stop reading or never answer", async () => {
  const source = await sparseFile(64 * 1024 * 1024);
  try {
    // The second reads to the end, then closes without a word: the sender
    // asks whether it is a raw receiver rather than waiting out its timeout.
    const cases: [string, string, string, string][] = [
      ["receiver never reads", "no-read", "TimeoutError", "Cannot write to"],
      [
        "receiver never acknowledges",
        "file-no-ack",
        "FileSendError",
        "Cannot send file to 127.0.0.1:",
      ],
    ];
    const peers = await Promise.all(cases.map(([, mode]) => startHostile(mode)));
    try {
      const results = await runClientProcesses(
        "file-send",
        peers.map((peer) => ({
          file: source,
          target: `127.0.0.1:${peer.port}`,
          idleTimeoutMs: IDLE_MS,
        })),
        // Each run ends by its 1 s idle timeout (process start-up aside); one that
        // runs on to the 30 s default is killed, which fails the test.
        IDLE_MS + 20_000,
      );
      for (const [i, [label, , type, what]] of cases.entries()) {
        const { outcome, ms, growthKb } = results[i];
        record(`file-send: ${label}`, { ms, growthKb, error: outcome.error });
        assert.equal(outcome.ok, false, label);
        assert.equal(outcome.error?.name, type, `${label}: ${outcome.error?.message}`);
        assert.ok(outcome.error!.message.startsWith(what), outcome.error!.message);
        assert.ok(growthKb < 64 * 1024, `${label}: memory grew by ${growthKb} KiB`);
      }
      assert.equal(results[1].outcome.error?.code, "no-ack");
      assert.match(
        results[1].outcome.error!.message,
        / no acknowledgement before the connection closed — is the receiver in raw mode\? \(`--mode raw`\)$/,
      );
    } finally {
      await Promise.all(peers.map((peer) => peer[Symbol.asyncDispose]()));
    }
  } finally {
    await Deno.remove(source);
  }
});

Deno.test("file-send sender rejects a receiver answering nonsense", async () => {
  const source = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(source, "hello");
    await using peer = await startHostile("file-bad-ack");
    const { outcome, ms } = await runClientProcess("file-send", {
      file: source,
      target: `127.0.0.1:${peer.port}`,
      idleTimeoutMs: IDLE_MS,
    });
    record("file-send: receiver answers nonsense", { ms, error: outcome.error });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, "FileSendError");
    assert.equal(outcome.error?.code, "protocol");
  } finally {
    await Deno.remove(source);
  }
});

// A receiver that lies in its acknowledgement: it answers "ok" with a size or
// sha256 other than what it got, without them, or before the body arrives.
const PY_LYING_RECEIVER = `
import json, socket, struct, sys, time
port, mode, digest = int(sys.argv[1]), sys.argv[2], sys.argv[3]
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", port))
server.listen(1)
conn, _ = server.accept()
def read(n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(min(65536, n - len(data)))
        if not chunk:
            sys.exit(1)
        data += chunk
    return data
magic, version, name_length, size = struct.unpack(">4sBHQ", read(15))
read(name_length)
def ack(body):
    payload = json.dumps(body).encode()
    conn.sendall(b"WTFA" + struct.pack(">BH", 0, len(payload)) + payload)
if mode == "early":
    ack({"ok": True, "message": "stored", "bytes": size, "sha256": digest})
    time.sleep(0.3)
    while conn.recv(65536):
        pass
    sys.exit(0)
remaining = size + 36
while remaining:
    remaining -= len(conn.recv(min(65536, remaining)))
if mode == "size":
    ack({"ok": True, "message": "stored", "bytes": 1, "sha256": digest})
elif mode == "digest":
    ack({"ok": True, "message": "stored", "bytes": size, "sha256": "deadbeef" * 8})
else:
    ack({"ok": True, "message": "stored"})
while conn.recv(65536):
    pass
`;

Deno.test("file-send sender refuses an acknowledgement that contradicts what it sent", async () => {
  const small = await Deno.makeTempFile();
  // Larger than loopback's socket buffers: the sender is still sending when
  // the early "ok" arrives.
  const big = await sparseFile(32 * 1024 * 1024);
  try {
    await Deno.writeTextFile(small, "hello, lying receiver");
    const digestOf = async (path: string) =>
      createHash("sha256").update(await Deno.readFile(path)).digest("hex");
    const cases: [string, string, string, RegExp][] = [
      [
        "size",
        small,
        "acknowledged 1 bytes",
        /acknowledged 1 bytes with sha256 "[0-9a-f]{64}", but 21 bytes/,
      ],
      [
        "digest",
        small,
        "another sha256",
        /acknowledged 21 bytes with sha256 "(deadbeef){8}", but 21 bytes with sha256 "[0-9a-f]{64}" were sent$/,
      ],
      [
        "none",
        small,
        "no size or sha256",
        /acknowledged null bytes with sha256 null, but 21 bytes/,
      ],
      [
        "early",
        big,
        "ok before the body",
        /acknowledged it after \d+ of 33554432 bytes, before the sha256 trailer$/,
      ],
    ];
    for (const [mode, file, label, pattern] of cases) {
      const port = freePort();
      await using _ = spawnPeer("python3", [
        "-c",
        PY_LYING_RECEIVER,
        String(port),
        mode,
        await digestOf(file),
      ]);
      await waitForListen(port);
      const { outcome } = await runClientProcess("file-send", {
        file,
        target: `127.0.0.1:${port}`,
        idleTimeoutMs: 10_000,
      });
      assert.equal(outcome.ok, false, `${label}: reported verified`);
      assert.equal(outcome.error?.name, "FileSendError", `${label}: ${outcome.error?.message}`);
      assert.equal(outcome.error?.code, "ack-mismatch", `${label}: ${outcome.error?.message}`);
      assert.match(outcome.error!.message, pattern, label);
    }
  } finally {
    await Deno.remove(small);
    await Deno.remove(big);
  }
});
