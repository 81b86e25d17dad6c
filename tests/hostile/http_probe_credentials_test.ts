// http-probe's credentials against a real peer (a Python server that logs
// every request head it gets): user info in the URL is sent as Basic auth,
// as curl sends it, and its password is shown nowhere; credential headers
// stay with their origin when a redirect leaves it, unless trusted.
import assert from "node:assert/strict";
import { runHttpProbe } from "../../plugins/http_probe/mod.ts";
import httpProbe from "../../plugins/http_probe/mod.ts";
import type { HttpProbeClientOptions } from "../../plugins/http_probe/params.ts";
import type { Outcome } from "../../lib/plugin/types.ts";
import { deno, MAIN } from "../_support/deno_process.ts";
import { ignoreWithout } from "../_support/peer.ts";
import { type LineProcess, spawnLines } from "./_support/process.ts";

const PEER = new URL("./_support/heads_peer.py", import.meta.url).pathname;
const ignore = ignoreWithout("python3");

interface Seen {
  path: string;
  headers: [string, string][];
}

interface HeadsPeer extends AsyncDisposable {
  base: string;
  port: number;
  /** The next `n` request heads the peer logged (bounded wait). */
  take(n: number): Promise<Seen[]>;
}

async function headsPeer(redirects: Record<string, string> = {}): Promise<HeadsPeer> {
  const child: LineProcess = spawnLines("python3", [PEER, JSON.stringify({ redirects })]);
  const ready = await child.nextLine(10_000);
  const port = Number(/^READY (\d+)$/.exec(ready)?.[1]);
  assert.ok(port > 0, `peer said ${ready}`);
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    async take(n) {
      const seen: Seen[] = [];
      for (let i = 0; i < n; i++) seen.push(JSON.parse(await child.nextLine(10_000)));
      return seen;
    },
    [Symbol.asyncDispose]: () => child[Symbol.asyncDispose](),
  };
}

const names = (seen: Seen) => seen.headers.map(([name]) => name.toLowerCase());
const header = (seen: Seen, name: string) =>
  seen.headers.find(([n]) => n.toLowerCase() === name)?.[1];

const CREDENTIALS = [
  "Authorization: Bearer secret-1",
  "Proxy-Authorization: Basic c2VjcmV0LTI=",
  "Cookie: session=secret-3",
  "X-Api-Key: secret-4",
  "X-Auth-Token: secret-5",
  "X-Trace: 42",
];

function probe(options: HttpProbeClientOptions): Promise<Outcome> {
  return runHttpProbe({ timeoutMs: 10_000, ...options });
}

function hopsOf(outcome: Outcome): { url: string; dropped_headers: string[] }[] {
  return outcome.facts.redirects as { url: string; dropped_headers: string[] }[];
}

