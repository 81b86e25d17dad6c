// http-probe against servers that misbehave on purpose. Each probe runs in a
// process of its own, so the time it took to fail and its peak memory are
// its alone; every case must end in a typed error before its deadline with
// bounded memory.
import assert from "node:assert/strict";
import { makeCertificates } from "../_support/certs.ts";
import { freePort, spawnPeer, waitForListen } from "../_support/peer.ts";
import {
  type ChildResult,
  type HostilePeer,
  record,
  runClientProcess,
  runClientProcesses,
  startHostile,
} from "./_support/process.ts";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** Slack on top of a deadline for a loaded 2-core machine. */
const SLACK_MS = 3000;
/** What a probe may add to its process's memory at its peak, whatever the peer sends. */
const MEMORY_BOUND_KB = 64 * 1024;

interface Expected {
  name: string;
  code?: string;
  message?: RegExp;
}

interface Case {
  label: string;
  params: Record<string, unknown>;
  expected: Expected;
}

/** Probes each case in one child process and checks its typed error, time and memory. */
async function expectFailures(cases: Case[]): Promise<ChildResult[]> {
  const deadline = (c: Case) => (c.params.timeoutMs as number | undefined) ?? 10_000;
  const results = await runClientProcesses(
    "http-probe",
    cases.map((c) => c.params),
    Math.max(...cases.map(deadline)) + 20_000,
  );
  cases.forEach(({ label, expected }, i) => {
    const { outcome, ms, growthKb, hwmKb } = results[i];
    record(`http-probe: ${label}`, { ms, growthKb, hwmKb, error: outcome.error });
    assert.equal(outcome.ok, false, `${label}: the probe succeeded`);
    assert.equal(outcome.error?.name, expected.name, `${label}: ${outcome.error?.message}`);
    if (expected.code !== undefined) assert.equal(outcome.error?.code, expected.code, label);
    if (expected.message) assert.match(outcome.error!.message, expected.message, label);
    const timeoutMs = deadline(cases[i]);
    assert.ok(ms < timeoutMs + SLACK_MS, `${label}: took ${ms} ms, deadline ${timeoutMs} ms`);
    assert.ok(growthKb < MEMORY_BOUND_KB, `${label}: memory grew by ${growthKb} KiB`);
  });
  return results;
}

function expectFailure(
  label: string,
  params: Record<string, unknown>,
  expected: Expected,
): Promise<ChildResult> {
  return expectFailures([{ label, params, expected }]).then(([result]) => result);
}

/** Starts one peer per set of options; disposing the result stops them all. */
async function peers(
  mode: string,
  options: Record<string, unknown>[],
): Promise<HostilePeer[] & AsyncDisposable> {
  const started = await Promise.all(options.map((o) => startHostile(mode, o)));
  return Object.assign(started, {
    async [Symbol.asyncDispose]() {
      await Promise.all(started.map((p) => p[Symbol.asyncDispose]()));
    },
  });
}

Deno.test("http-probe times out on a server that never sends headers", async () => {
  await using peer = await startHostile("http-silent");
  await expectFailure(
    "never sends headers",
    { url: `http://127.0.0.1:${peer.port}/`, timeoutMs: 1500 },
    {
      name: "TimeoutError",
      message: /^Cannot read from 127\.0\.0\.1:\d+: timed out after 1500 ms$/,
    },
  );
});

Deno.test("http-probe keeps its deadline against a server sending one byte per second", async () => {
  await using peer = await startHostile("http-slowloris", { interval: 1 });
  await expectFailure(
    "slowloris, 1 byte/s",
    { url: `http://127.0.0.1:${peer.port}/`, timeoutMs: 2500 },
    { name: "TimeoutError", message: /timed out after 2500 ms/ },
  );
});

Deno.test("http-probe stops endless headers at maxHeaderBytes", async () => {
  await using peer = await startHostile("http-endless-headers");
  await expectFailures([{
    label: "endless headers (default 64 KiB limit)",
    params: { url: `http://127.0.0.1:${peer.port}/` },
    expected: { name: "RangeError", message: /response head .* exceeds maxHeaderBytes 65536$/ },
  }, {
    label: "endless headers (16 MiB limit)",
    params: { url: `http://127.0.0.1:${peer.port}/`, maxHeaderBytes: 16 * MIB },
    expected: { name: "RangeError", message: /exceeds maxHeaderBytes 16777216$/ },
  }]);
});

