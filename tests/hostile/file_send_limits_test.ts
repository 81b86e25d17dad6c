// file-send's receiver (`wiretest serve file-send`, a process of its own)
// bounded in time, memory and count against senders written in Python:
// tricklers, senders that announce 1 GiB and hold, more senders than the
// cap, and names that are too long, invisible, or taken by a directory.
// Every refusal names no server path, and what the receiver logs of a
// peer's input is short and escaped.
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, spawnPeer, waitForListen } from "../_support/peer.ts";
import {
  eventually,
  type LineProcess,
  record,
  runClientProcess,
  serveProcess,
  spawnLines,
  startHostile,
} from "./_support/process.ts";

interface Ack {
  ok: boolean;
  code?: string;
  message: string;
}

interface PeerReport {
  event: "answer" | "closed" | "no-answer" | "open" | "held";
  ack?: Ack | null;
  sent?: number;
  ms?: number;
  closed?: number;
  open?: number;
}

// A hand-made sender. Modes:
//   trickle-body    header and `first` body bytes, then `step` more every
//                   `every` s until answered (then the trailer, if `trailer`)
//   trickle-header  the header itself one byte every `every` s
//   header-only     the header, then waits for an answer, sending no body
//   holders         `count` connections that announce 1 GiB and hold; then
//                   `extra` more, reporting how many of those the receiver
//                   closed within 5 s and how many of the first are open
//   streamers       `count` senders at once, each streaming `size` bytes in
//                   1 MiB writes; all pause after `pause_after` writes
//                   (reporting "held") for `hold` s, then finish, reporting
//                   how many were stored
// Prints one JSON line per report; every wait is bounded.
const PY_SENDER = String.raw`
import json, select, socket, struct, sys, time
port, mode, opts = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
started = time.monotonic()
def log(obj):
    print(json.dumps(obj), flush=True)
def header(name, size):
    return b"WTFS" + struct.pack(">BHQ", 1, len(name), size) + name
def answer_of(c, timeout):
    c.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    if data[:4] != b"WTFA":
        return None
    return json.loads(data[7:].decode("utf-8"))
def readable(c, ms):
    p = select.poll()
    p.register(c, select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(p.poll(ms))
def report(c, sent):
    log({"event": "answer", "ack": answer_of(c, 5), "sent": sent,
         "ms": round((time.monotonic() - started) * 1000)})
name = opts.get("name", "slow.bin").encode()
if mode in ("trickle-body", "trickle-header"):
    c = socket.create_connection(("127.0.0.1", port))
    data = header(name, opts.get("announce", 100))
    if mode == "trickle-body":
        first = opts.get("first", 1)
        c.sendall(data + b"x" * first)
        data = b"x" * (opts.get("announce", 100) - first)
    step = opts.get("step", 1)
    sent = 0
    while sent < len(data):
        if readable(c, int(opts["every"] * 1000)):
            report(c, sent)
            sys.exit(0)
        try:
            c.sendall(data[sent:sent + step])
        except OSError:
            report(c, sent)
            sys.exit(0)
        sent += len(data[sent:sent + step])
    if opts.get("trailer"):
        import hashlib
        c.sendall(b"WTFE" + hashlib.sha256(b"x" * opts["announce"]).digest())
    if readable(c, 10000):
        report(c, sent)
    else:
        log({"event": "no-answer", "sent": sent})
elif mode == "header-only":
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(header(name, opts.get("announce", 10 * 1024 * 1024)))
    report(c, 0)
elif mode == "holders":
    def hold(i):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(header(b"hold%d.bin" % i, 1 << 30) + b"x" * opts.get("body", 0))
        return c
    first = [hold(i) for i in range(opts["count"])]
    log({"event": "open", "open": len(first)})
    if opts.get("extra"):
        time.sleep(opts.get("settle", 0.5))
        extra = [hold(opts["count"] + i) for i in range(opts["extra"])]
        deadline = time.monotonic() + 20
        closed = set()
        while len(closed) < len(extra) and time.monotonic() < deadline:
            for i, c in enumerate(extra):
                if i not in closed and readable(c, 0):
                    try:
                        if c.recv(1) == b"":
                            closed.add(i)
                    except OSError:
                        closed.add(i)
            time.sleep(0.01)
        still = sum(1 for c in first if not readable(c, 0))
        log({"event": "held", "closed": len(closed), "open": still})
    time.sleep(opts.get("hold", 60))
elif mode == "streamers":
    import hashlib, threading
    block = bytes(range(256)) * 4096
    size = opts["size"]
    digest = hashlib.sha256()
    for _ in range(size // len(block)):
        digest.update(block)
    results = {"ok": 0, "failed": 0}
    lock = threading.Lock()
    start = threading.Barrier(opts["count"])
    paused = threading.Barrier(opts["count"] + 1)
    go = threading.Event()
    def stream(i):
        ok = False
        try:
            c = socket.create_connection(("127.0.0.1", port))
            c.settimeout(60)
            start.wait(60)
            c.sendall(header(b"s%d.bin" % i, size))
            for n in range(size // len(block)):
                if n == opts["pause_after"]:
                    paused.wait(60)
                    go.wait(60)
                c.sendall(block)
            c.sendall(b"WTFE" + digest.digest())
            ok = c.recv(7)[4:5] == b"\x00"
        except Exception:
            pass
        with lock:
            results["ok" if ok else "failed"] += 1
    threads = [threading.Thread(target=stream, args=(i,)) for i in range(opts["count"])]
    for t in threads:
        t.start()
    paused.wait(60)
    log({"event": "held"})
    sys.stdin.readline() if opts.get("wait_stdin") else time.sleep(opts["hold"])
    go.set()
    for t in threads:
        t.join(120)
    log(results)
`;

