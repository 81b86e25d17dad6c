// The `wiretest` binary, run as a subprocess the way users run it.
import assert from "node:assert/strict";
import { freePort, ignoreWithout } from "./_support/peer.ts";
import { commandOutput, killAfter } from "./_support/command.ts";
import { makeCertificates } from "./_support/certs.ts";

const MAIN = new URL("../lib/cli/main.ts", import.meta.url).pathname;

async function wiretest(...args: string[]) {
  return await wiretestWith({}, ...args);
}

async function wiretestWith(env: Record<string, string>, ...args: string[]) {
  const out = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  });
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Starts `wiretest serve …`, waits for its "listening" JSON line, returns the address. */
async function serve(...args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", ...args, "--json"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  while (!buffered.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    buffered += value;
  }
  clearTimeout(timer);
  const first = JSON.parse(buffered.split("\n")[0]);
  return {
    address: first.address as string,
    async stop(): Promise<{ code: number; last: Record<string, unknown>; stderr: string }> {
      child.kill("SIGTERM");
      // A server that ignores SIGTERM is killed, which ends the reads below.
      using _ = killAfter(child, 15_000);
      let rest = buffered.slice(buffered.indexOf("\n") + 1);
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        rest += value;
      }
      const stderr = await new Response(child.stderr).text();
      const status = await child.status;
      return { code: status.code, last: JSON.parse(rest.trim().split("\n").at(-1)!), stderr };
    },
  };
}

Deno.test("wiretest --help lists the commands and exits 0", async () => {
  const r = await wiretest("--help");
  assert.equal(r.code, 0);
  for (const cmd of ["serve", "echo", "probe", "ping", "send", "plugins"]) {
    assert.match(r.stdout, new RegExp(`^  ${cmd} `, "m"));
  }
});

Deno.test("wiretest without a command prints help and exits 2", async () => {
  const r = await wiretest();
  assert.equal(r.code, 2);
  assert.match(r.stdout, /Usage: wiretest/);
});

Deno.test("wiretest with an unknown command exits 2 with one line", async () => {
  const r = await wiretest("frobnicate");
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    'error: Cannot run "frobnicate": unknown command (see wiretest --help)',
  );
});

Deno.test("wiretest rejects an unknown flag with exit 2", async () => {
  const r = await wiretest("send", "a", "127.0.0.1:1", "--no-such-flag");
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    'error: Cannot parse arguments: unknown flag "--no-such-flag" (see --help)',
  );
});

Deno.test("every command's own flags are refused as the plugin commands' are: closest name, missing value", async () => {
  // These used node:util's words: "Unknown option '--filtr'. To specify a
  // positional argument starting with a '-', place it at the end…".
  const cases: [string[], string][] = [
    [["test", "--filtr", "x"], 'unknown flag "--filtr" (did you mean "--filter"?)'],
    [["test", "--reporter"], 'flag "--reporter" needs a value'],
    [["exporter", "--confg", "x"], 'unknown flag "--confg" (did you mean "--config"?)'],
    [
      ["report", "html", "a.jsonl", "--outptu", "x"],
      'unknown flag "--outptu" (did you mean "--output"?)',
    ],
    [["plugins", "--jsn"], 'unknown flag "--jsn" (did you mean "--json"?)'],
    [["schema", "--outptu", "x"], 'unknown flag "--outptu" (did you mean "--output"?)'],
    [["reference", "--chek"], 'unknown flag "--chek" (did you mean "--check"?)'],
    [["new", "plugin", "x", "--dri", "y"], 'unknown flag "--dri" (did you mean "--dir"?)'],
  ];
  for (const [args, message] of cases) {
    const r = await wiretest(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), `error: Cannot parse arguments: ${message}`, args.join(" "));
  }
});