Deno.test("http-probe refuses a 10 GiB Content-Length body before reading it", async () => {
  await using peer = await startHostile("http-huge-body", { size: 10 * GIB, framing: "length" });
  await expectFailure(
    "10 GiB body, Content-Length",
    { url: `http://127.0.0.1:${peer.port}/` },
    { name: "RangeError", message: /body .* exceeds maxBodyBytes 104857600$/ },
  );
});

Deno.test("http-probe stops a 10 GiB chunked or close-delimited body at maxBodyBytes", async () => {
  const framings = ["chunked", "close"];
  await using servers = await peers(
    "http-huge-body",
    framings.map((framing) => ({
      size: 10 * GIB,
      framing,
    })),
  );
  await expectFailures(framings.map((framing, i) => ({
    label: `10 GiB body, ${framing}`,
    params: { url: `http://127.0.0.1:${servers[i].port}/` },
    expected: { name: "RangeError", message: /exceeds maxBodyBytes 104857600$/ },
  })));
});

Deno.test("http-probe hashes a 10 GiB body in constant memory until its deadline when allowed", async () => {
  await using peer = await startHostile("http-huge-body", { size: 10 * GIB, framing: "length" });
  await expectFailure(
    "10 GiB body, maxBodyBytes 16 GiB",
    { url: `http://127.0.0.1:${peer.port}/`, maxBodyBytes: 16 * GIB, timeoutMs: 2000 },
    { name: "TimeoutError", message: /^Cannot read from .*: timed out after 2000 ms$/ },
  );
});

Deno.test("http-probe reports a body cut short of its Content-Length", async () => {
  const send = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + "x".repeat(50);
  await using servers = await peers("http-raw", [{ send, close: true }, { send }]);
  await expectFailures([{
    label: "Content-Length 100, 50 bytes, close",
    params: { url: `http://127.0.0.1:${servers[0].port}/` },
    expected: { name: "ConnectionError", code: "closed", message: /after 50 of 100 body bytes$/ },
  }, {
    label: "Content-Length 100, 50 bytes, kept open",
    params: { url: `http://127.0.0.1:${servers[1].port}/`, timeoutMs: 1500 },
    expected: { name: "TimeoutError" },
  }]);
});

Deno.test("http-probe reports bytes beyond the body its Content-Length announced", async () => {
  const send = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + "0123456789abcdefghij";
  await using peer = await startHostile("http-raw", { send });
  await expectFailure(
    "Content-Length 10, 20 bytes",
    { url: `http://127.0.0.1:${peer.port}/` },
    {
      name: "HttpParseError",
      code: "content-length",
      message: /10 bytes arrived after the 10-byte body/,
    },
  );
});

Deno.test("http-probe rejects invalid status lines", async () => {
  const cases: [string, string][] = [
    ["no status code", "HTTP/1.1 OK\r\n\r\n"],
    ["four-digit status", "HTTP/1.1 2000 OK\r\n\r\n"],
    ["HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n"],
    ["not HTTP", "ICY 200 OK\r\n\r\n"],
    ["binary", "\u0000\u0001\u00ff\u00fe\r\n\r\n"],
  ];
  await using servers = await peers("http-raw", cases.map(([, send]) => ({ send })));
  await expectFailures(cases.map(([label], i) => ({
    label: `invalid status line: ${label}`,
    params: { url: `http://127.0.0.1:${servers[i].port}/` },
    expected: { name: "HttpParseError", code: "status-line" },
  })));
});

Deno.test("http-probe rejects a non-HTTP banner at once instead of waiting for a head", async () => {
  await using peer = await startHostile("http-raw", { send: "SSH-2.0-OpenSSH_9.6\r\n" });
  await expectFailure(
    "SSH banner, kept open",
    { url: `http://127.0.0.1:${peer.port}/`, timeoutMs: 5000 },
    { name: "HttpParseError", code: "status-line", message: /SSH-2\.0/ },
  );
});

Deno.test("http-probe rejects invalid chunk sizes", async () => {
  const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const cases: [string, string, Expected][] = [
    ["not hex", "zz\r\nabc\r\n0\r\n\r\n", { name: "HttpParseError", code: "chunk" }],
    ["negative", "-5\r\nabc\r\n0\r\n\r\n", { name: "HttpParseError", code: "chunk" }],
    ["0x prefix", "0x3\r\nabc\r\n0\r\n\r\n", { name: "HttpParseError", code: "chunk" }],
    ["17 hex digits", "10000000000000000\r\nabc\r\n", { name: "HttpParseError", code: "chunk" }],
    ["beyond maxBodyBytes", "FFFFFFFFFFFFFFF\r\nabc\r\n", { name: "RangeError" }],
    ["size line never ends", "1" + "0".repeat(8000), { name: "HttpParseError", code: "chunk" }],
    ["data longer than size", "3\r\nabcdef\r\n0\r\n\r\n", {
      name: "HttpParseError",
      code: "chunk",
    }],
  ];
  await using servers = await peers("http-raw", cases.map(([, body]) => ({ send: head + body })));
  await expectFailures(cases.map(([label, , expected], i) => ({
    label: `invalid chunk size: ${label}`,
    params: { url: `http://127.0.0.1:${servers[i].port}/`, timeoutMs: 5000 },
    expected,
  })));
});