/** Starts the Python sender in `mode` against `port`. */
function pySender(port: number, mode: string, opts: Record<string, unknown>): LineProcess {
  return spawnLines("python3", ["-c", PY_SENDER, String(port), mode, JSON.stringify(opts)]);
}

async function nextReport(peer: LineProcess, timeoutMs: number): Promise<PeerReport> {
  return JSON.parse(await peer.nextLine(timeoutMs)) as PeerReport;
}

/** A receiver process in a fresh directory, removed on dispose. */
async function receiver(flags: string[] = []) {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-hostile-limits-" });
  const server = await serveProcess("file-send", ["--dir", dir, ...flags]);
  return Object.assign(server, {
    dir,
    async [Symbol.asyncDispose]() {
      server.kill("SIGKILL");
      await server.status;
      await Deno.remove(dir, { recursive: true });
    },
  });
}

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

async function assertLogged(server: { stderr(): string }, pattern: RegExp): Promise<void> {
  await eventually(() => pattern.test(server.stderr()), 15_000);
  assert.match(server.stderr(), pattern);
}

Deno.test("file-send receiver refuses a sender that trickles one byte every 2 s, body or header, and removes its temporary file", async () => {
  // Idle 3 s: a byte every 2 s is never silence. Only the minimum rate (240
  // bytes/s by default, idleTimeoutMs of slack) can end these.
  await using server = await receiver(["--idle-timeout-ms", "3000"]);
  // 4,200 bytes first: the receiver has written some when the trickle starts.
  const body = pySender(server.port, "trickle-body", {
    every: 2,
    name: "body.bin",
    first: 4200,
    announce: 10_000,
  });
  const head = pySender(server.port, "trickle-header", { every: 2, name: "head.bin" });
  // 1 MB at once buys no licence to trickle afterwards.
  const burst = pySender(server.port, "trickle-body", {
    every: 2,
    name: "burst.bin",
    first: 1_000_000,
    announce: 2_000_000,
  });
  try {
    // The body trickler's transfer is under way: its temporary file exists.
    assert.ok(
      await eventually(
        () => Deno.readDirSync(server.dir).some((e) => e.name.endsWith(".part")),
        15_000,
      ),
      "no temporary file while the body trickles",
    );
    // Without a minimum rate neither would answer for 200 s; 20 s is plenty.
    const [bodyReport, headReport, burstReport] = await Promise.all([
      nextReport(body, 20_000),
      nextReport(head, 20_000),
      nextReport(burst, 20_000),
    ]);
    record("file-send: trickling sender", { ms: bodyReport.ms, sent: bodyReport.sent });
    const reports = [["body", bodyReport], ["header", headReport], ["burst", burstReport]] as const;
    for (const [label, report] of reports) {
      assert.equal(report.event, "answer", `${label}: ${JSON.stringify(report)}`);
      assert.equal(report.ack?.ok, false, label);
      assert.equal(report.ack?.code, "too-slow", `${label}: ${report.ack?.message}`);
      assert.match(report.ack!.message, /slower than the minimum of 240 bytes\/s$/, label);
    }
    await assertLogged(
      server,
      /warn: Cannot receive file: the sender sent \d+ bytes in [\d.]+ s, slower than the minimum of 240 bytes\/s/,
    );
    assert.deepEqual(await listing(server.dir), [], "the temporary file is left");
    const stats = await server.stop();
    assert.equal(stats.rejected, 3);
  } finally {
    await body[Symbol.asyncDispose]();
    await head[Symbol.asyncDispose]();
    await burst[Symbol.asyncDispose]();
  }
});