Deno.test({
  name: "http-probe drops credential headers on a redirect to another port, and says which",
  ignore,
  async fn() {
    await using target = await headsPeer();
    await using origin = await headsPeer({ "/start": `${target.base}/landing` });
    const outcome = await probe({
      url: `${origin.base}/start`,
      followRedirects: true,
      headers: CREDENTIALS,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    const [first] = await origin.take(1);
    const [landing] = await target.take(1);
    for (const name of ["authorization", "proxy-authorization", "cookie", "x-api-key"]) {
      assert.ok(names(first).includes(name), `${name} reaches the origin`);
    }
    assert.equal(landing.path, "/landing");
    assert.deepEqual(names(landing).filter((n) => n.startsWith("x-")), ["x-trace"]);
    assert.ok(!JSON.stringify(landing).includes("secret"), JSON.stringify(landing));
    assert.deepEqual(hopsOf(outcome)[0].dropped_headers, [
      "authorization",
      "proxy-authorization",
      "cookie",
      "x-api-key",
      "x-auth-token",
    ]);
    assert.match(
      httpProbe.client!.summary!(outcome)!,
      /1 redirect \(not sent to another origin: authorization, proxy-authorization, cookie, x-api-key, x-auth-token\)/,
    );
  },
});

Deno.test({
  name: "http-probe drops credential headers when only the host changes (127.0.0.1 to localhost)",
  ignore,
  async fn() {
    await using peer = await headsPeer({ "/start": "http://localhost:{port}/landing" });
    const outcome = await probe({
      url: `${peer.base}/start`,
      followRedirects: true,
      headers: CREDENTIALS,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    const [, landing] = await peer.take(2);
    assert.equal(header(landing, "host"), `localhost:${peer.port}`);
    assert.equal(header(landing, "proxy-authorization"), undefined);
    assert.equal(header(landing, "x-api-key"), undefined);
    assert.equal(hopsOf(outcome)[0].dropped_headers.length, 5);
  },
});

Deno.test({
  name: "http-probe keeps credential headers on a same-origin redirect and with locationTrusted",
  ignore,
  async fn() {
    await using target = await headsPeer();
    await using origin = await headsPeer({ "/start": "/next", "/next": `${target.base}/landing` });
    const outcome = await probe({
      url: `${origin.base}/start`,
      followRedirects: true,
      locationTrusted: true,
      headers: CREDENTIALS,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    const [, next] = await origin.take(2);
    const [landing] = await target.take(1);
    for (const seen of [next, landing]) {
      assert.equal(header(seen, "x-api-key"), "secret-4");
      assert.equal(header(seen, "proxy-authorization"), "Basic c2VjcmV0LTI=");
      assert.equal(header(seen, "cookie"), "session=secret-3");
    }
    assert.deepEqual(hopsOf(outcome).map((h) => h.dropped_headers), [[], []]);
    assert.doesNotMatch(httpProbe.client!.summary!(outcome)!, /not sent/);
  },
});

Deno.test({
  name:
    "http-probe sends URL user info as curl does, redacts the password, and keeps it from another origin",
  ignore: ignore || ignoreWithout("curl"),
  async fn() {
    await using target = await headsPeer();
    await using origin = await headsPeer({ "/start": `${target.base}/landing` });
    const url = `http://al%C3%AFce:p%40ss%20w0rd@127.0.0.1:${origin.port}/start`;
    const outcome = await probe({ url, followRedirects: true });
    assert.equal(outcome.ok, true, outcome.error?.message);
    const [first] = await origin.take(1);
    const [landing] = await target.take(1);
    const expected = `Basic ${
      btoa(String.fromCharCode(...new TextEncoder().encode("alïce:p@ss w0rd")))
    }`;
    assert.equal(header(first, "authorization"), expected);
    assert.equal(header(landing, "authorization"), undefined);
    assert.deepEqual(hopsOf(outcome)[0].dropped_headers, ["authorization"]);
    // curl, the reference, sends the same header for the same URL.
    const curl = await new Deno.Command("curl", {
      args: ["-sS", "-o", "/dev/null", "--max-time", "10", url],
      signal: AbortSignal.timeout(15_000),
    }).output();
    assert.equal(curl.code, 0, new TextDecoder().decode(curl.stderr));
    const [byCurl] = await origin.take(1);
    assert.equal(header(byCurl, "authorization"), expected);
    // The password is nowhere in the outcome or its summary.
    const shown = JSON.stringify(outcome) + httpProbe.client!.summary!(outcome);
    assert.ok(!shown.includes("p%40ss"), shown);
    assert.equal(hopsOf(outcome)[0].url, `http://al%C3%AFce:***@127.0.0.1:${origin.port}/start`);
  },
});

Deno.test({
  name: "http-probe lets a user's own Authorization header win over URL user info",
  ignore,
  async fn() {
    await using peer = await headsPeer();
    const outcome = await probe({
      url: `http://alice:pw@127.0.0.1:${peer.port}/`,
      headers: ["authorization: Bearer mine"],
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    const [seen] = await peer.take(1);
    assert.deepEqual(seen.headers.filter(([n]) => n.toLowerCase() === "authorization"), [
      ["authorization", "Bearer mine"],
    ]);
  },
});

Deno.test({
  name: "http-probe redacts the URL password in errors (a redirect loop) and in the CLI's output",
  ignore,
  async fn() {
    await using peer = await headsPeer({ "/a": "/b", "/b": "/a" });
    const url = `http://alice:hunter2@127.0.0.1:${peer.port}/a`;
    const outcome = await probe({ url, followRedirects: true });
    assert.equal(outcome.error?.name, "RedirectError");
    assert.match(outcome.error!.message, /alice:\*\*\*@/);
    assert.ok(!JSON.stringify(outcome).includes("hunter2"), JSON.stringify(outcome));
    for (const extra of [[], ["--json"]]) {
      const ran = await deno(
        ["run", "-A", MAIN, "probe", url, "--follow-redirects", "--no-isolation", ...extra],
        { timeoutMs: 60_000 },
      );
      assert.equal(ran.code, 1, ran.stderr);
      assert.match(ran.stdout + ran.stderr, /alice:\*\*\*@/);
      assert.ok(!(ran.stdout + ran.stderr).includes("hunter2"), ran.stdout + ran.stderr);
    }
    const ok = await deno([
      "run",
      "-A",
      MAIN,
      "probe",
      `http://alice:hunter2@127.0.0.1:${peer.port}/c`,
    ], {
      timeoutMs: 60_000,
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^GET http:\/\/alice:\*\*\*@127\.0\.0\.1:\d+\/c 200 OK/);
    assert.ok(!(ok.stdout + ok.stderr).includes("hunter2"));
  },
});

Deno.test("wiretest test: no reporter shows a URL's password (params, outcome, error)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-redact-" });
  try {
    // The responder redirects to itself: the step fails with an error that quotes the URL.
    await Deno.writeTextFile(
      `${dir}/pw.wire.yaml`,
      `name: password in a URL
services:
  web:
    plugin: http-probe
    with:
      status: 302
      headers: ["Location: /things"]
steps:
  - plugin: http-probe
    with:
      url: "http://alice:hunter2@\${services.web.addr}/things"
      followRedirects: true
    expect:
      metrics.status: 200
`,
    );
    for (const reporter of ["console", "jsonl", "junit", "tap", "html"]) {
      const ran = await deno(
        ["run", "-A", MAIN, "test", "pw.wire.yaml", "--reporter", reporter, "--output", "out"],
        { cwd: dir, timeoutMs: 60_000 },
      );
      assert.equal(ran.code, 1, `${reporter}: ${ran.stderr}`);
      const written = await Deno.readTextFile(`${dir}/out`);
      assert.match(written, /alice:\*\*\*@127\.0\.0\.1/, `${reporter} shows the redacted URL`);
      const all = written + ran.stdout + ran.stderr;
      assert.ok(!all.includes("hunter2"), `${reporter} shows the password`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "wiretest exporter: debug=true and a refused target do not show a URL's password",
  ignore,
  async fn() {
    await using peer = await headsPeer({ "/a": "/a" });
    const dir = await Deno.makeTempDir({ prefix: "wiretest-redact-exporter-" });
    const config = `${dir}/exporter.yaml`;
    await Deno.writeTextFile(
      config,
      `modules:\n  http:\n    plugin: http-probe\n    with: { followRedirects: true }\n  only_local:\n    plugin: http-probe\n    targets: ["http://nowhere/.*"]\n`,
    );
    const { startExporter } = await import("../../lib/exporter/server.ts");
    const { inProcessExecutor } = await import("../../lib/executor/in_process_executor.ts");
    const { builtinRegistry } = await import("../../plugins/manifest.ts");
    const exporter = await startExporter({
      configFile: config,
      port: 0,
      executor: inProcessExecutor(builtinRegistry()),
    });
    try {
      const base = `http://127.0.0.1:${exporter.port}`;
      const target = encodeURIComponent(`http://alice:hunter2@127.0.0.1:${peer.port}/a`);
      for (const query of [`module=http&debug=true`, `module=only_local`]) {
        const response = await fetch(`${base}/probe?${query}&target=${target}`, {
          signal: AbortSignal.timeout(20_000),
        });
        const text = await response.text();
        assert.match(text, /alice:\*\*\*@/, `${query}: ${text.slice(0, 300)}`);
        assert.ok(!text.includes("hunter2"), `${query}: ${text}`);
      }
      const [seen] = await peer.take(1);
      assert.equal(header(seen, "authorization"), `Basic ${btoa("alice:hunter2")}`);
    } finally {
      await exporter.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "wiretest load http-probe sends URL user info as Basic auth and prints no password",
  ignore,
  async fn() {
    await using peer = await headsPeer({ "/loop": "/loop" });
    for (const path of ["/ok", "/loop"]) {
      const ran = await deno([
        "run",
        "-A",
        MAIN,
        "load",
        "http-probe",
        "--url",
        `http://alice:hunter2@127.0.0.1:${peer.port}${path}`,
        "--follow-redirects",
        "--vus",
        "1",
        "--iterations",
        "2",
        "--no-isolation",
        "--distribution",
      ], { timeoutMs: 60_000 }); // deno-fmt-ignore
      assert.ok(ran.code === 0 || ran.code === 1, ran.stderr);
      assert.ok(!(ran.stdout + ran.stderr).includes("hunter2"), ran.stdout + ran.stderr);
    }
    const [seen] = await peer.take(1);
    assert.equal(header(seen, "authorization"), `Basic ${btoa("alice:hunter2")}`);
  },
});