Deno.test("http-probe gives up a redirect loop and an endless redirect chain", async () => {
  await using servers = await peers("http-redirect", [{ kind: "loop" }, { kind: "chain" }]);
  await expectFailures([{
    label: "redirect loop /a -> /b -> /a",
    params: { url: `http://127.0.0.1:${servers[0].port}/a`, followRedirects: true },
    expected: { name: "RedirectError", code: "redirect-loop" },
  }, {
    label: "endless redirect chain",
    params: {
      url: `http://127.0.0.1:${servers[1].port}/0`,
      followRedirects: true,
      maxRedirects: 20,
    },
    expected: { name: "RedirectError", code: "too-many-redirects" },
  }]);
});

Deno.test("http-probe fails the handshake with a TLS port that speaks garbage", async () => {
  await using peer = await startHostile("garbage");
  await expectFailure(
    "TLS port speaking garbage",
    { url: `https://127.0.0.1:${peer.port}/`, timeoutMs: 5000 },
    { name: "ConnectionError", code: "tls" },
  );
});

Deno.test("http-probe times out the handshake with a TLS port that never answers", async () => {
  await using peer = await startHostile("http-silent");
  await expectFailure(
    "TLS port that never answers",
    { url: `https://127.0.0.1:${peer.port}/`, timeoutMs: 1500 },
    {
      name: "TimeoutError",
      message: /^Cannot handshake with 127\.0\.0\.1:\d+: timed out after 1500 ms$/,
    },
  );
});

/** openssl s_server answering HTTPS with `cert`, on a free port. */
async function opensslServer(certFile: string, keyFile: string) {
  const port = freePort();
  const peer = spawnPeer("openssl", [
    "s_server",
    "-accept",
    `127.0.0.1:${port}`,
    "-cert",
    certFile,
    "-key",
    keyFile,
    "-www",
    "-quiet",
  ]);
  try {
    await waitForListen(port);
  } catch (error) {
    await peer[Symbol.asyncDispose]();
    throw error;
  }
  return Object.assign(peer, { port });
}

Deno.test("http-probe rejects a certificate for another name from openssl s_server", async () => {
  await using certs = await makeCertificates({ names: ["wrong.example"] });
  await using server = await opensslServer(certs.certFile, certs.keyFile);
  await expectFailure(
    "certificate for the wrong name",
    { url: `https://localhost:${server.port}/`, caFile: certs.caCertFile, timeoutMs: 5000 },
    { name: "ConnectionError", code: "tls", message: /localhost/ },
  );
});

Deno.test("http-probe rejects an expired certificate from openssl s_server", async () => {
  await using certs = await makeCertificates({ expired: true });
  await using server = await opensslServer(certs.certFile, certs.keyFile);
  await expectFailure(
    "expired certificate",
    { url: `https://localhost:${server.port}/`, caFile: certs.caCertFile, timeoutMs: 5000 },
    { name: "ConnectionError", code: "tls", message: /expired/ },
  );
});

// ---------------------------------------------------------------------------
// Peers whose answers would make a probe report something untrue.

const OK_KEEP_ALIVE = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** The requests an http-script peer has run so far (it logs each before answering). */
async function requestsRun(peer: HostilePeer): Promise<{ request: string; connection: number }[]> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: peer.port });
  await conn.write(new TextEncoder().encode("GET /count HTTP/1.1\r\nHost: peer\r\n\r\n"));
  const seen: { request: string; connection: number }[] = [];
  for (let i = 0; i < 100; i++) {
    const line = JSON.parse(await peer.nextLine(5000));
    if (line.count !== undefined) {
      assert.equal(line.count, seen.length);
      return seen;
    }
    seen.push(line);
  }
  throw new Error("No count line among 100 lines from the peer");
}