Deno.test("file-send receiver in raw mode closes on a trickling sender and keeps nothing", async () => {
  await using server = await receiver(["--mode", "raw", "--idle-timeout-ms", "3000"]);
  // Raw bytes one every 2 s: the receiver has no refusal to send, it closes.
  await using peer = pySender(server.port, "trickle-header", { every: 2 });
  const report = await nextReport(peer, 20_000);
  assert.equal(report.event, "answer", JSON.stringify(report));
  assert.equal(report.ack, null);
  await assertLogged(
    server,
    /warn: Cannot receive file: the sender sent \d+ bytes in [\d.]+ s, slower than the minimum of 240 bytes\/s/,
  );
  assert.deepEqual(await listing(server.dir), []);
});

Deno.test("file-send receiver stores a file sent slowly but above the minimum rate", async () => {
  // 1,000 bytes/s, four times the default floor, pausing 0.1 s between
  // steps, for about 5 s: longer than the 3 s of slack, so the rate is what
  // keeps it going.
  await using server = await receiver(["--idle-timeout-ms", "3000"]);
  await using peer = pySender(server.port, "trickle-body", {
    every: 0.1,
    step: 100,
    first: 0,
    announce: 5000,
    trailer: true,
    name: "steady.bin",
  });
  const report = await nextReport(peer, 30_000);
  assert.equal(report.ack?.ok, true, JSON.stringify(report));
  assert.deepEqual(await listing(server.dir), ["steady.bin"]);
});

Deno.test("file-send receiver with a minimum rate of 0 keeps waiting for a trickler (the limit can be turned off)", async () => {
  await using server = await receiver([
    "--idle-timeout-ms",
    "3000",
    "--min-data-rate",
    "0",
  ]);
  await using body = pySender(server.port, "trickle-body", { every: 0.5, announce: 12 });
  const report = await nextReport(body, 20_000);
  assert.equal(report.event, "answer", JSON.stringify(report));
  // 11 bytes at one every 0.5 s, then the trailer never comes: idle, not too slow.
  assert.equal(report.ack?.code, "stalled", report.ack?.message);
  assert.equal(report.sent, 11);
});

Deno.test("file-send receiver refuses connections over maxConnections at once and keeps serving the others", async () => {
  await using server = await receiver(["--max-connections", "5", "--idle-timeout-ms", "30000"]);
  await using peer = pySender(server.port, "holders", { count: 5, extra: 5 });
  assert.equal((await nextReport(peer, 15_000)).open, 5);
  const held = await nextReport(peer, 30_000);
  // The five over the cap are closed within the peer's 20 s (ended by the
  // last close; 5 s could pass on a loaded machine); the first five are still open.
  assert.deepEqual({ closed: held.closed, open: held.open }, { closed: 5, open: 5 });
  const stats = await server.stop();
  record("file-send: over maxConnections", { stats });
  assert.equal(stats.connections_refused, 5);
  assert.equal(stats.connections, 10);
});