Deno.test("wiretest rejects an invalid param value with exit 2 naming the field", async () => {
  const r = await wiretest("send", "a", "127.0.0.1:1", "--chunk-size", "0");
  assert.equal(r.code, 2);
  // The flag typed, not the schema's key ("chunkSize").
  assert.match(r.stderr, /: --chunk-size Too small/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

Deno.test("wiretest plugins lists the five built-in plugins", async () => {
  const r = await wiretest("plugins", "--json");
  assert.equal(r.code, 0);
  const names = JSON.parse(r.stdout).map((p: { name: string }) => p.name).sort();
  assert.deepEqual(names, ["echo", "file-send", "http-probe", "proxy", "udp-ping"]);
});

Deno.test("wiretest send --help shows flags derived from the params schema", async () => {
  const r = await wiretest("send", "--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /wiretest send <file> <target>/);
  assert.match(r.stdout, /--chunk-size <n>/);
  assert.match(r.stdout, /--mode <framed\|raw>/);
});

Deno.test("wiretest test --help says plugins are isolated in processes, as they are", async () => {
  const r = await wiretest("test", "--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--no-isolation {13}run plugins in this process, not each in a process/);
  assert.doesNotMatch(r.stdout, /Workers/);
});

Deno.test("wiretest serve file-send and send: file arrives, exit codes 0 then 1", async () => {
  const dir = await Deno.makeTempDir();
  const src = `${dir}/hello.txt`;
  await Deno.writeTextFile(src, "hello over the wire");
  await Deno.mkdir(`${dir}/inbox`);
  const server = await serve("file-send", "--dir", `${dir}/inbox`);
  try {
    const ok = await wiretest("send", src, server.address, "--json");
    assert.equal(ok.code, 0, ok.stderr);
    const outcome = JSON.parse(ok.stdout);
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.bytes, 19);
    assert.equal(await Deno.readTextFile(`${dir}/inbox/hello.txt`), "hello over the wire");

    const again = await wiretest("send", src, server.address);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: Cannot send file: the receiver refused it: .*exists/m);
    assert.doesNotMatch(again.stderr, /^\s+at /m, "no stack trace without --debug");
  } finally {
    const stopped = await server.stop();
    assert.equal(stopped.code, 0);
    assert.equal(stopped.last.event, "closed");
    assert.equal((stopped.last.stats as Record<string, number>).files_received, 1);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest send to a closed port exits 1 with a readable error", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/f`, "x");
  const r = await wiretest("send", `${dir}/f`, `127.0.0.1:${freePort()}`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: Cannot connect to 127\.0\.0\.1:\d+: connection refused$/m);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "wiretest send shows a progress bar with rate and ETA on a terminal, none when piped",
  ignore: ignoreWithout("script"),
  async fn() {
    const dir = await Deno.makeTempDir();
    const data = new Uint8Array(8 * 1024 * 1024);
    await Deno.writeFile(`${dir}/big.bin`, data);
    await Deno.mkdir(`${dir}/inbox`);
    const server = await serve("file-send", "--dir", `${dir}/inbox`);
    try {
      // `script` gives the CLI a pseudo-terminal, as a person's shell would.
      const cmd = `${Deno.execPath()} run -A ${MAIN} send ${dir}/big.bin ${server.address}`;
      const tty = await commandOutput("script", {
        args: ["-qfec", cmd, "/dev/null"],
        stdout: "piped",
        stderr: "piped",
      });
      const screen = new TextDecoder().decode(tty.stdout);
      assert.equal(tty.code, 0, screen);
      assert.match(screen, /100% \| 8\.0\/8\.0 MiB \| [\d.]+ MiB\/s \| ETA/);

      const piped = await wiretest("send", `${dir}/big.bin`, server.address, "--name", "b2");
      assert.equal(piped.code, 0, piped.stderr);
      assert.doesNotMatch(piped.stdout + piped.stderr, /ETA/);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// A third-party plugin whose top-level code writes a marker file (its path in
// WIRETEST_ESCAPE_MARKER, which its entry lets it read) though its entry
// grants no write access. The CLI runs with -A: had the module been imported
// into the CLI's process, the marker would exist.
const ESCAPE_MANIFEST = new URL("./fixtures/isolation/escape_manifest.json", import.meta.url)
  .pathname;

async function escapeAttempt(...args: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-escape-" });
  const marker = `${dir}/marker`;
  try {
    const r = await wiretestWith({ WIRETEST_ESCAPE_MARKER: marker }, ...args);
    let written = true;
    try {
      await Deno.stat(marker);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      written = false;
    }
    return { ...r, marker, written };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts the CLI refused the plugin with one line naming it and the write it was denied. */
function assertDenied(r: Awaited<ReturnType<typeof escapeAttempt>>): void {
  assert.equal(r.written, false, "the plugin's top-level code wrote with the CLI's permissions");
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr.trim(),
    `error: Cannot load plugin "escapes-at-import" from "file://${
      new URL("./fixtures/isolation/escapes_at_import.ts", import.meta.url).pathname
    }": module failed to import: permission denied: write access to "${r.marker}" is not granted by its manifest entry (grants no write access)`,
  );
}

Deno.test("wiretest run never imports an isolated plugin into the CLI's process", async () => {
  assertDenied(await escapeAttempt("run", "escapes-at-import", "--plugins", ESCAPE_MANIFEST));
});

Deno.test("wiretest run --help describes an isolated plugin from its Worker only", async () => {
  assertDenied(
    await escapeAttempt("run", "escapes-at-import", "--help", "--plugins", ESCAPE_MANIFEST),
  );
});

Deno.test("wiretest serve never imports an isolated plugin into the CLI's process", async () => {
  assertDenied(await escapeAttempt("serve", "escapes-at-import", "--plugins", ESCAPE_MANIFEST));
});

Deno.test("wiretest serve --help describes an isolated plugin from its Worker only", async () => {
  assertDenied(
    await escapeAttempt("serve", "escapes-at-import", "--help", "--plugins", ESCAPE_MANIFEST),
  );
});

Deno.test("wiretest schema describes each isolated plugin from its Worker only", async () => {
  assertDenied(await escapeAttempt("schema", "--plugins", ESCAPE_MANIFEST));
});

Deno.test("wiretest plugins lists a plugin without running its code", async () => {
  const r = await escapeAttempt("plugins", "--json", "--plugins", ESCAPE_MANIFEST);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.written, false);
  const row = JSON.parse(r.stdout).find((p: { name: string }) => p.name === "escapes-at-import");
  assert.equal(row.permissions, "env=WIRETEST_ESCAPE_MARKER");
});

Deno.test("wiretest test checks an isolated plugin's params in its Worker only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-escape-fixture-" });
  try {
    await Deno.writeTextFile(
      `${dir}/escape.wire.yaml`,
      `name: escape\nplugins: [${
        JSON.stringify(ESCAPE_MANIFEST)
      }]\nsteps:\n  - plugin: escapes-at-import\n`,
    );
    const r = await escapeAttempt(
      "test",
      dir,
      ...["--trust", ESCAPE_MANIFEST, "--reporter", "jsonl"],
    );
    assert.equal(r.written, false, "the plugin's top-level code wrote with the CLI's permissions");
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stdout,
      /names plugin \\"escapes-at-import\\", which cannot be used: .*write access to/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest run --no-isolation imports the plugin, whose top-level code then runs with the CLI's permissions", async () => {
  const r = await escapeAttempt(
    "run",
    "escapes-at-import",
    "--no-isolation",
    "--plugins",
    ESCAPE_MANIFEST,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.written, true);
  assert.equal(r.stdout.trim(), "ok: wrote=1");
});

Deno.test("wiretest run takes an isolated plugin's flags, params check and summary from its Worker", async () => {
  const help = await wiretest("run", "described", "--help", "--plugins", ESCAPE_MANIFEST);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^wiretest run described <word> \[flags\]$/m);
  assert.match(help.stdout, /--times <n> +How many times \(default: 1\)/);
  assert.match(help.stdout, /--style <plain\|bang> +Punctuation \(default: "plain"\)/);
  // The singular --tag exists because the schema declares it (x-wiretest-alias), sent by the Worker.
  assert.match(help.stdout, /--tags <string> \(repeatable\) +Labels \(also --tag\)/);
  const tagged = await wiretest(
    "run",
    "described",
    "hi",
    "--tag",
    "a",
    "--tags",
    "b",
    "--json",
    "--plugins",
    ESCAPE_MANIFEST,
  );
  assert.equal(tagged.code, 0, tagged.stderr);
  assert.deepEqual(JSON.parse(tagged.stdout).facts.tags, ["a", "b"]);

  const ran = await wiretest(
    "run",
    "described",
    "hi",
    "--times",
    "2",
    "--style",
    "bang",
    "--plugins",
    ESCAPE_MANIFEST,
  );
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout.trim(), "described: HI! HI! (ran in worker, summarised in worker)");

  // A summary that throws costs the summary, not the result.
  const boom = await wiretest("run", "described", "boom", "--plugins", ESCAPE_MANIFEST);
  assert.equal(boom.code, 0, boom.stderr);
  assert.equal(boom.stdout.trim(), "ok: times=1");
  assert.match(boom.stderr, /^warn: Cannot summarise the outcome: .*the summary exploded/m);

  const bad = await wiretest(
    "run",
    "described",
    "hi",
    "--times",
    "9",
    "--plugins",
    ESCAPE_MANIFEST,
  );
  assert.equal(bad.code, 2);
  // Named by the flag typed, not the schema's key.
  assert.match(bad.stderr, /^error: Cannot use params for plugin "described" \(client\): --times /);

  const inProcess = await wiretest(
    "run",
    "described",
    "hi",
    "--no-isolation",
    "--plugins",
    ESCAPE_MANIFEST,
  );
  assert.equal(inProcess.code, 0, inProcess.stderr);
  assert.equal(inProcess.stdout.trim(), "described: HI (ran in main, summarised in main)");
});

Deno.test("wiretest serve starts an isolated plugin with flags from its Worker", async () => {
  // The fixture only reports the port it is given; it binds nothing.
  const server = await serve("described", "--port", "9", "--plugins", ESCAPE_MANIFEST);
  const stopped = await server.stop();
  assert.equal(server.address, "127.0.0.1:9");
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.deepEqual(stopped.last.stats, { served: 0 });
});

Deno.test("wiretest run refuses a third-party plugin whose manifest description drifted, isolated as in process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-drift-cli-" });
  try {
    const manifest = `${dir}/manifest.json`;
    const module = new URL("./fixtures/isolation/described.ts", import.meta.url).href;
    await Deno.writeTextFile(
      manifest,
      JSON.stringify(
        {
          plugins: {
            described: {
              module,
              description: "Shouts.",
              roles: ["server", "client"],
              apiVersion: 1,
              permissions: {},
            },
          },
        },
        null,
        2,
      ),
    );
    const drift = 'plugin "described": "description" is "Shouts.", but the module\'s plugin says ' +
      '"Shouts a word back; says where its code ran."';
    for (const extra of [[], ["--no-isolation"]]) {
      const r = await wiretest("run", "described", "hi", ...extra, "--plugins", manifest);
      assert.equal(r.code, 2, `${extra}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].includes(drift), r.stderr);
      assert.match(lines[0], /\(line 5, column 22\)$/);
      assert.ok(lines[0].startsWith("error: "), r.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest run and serve name a wrong param by the flag or positional typed, isolated or not", async () => {
  for (const extra of [[], ["--no-isolation"]]) {
    const run = await wiretest(
      "run",
      "http-probe",
      "ftp://127.0.0.1/",
      "--max-redirects=-3",
      "--tls-client=foo",
      ...extra,
    );
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, "");
    assert.equal(
      run.stderr,
      'error: Cannot use params for plugin "http-probe" (client): ' +
        '<url> Cannot parse URL "ftp://127.0.0.1/": it is not an http:// or https:// URL; ' +
        "--max-redirects Too small: expected number to be >=0; " +
        '--tls-client Invalid option: expected one of "auto"|"native"|"node"\n',
    );
    const served = await wiretest("serve", "echo", "--max-connections=0", ...extra);
    assert.equal(served.code, 2, served.stderr);
    assert.equal(
      served.stderr,
      'error: Cannot use params for plugin "echo" (server): ' +
        "--max-connections Too small: expected number to be >=1\n",
    );
  }
});

Deno.test("wiretest test --every 0s quotes the value typed", async () => {
  const r = await wiretest("test", "--every", "0s");
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), 'error: Cannot use --every "0s": it must be more than 0');
});

Deno.test("wiretest serve http-probe --tls-server node answers HTTPS; an unknown stack is a usage error", async () => {
  await using certs = await makeCertificates();
  const tls = ["--cert-file", certs.certFile, "--key-file", certs.keyFile];
  const server = await serve("http-probe", ...tls, "--tls-server", "node", "--body", "via-node");
  try {
    const port = server.address.slice(server.address.lastIndexOf(":") + 1);
    const probe = await wiretest(
      "probe",
      `https://localhost:${port}/`,
      "--ca-file",
      certs.caCertFile,
      "--json",
    );
    assert.equal(probe.code, 0, probe.stderr);
    assert.match(probe.stdout, /"status": 200/);
  } finally {
    await server.stop();
  }
  const bad = await wiretest("serve", "http-probe", ...tls, "--tls-server", "openssl");
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /tls-server|tlsServer/);
});