Deno.test("http-probe does not resend a POST the server consumed before closing its reused connection", async () => {
  // The second request on each connection is read (and so run), then the
  // connection closes without an answer.
  await using peer = await startHostile("http-script", {
    replies: [{ send: OK_KEEP_ALIVE }, { send: "", close: true }],
  });
  await expectFailure(
    "POST consumed, then the reused connection closed",
    { url: `http://127.0.0.1:${peer.port}/`, method: "POST", body: "pay once", repeat: 2 },
    {
      name: "ConnectionError",
      code: "closed",
      message:
        /closed after the request was sent, before any response; POST was not retried: it is not idempotent/,
    },
  );
  const run = await requestsRun(peer);
  assert.deepEqual(run.map((r) => [r.request, r.connection]), [["POST", 0], ["POST", 0]]);
});

Deno.test("http-probe resends an idempotent GET on a new connection after the same close", async () => {
  await using peer = await startHostile("http-script", {
    replies: [{ send: OK_KEEP_ALIVE }, { send: "", close: true }],
  });
  const { outcome } = await runClientProcess("http-probe", {
    url: `http://127.0.0.1:${peer.port}/`,
    repeat: 2,
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.requests, 3, "the resend counts as a request");
  const run = await requestsRun(peer);
  assert.deepEqual(run.map((r) => [r.request, r.connection]), [["GET", 0], ["GET", 0], [
    "GET",
    1,
  ]]);
});

Deno.test("http-probe sends a POST on a new connection when the server closed the idle one", async () => {
  // Each connection answers one request and closes (FIN with the reply):
  // the probe must see the close before sending, not fail after.
  await using peer = await startHostile("http-script", {
    replies: [{ send: OK_KEEP_ALIVE, close: true }],
  });
  const { outcome } = await runClientProcess("http-probe", {
    url: `http://127.0.0.1:${peer.port}/`,
    method: "POST",
    body: "x",
    repeat: 20,
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.requests, 20);
  assert.equal(outcome.metrics.connections, 20);
  const run = await requestsRun(peer);
  assert.deepEqual(run.map((r) => r.connection), Array.from({ length: 20 }, (_, i) => i));
});

Deno.test("http-probe refuses a broken status, NUL or CR in a value and two Locations from a Python peer", async () => {
  const cases: [string, string, string, RegExp][] = [
    ["status 000", "HTTP/1.1 000 X\r\nContent-Length: 0\r\n\r\n", "status-line", /"000" is not/],
    [
      "NUL in a value",
      "HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n",
      "header",
      /NUL/,
    ],
    [
      "bare CR in a value",
      "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",
      "header",
      /CR/,
    ],
    [
      "two Location headers",
      "HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
      "header",
      /two different "location" headers/,
    ],
  ];
  await using servers = await peers("http-raw", cases.map(([, send]) => ({ send })));
  await expectFailures(cases.map(([label, , code, message], i) => ({
    label,
    params: { url: `http://127.0.0.1:${servers[i].port}/`, followRedirects: true },
    expected: { name: "HttpParseError", code, message },
  })));
});

Deno.test("http-probe reports a Constructor header from a Python peer as the peer sent it", async () => {
  const send = "HTTP/1.1 200 OK\r\nConstructor: abc\r\n__proto__: p\r\nContent-Length: 0\r\n\r\n";
  await using peer = await startHostile("http-raw", { send });
  const { outcome } = await runClientProcess("http-probe", {
    url: `http://127.0.0.1:${peer.port}/`,
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const headers = outcome.facts.headers as Record<string, unknown>;
  assert.equal(headers.constructor, "abc");
  assert.ok(Object.hasOwn(headers, "__proto__"));
  assert.equal(headers["__proto__"], "p");
});

Deno.test("wiretest probe --repeat prints its summary when a request after the first fails", async () => {
  await using peer = await startHostile("http-script", {
    replies: [{ send: OK_KEEP_ALIVE }, { send: OK_KEEP_ALIVE }, { send: "garbage\r\n\r\n" }],
  });
  const cli = new URL("../../lib/cli/main.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "probe", `http://127.0.0.1:${peer.port}/`, "--repeat", "5"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.doesNotMatch(stderr, /warn|toFixed/, "the plugin's summary threw");
  assert.match(stdout, /^GET http:\/\/127\.0\.0\.1:\d+\/ 200 OK: 2 B in /m);
  assert.match(stdout, /^3 requests on 1 connection: latency p50 [\d.]+ ms p99 [\d.]+ ms$/m);
  // The error once, on stderr, as every client command prints it.
  assert.doesNotMatch(stdout, /Cannot parse response/);
  assert.match(stderr, /^error: Cannot parse response from .*: invalid status line "garbage"$/m);
});