/** Resident memory of `pid` once it stops growing (sampled every 500 ms, at most `ms`). */
async function settledRss(read: () => number, ms: number): Promise<number> {
  let last = read();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = read();
    if (Math.abs(now - last) < last * 0.01) return now;
    last = now;
  }
  return last;
}

// Measured on this machine with 2,000 holders: 80 → 410 MB (~165 KiB each)
// before buffers grew with the data, 80 → 185 MB (~52 KiB) after.
const BUDGET_KIB = 100;

Deno.test("file-send receiver: 2,000 senders that announce 1 GiB and hold cost under 100 KiB each", async () => {
  // In-process so the server's own memory is the receiver's.
  await using server = await receiver(["--no-isolation", "--max-connections", "3000"]);
  const before = await settledRss(() => server.memory().rssKb, 5000);
  await using peer = pySender(server.port, "holders", { count: 2000 });
  assert.equal((await nextReport(peer, 60_000)).open, 2000);
  const after = await settledRss(() => server.memory().rssKb, 15_000);
  const perConnectionKib = (after - before) / 2000;
  record("file-send: 2,000 holding senders", { before, after, perConnectionKib });
  assert.ok(
    perConnectionKib < BUDGET_KIB,
    `${perConnectionKib.toFixed(1)} KiB per holding connection (${before} → ${after} KiB)`,
  );
  // Held, not refused: every one of them was taken in.
  const stats = await server.stop();
  assert.equal(stats.connections, 2000);
  assert.equal(stats.connections_refused, 0);
});

Deno.test("file-send receiver: 256 senders streaming at once stay within the buffer budget", async () => {
  // The default maxConnections, each having sent 2 MiB, faster than the
  // receiver writes, then pausing together: every transfer's buffers would
  // have grown to 1 MiB (2.3 MiB per transfer, 590 MiB in all). The
  // receiver's 64 MiB budget stops the growth.
  await using server = await receiver(["--no-isolation"]);
  const before = server.memory().rssKb;
  await using senders = pySender(server.port, "streamers", {
    count: 256,
    size: 4 * 1024 * 1024,
    pause_after: 2,
    hold: 4,
  });
  assert.equal(JSON.parse(await senders.nextLine(120_000)).event, "held");
  const held = await settledRss(() => server.memory().rssKb, 3000);
  const sent = JSON.parse(await senders.nextLine(180_000));
  const growthKb = held - before;
  record("file-send: 256 streaming senders", { before, held, growthKb });
  assert.deepEqual(sent, { ok: 256, failed: 0 });
  assert.ok(growthKb < 250 * 1024, `the receiver grew by ${Math.round(growthKb / 1024)} MiB`);
});

Deno.test("file-send receiver refuses a 65,535-byte name unread and logs one short line for it", async () => {
  await using server = await receiver();
  await using peer = await startHostile("file-sender", {
    port: server.port,
    name: "n".repeat(65_535),
    announce: 10,
    send: 10,
  });
  const answer = JSON.parse(await peer.nextLine(20_000));
  assert.equal(answer.ack?.code, "bad-name", JSON.stringify(answer).slice(0, 300));
  assert.match(answer.ack.message, /its name is 65535 bytes, longer than 255$/);
  await assertLogged(server, /warn: Cannot receive file: its name is 65535 bytes/);
  const longest = Math.max(...server.stderr().split("\n").map((line) => line.length));
  assert.ok(longest < 300, `a log line of ${longest} characters`);
});

Deno.test("file-send receiver refuses names with bidi, zero-width or BOM characters and shows them escaped", async () => {
  await using server = await receiver();
  const names: [string, string][] = [
    ["right-to-left override", "evil\u202etxt.exe"],
    ["left-to-right embedding", "a\u202ab"],
    ["first strong isolate", "a\u2068b"],
    ["left-to-right mark", "a\u200eb"],
    ["right-to-left mark", "a\u200fb"],
    ["Arabic letter mark", "a\u061cb"],
    ["zero-width space", "a\u200bb"],
    ["zero-width joiner", "a\u200db"],
    ["word joiner", "a\u2060b"],
    ["leading BOM", "\ufeffbom.txt"],
    ["BOM inside", "a\ufeffb"],
  ];
  const peer = await startHostile("file-sender", {
    port: server.port,
    jobs: names.map(([, name]) => ({ name, announce: 10, send: 10 })),
  });
  try {
    for (const [label, name] of names) {
      const answer = JSON.parse(await peer.nextLine(20_000));
      assert.equal(answer.ack?.code, "bad-name", `${label}: ${JSON.stringify(answer)}`);
      const hex = name.match(/[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/)![0]
        .charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
      assert.match(answer.ack.message, new RegExp(`character U\\+${hex}`), label);
    }
  } finally {
    await peer[Symbol.asyncDispose]();
  }
  // Nothing stored, not even "bom.txt" with its BOM stripped.
  assert.deepEqual(await listing(server.dir), []);
  await assertLogged(server, /evil\\u202etxt\.exe/);
  assert.doesNotMatch(
    server.stderr(),
    /[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/,
  );
});

Deno.test("file-send receiver refuses line separators and every other invisible character, keeps an emoji's variation selector", async () => {
  await using server = await receiver();
  const names: [string, string, string][] = [
    ["line separator", "a\u2028b", "U+2028"],
    ["paragraph separator", "a\u2029b", "U+2029"],
    ["next line (C1)", "a\u0085b", ""],
    ["soft hyphen", "pay\u00adroll.txt", "U+00AD"],
    ["Hangul filler (shows as a blank)", "\u3164.txt", "U+3164"],
    ["Mongolian vowel separator", "a\u180eb", "U+180E"],
    ["invisible times", "a\u2062b", "U+2062"],
    ["tag characters (hidden ASCII)", "report\u{e0069}\u{e0067}.pdf", "U+E0069"],
    ["combining grapheme joiner", "a\u034fb", "U+034F"],
  ];
  const peer = await startHostile("file-sender", {
    port: server.port,
    jobs: [
      ...names.map(([, name]) => ({ name, announce: 10, send: 10 })),
      { name: "heart\u2764\ufe0f.txt", announce: 10, send: 10 },
    ],
  });
  try {
    for (const [label, , shown] of names) {
      const answer = JSON.parse(await peer.nextLine(20_000));
      assert.equal(answer.ack?.code, "bad-name", `${label}: ${JSON.stringify(answer)}`);
      if (shown) assert.ok(answer.ack.message.endsWith(` ${shown}`), answer.ack.message);
    }
    const heart = JSON.parse(await peer.nextLine(20_000));
    assert.equal(heart.ack?.ok, true, JSON.stringify(heart));
  } finally {
    await peer[Symbol.asyncDispose]();
  }
  assert.deepEqual(await listing(server.dir), ["heart\u2764\ufe0f.txt"]);
  // The refused names are logged escaped: no raw separator, filler or tag.
  assert.doesNotMatch(server.stderr(), /[\u2028\u2029\u00ad\u3164\u180e\u2062\u034f]|\u{e0069}/u);
});

Deno.test("file-send receiver with overwrite refuses a name taken by a directory or a FIFO before any body byte", async () => {
  await using server = await receiver(["--overwrite", "--idle-timeout-ms", "10000"]);
  await Deno.mkdir(join(server.dir, "sub"));
  await Deno.writeTextFile(join(server.dir, "sub", "inside.txt"), "kept");
  const fifo = await new Deno.Command("mkfifo", { args: [join(server.dir, "pipe")] }).output();
  assert.ok(fifo.success, "mkfifo failed");
  for (const [name, kind] of [["sub", "a directory"], ["pipe", "not a regular file"]]) {
    // The sender sends the header only: an answer comes before any body byte.
    await using peer = pySender(server.port, "header-only", { name });
    const report = await nextReport(peer, 15_000);
    assert.equal(report.ack?.code, "exists", `${name}: ${JSON.stringify(report)}`);
    assert.match(report.ack!.message, new RegExp(`"${name}": it exists and is ${kind}`));
    assert.ok(!report.ack!.message.includes(server.dir), report.ack!.message);
  }
  assert.deepEqual(await listing(server.dir), ["pipe", "sub"]);
  assert.equal(await Deno.readTextFile(join(server.dir, "sub", "inside.txt")), "kept");
});

Deno.test("file-send receiver never sends a server path to the peer; its own log keeps it", async () => {
  await using server = await receiver(["--overwrite", "--idle-timeout-ms", "10000"]);
  // The target becomes a directory mid-transfer: moving the file into place fails.
  const racing = startHostile("file-sender", {
    port: server.port,
    name: "late-dir",
    announce: 131_072,
    send: 131_072,
    pace: 1,
    pace_after: 65_536,
  });
  const peer = await racing;
  try {
    assert.ok(
      await eventually(
        () => Deno.readDirSync(server.dir).some((e) => e.name.endsWith(".part")),
        15_000,
      ),
      "the transfer never started",
    );
    await Deno.mkdir(join(server.dir, "late-dir"));
    const answer = JSON.parse(await peer.nextLine(20_000));
    assert.equal(answer.ack?.code, "io", JSON.stringify(answer));
    assert.match(answer.ack.message, /^Cannot store file: Is a directory \(os error 21\)$/);
    assert.ok(!answer.ack.message.includes(server.dir), answer.ack.message);
  } finally {
    await peer[Symbol.asyncDispose]();
  }
  // The receiver's own log says where.
  await assertLogged(
    server,
    new RegExp(`warn: Cannot store file: Is a directory \\(os error 21\\) \\(.*${server.dir}`),
  );
  assert.deepEqual(await listing(server.dir), ["late-dir"]);
});

// A receiver that refuses with a message made to mislead: a line break, a
// right-to-left override, and 3,900 characters; its code is argv[2].
const PY_MISLEADING_RECEIVER = String.raw`
import json, socket, struct, sys
port, code = int(sys.argv[1]), sys.argv[2]
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", port))
server.listen(1)
conn, _ = server.accept()
conn.recv(65536)
body = json.dumps({"ok": False, "code": code,
                   "message": "refused\nerror: forged line \u202eexe.txt" + "x" * 3900}).encode()
conn.sendall(b"WTFA" + struct.pack(">BH", 1, len(body)) + body)
conn.shutdown(socket.SHUT_WR)
while conn.recv(65536):
    pass
`;

Deno.test("file-send sender shows a receiver's refusal escaped and cut short", async () => {
  const source = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(source, "hello");
    // A known code is kept; one this sender does not know is only "rejected".
    for (const [code, expected] of [["exists", "exists"], ["x\nerror: forged", "rejected"]]) {
      const port = freePort();
      await using _ = spawnPeer("python3", ["-c", PY_MISLEADING_RECEIVER, String(port), code]);
      await waitForListen(port);
      const { outcome } = await runClientProcess("file-send", {
        file: source,
        target: `127.0.0.1:${port}`,
        idleTimeoutMs: 10_000,
      });
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.code, expected);
      const message = outcome.error!.message;
      assert.ok(!message.includes("\n"), message);
      assert.ok(!message.includes("\u202e"), message);
      assert.match(message, /refused\\u000aerror: forged line \\u202eexe\.txtx+…$/);
      assert.ok(message.length < 600, `${message.length} characters`);
    }
  } finally {
    await Deno.remove(source);
  }
});
