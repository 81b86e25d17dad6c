// The CLI's UDP measurements, isolated (the default): built-in udp-ping and
// echo get FFI for libc alone through their process's flags, so `wiretest
// ping` measures on the libc path (fact io "libc") against our server and
// against a Python echo; `--no-ffi` sends them back to Deno's sockets.
import assert from "node:assert/strict";
import { deno, MAIN, serve } from "./_support/deno_process.ts";
import { freePort, ignoreWithout, spawnPeer, waitForUdp } from "./_support/peer.ts";
import { libcPath } from "../lib/_internal/libc_path.ts";

const LINUX = Deno.build.os === "linux" && ["x86_64", "aarch64"].includes(Deno.build.arch);

async function ping(target: string, ...flags: string[]) {
  const ran = await deno(
    ["run", "-A", MAIN, "ping", target, "--count", "50", "--interval-ms", "1", "--json", ...flags],
    { timeoutMs: 60_000 },
  );
  const outcome = ran.stdout.trim() === "" ? undefined : JSON.parse(ran.stdout);
  return { ...ran, outcome };
}

Deno.test({
  name: "wiretest ping against wiretest serve udp-ping measures on libc, isolated, both sides",
  ignore: !LINUX,
  async fn() {
    // --io libc fails to listen unless its process was granted FFI for libc.
    await using server = await serve(["udp-ping", "--port", "0", "--io", "libc"]);
    const auto = await ping(server.address);
    assert.equal(auto.code, 0, auto.stderr);
    assert.equal(auto.outcome.facts.io, "libc");
    assert.equal(auto.outcome.metrics.received, 50);
    const forced = await ping(server.address, "--io", "libc");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.outcome.facts.io, "libc");
  },
});

Deno.test({
  name: "wiretest ping --no-ffi measures with Deno's sockets, and refuses --io libc",
  ignore: !LINUX,
  async fn() {
    await using server = await serve(["udp-ping", "--port", "0", "--no-ffi"]);
    const auto = await ping(server.address, "--no-ffi");
    assert.equal(auto.code, 0, auto.stderr);
    assert.equal(auto.outcome.facts.io, "deno");
    assert.equal(auto.outcome.facts.clock, "performance.now");
    assert.equal(auto.outcome.metrics.received, 50);
    const forced = await ping(server.address, "--io", "libc", "--no-ffi");
    assert.equal(forced.code, 1);
    assert.match(
      forced.outcome.error.message,
      /io "libc" is not available: ffi is not granted for libc's path \(--no-ffi revokes it, /,
    );
  },
});

Deno.test({
  name: "wiretest serve udp-ping --no-ffi --io libc cannot listen",
  ignore: !LINUX,
  async fn() {
    const ran = await deno(
      ["run", "-A", MAIN, "serve", "udp-ping", "--port", "0", "--io", "libc", "--no-ffi"],
      { timeoutMs: 60_000 },
    );
    assert.equal(ran.code, 1);
    assert.match(ran.stderr, /io "libc" is not available: ffi is not granted for libc's path/);
  },
});

/**
 * Writes `dir/manifest.json` naming the isolation fixtures' `reach` plugin
 * (one Deno API per permission kind) with `permissions`.
 */
async function writeReachManifest(dir: string, permissions: Record<string, unknown>) {
  const module = new URL("./fixtures/isolation/plugins.ts", import.meta.url).href;
  await Deno.writeTextFile(
    `${dir}/manifest.json`,
    JSON.stringify({
      plugins: {
        reach: {
          module,
          description:
            "Uses one Deno API per permission kind: connect, read, write, env, sys, run, ffi.",
          roles: ["client"],
          apiVersion: 1,
          permissions,
          export: "reach",
        },
      },
    }),
  );
}

const PYTHON_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    data, addr = s.recvfrom(2048)
    s.sendto(data, addr)
`;

Deno.test({
  name: "wiretest ping against a Python UDP echo: libc by default, deno with --no-ffi",
  ignore: !LINUX || ignoreWithout("python3"),
  async fn() {
    const port = freePort("udp");
    await using _peer = spawnPeer("python3", ["-c", PYTHON_ECHO, String(port)]);
    await waitForUdp(port);
    const native = await ping(`127.0.0.1:${port}`);
    assert.equal(native.code, 0, native.stderr);
    assert.equal(native.outcome.facts.io, "libc");
    assert.equal(native.outcome.metrics.received, 50);
    const plain = await ping(`127.0.0.1:${port}`, "--no-ffi");
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.outcome.facts.io, "deno");
    assert.equal(plain.outcome.metrics.received, 50);
  },
});

Deno.test({
  name: "wiretest serve echo --transport udp --io libc echoes to wiretest echo, isolated",
  ignore: !LINUX,
  async fn() {
    await using server = await serve(["echo", "--transport", "udp", "--port", "0", "--io", "libc"]);
    const ran = await deno(
      ["run", "-A", MAIN, "echo", server.address, "--transport", "udp", "--count", "20", "--json"],
      { timeoutMs: 60_000 },
    );
    assert.equal(ran.code, 0, ran.stderr);
    const outcome = JSON.parse(ran.stdout);
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.round_trips, 20);
  },
});

Deno.test({
  name:
    "wiretest test: a fixture's udp-ping and UDP echo keep libc through the runner's file confinement",
  ignore: !LINUX,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-ffi-fixture-" });
    try {
      await Deno.writeTextFile(
        `${dir}/ping.wire.yaml`,
        `name: libc under the runner
services:
  pong: { plugin: udp-ping, with: { io: libc } }
  echo: { plugin: echo, with: { transport: udp, io: libc } }
steps:
  - name: ping
    plugin: udp-ping
    with: { target: "\${services.pong.addr}", count: 20, intervalMs: 1, timeoutMs: 5000, io: libc }
    expect:
      metrics.received: 20
      facts.io: libc
  - name: echo
    plugin: echo
    with: { target: "\${services.echo.addr}", transport: udp, count: 20 }
    expect:
      metrics.round_trips: 20
`,
      );
      const ran = await deno(["run", "-A", MAIN, "test", `${dir}/ping.wire.yaml`], {
        timeoutMs: 90_000,
      });
      assert.equal(ran.code, 0, ran.stdout + ran.stderr);
      assert.match(ran.stdout, /1 passed, 0 failed/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "wiretest run refuses a third-party plugin whose manifest asks for ffi unless --trust-ffi names it",
  ignore: !LINUX,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-ffi-manifest-" });
    try {
      await writeReachManifest(dir, { net: ["127.0.0.1"], ffi: ["libc"] });
      const ran = await deno(
        [
          "run",
          "-A",
          MAIN,
          "run",
          "reach",
          "--plugins",
          `${dir}/manifest.json`,
          "--ffi",
          "libc.so.6",
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(ran.code, 2, ran.stdout + ran.stderr);
      assert.match(
        ran.stderr,
        /Cannot load plugin "reach" .*its manifest entry grants ffi \("libc"\): native code escapes every Deno permission/,
      );
      // Trusted for it by name, the same plugin loads libc, and only libc.
      const libc = libcPath()!;
      const trusted = await deno(
        [
          "run",
          "-A",
          MAIN,
          "run",
          "reach",
          "--plugins",
          `${dir}/manifest.json`,
          "--trust-ffi",
          `${dir}/manifest.json`,
          "--ffi",
          libc,
          "--json",
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
      assert.equal(JSON.parse(trusted.stdout).facts.opened, libc);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "wiretest test: a fixture's own manifest asking for ffi fails the step unless --trust-ffi names it",
  ignore: !LINUX,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-ffi-runner-" });
    try {
      const libc = libcPath()!;
      await writeReachManifest(dir, { ffi: ["libc"] });
      await Deno.writeTextFile(
        `${dir}/ffi.wire.yaml`,
        `name: third-party ffi
plugins: [./manifest.json]
steps:
  - plugin: reach
    with: { ffi: "${libc}" }
    expect:
      facts.opened: "${libc}"
`,
      );
      const refused = await deno(["run", "-A", MAIN, "test", `${dir}/ffi.wire.yaml`], {
        timeoutMs: 90_000,
      });
      assert.notEqual(refused.code, 0);
      assert.match(
        refused.stdout,
        /grants ffi \("libc"\): native code escapes every Deno permission/,
      );
      const trusted = await deno(
        ["run", "-A", MAIN, "test", `${dir}/ffi.wire.yaml`, "--trust-ffi", `${dir}/manifest.json`],
        { timeoutMs: 90_000 },
      );
      assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
      assert.match(trusted.stdout, /1 passed, 0 failed/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "wiretest exporter: a module whose plugin's manifest asks for ffi is refused unless --trust-ffi names it",
  ignore: !LINUX,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-ffi-exporter-" });
    const libc = libcPath()!;
    await writeReachManifest(dir, { ffi: ["libc"] });
    // The scrape's target is the library the plugin opens.
    await Deno.writeTextFile(
      `${dir}/exporter.yaml`,
      `modules:\n  libc:\n    plugin: reach\n    target: ffi\n    expect: { facts.opened: "${libc}" }\n`,
    );
    const args = [
      "exporter",
      "--config",
      `${dir}/exporter.yaml`,
      "--plugins",
      `${dir}/manifest.json`,
    ];
    try {
      const refused = await deno(["run", "-A", MAIN, ...args], { timeoutMs: 60_000 });
      assert.equal(refused.code, 2, refused.stdout + refused.stderr);
      assert.match(
        refused.stderr,
        /"modules\.libc\.plugin" cannot be used: .*grants ffi \("libc"\): native code escapes every Deno permission/,
      );
      const port = freePort();
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          ...args,
          "--trust-ffi",
          `${dir}/manifest.json`,
          "--listen",
          `127.0.0.1:${port}`,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const output = child.output();
      try {
        const url = `http://127.0.0.1:${port}/probe?module=libc&target=${encodeURIComponent(libc)}`;
        let text = "";
        for (let i = 0; i < 200 && text === ""; i++) {
          text = await fetch(url).then((r) => r.text(), () => "");
          if (text === "") await new Promise((ok) => setTimeout(ok, 100));
        }
        assert.match(text, /^probe_success 1$/m, text);
      } finally {
        child.kill("SIGTERM");
        const done = await output;
        clearTimeout(killer);
        assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a trusted third-party plugin opens libc at libcCandidates()[0]; a link to it is refused naming the real path",
  ignore: !LINUX,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-ffi-candidates-" });
    try {
      const lib = new URL("../lib/", import.meta.url).href;
      // The plugin opens the path `open` evaluates to, and reports getpid().
      const plugin = (open: string) =>
        `import { definePlugin } from "${lib}plugin/mod.ts";
import { LIBC_PATHS, libcCandidates } from "${lib}transport/unstable_udp.ts";
import { z } from "npm:zod@^4";
export default definePlugin({
  name: "pid",
  version: "1.0.0",
  description: "getpid through libc",
  client: {
    params: z.object({}),
    outcome: { metrics: [{ name: "pid", unit: "count", description: "getpid()" }], facts: [] },
    run() {
      void LIBC_PATHS; void libcCandidates;
      const libc = Deno.dlopen(${open}, { getpid: { parameters: [], result: "i32" } });
      const pid = libc.symbols.getpid() as number;
      libc.close();
      return Promise.resolve({ ok: true, metrics: { pid }, facts: {} });
    },
  },
});
`;
      const manifest = (module: string) =>
        JSON.stringify({
          plugins: {
            pid: {
              module,
              description: "getpid through libc",
              roles: ["client"],
              apiVersion: 1,
              permissions: { ffi: ["libc"] },
            },
          },
        });
      await Deno.writeTextFile(`${dir}/first.ts`, plugin("libcCandidates()[0]"));
      await Deno.writeTextFile(`${dir}/first.json`, manifest("./first.ts"));
      const first = await deno(
        [
          "run",
          "-A",
          MAIN,
          "run",
          "pid",
          "--plugins",
          `${dir}/first.json`,
          "--trust-ffi",
          `${dir}/first.json`,
          "--json",
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(first.code, 0, first.stdout + first.stderr);
      assert.ok(JSON.parse(first.stdout).metrics.pid > 1);
      // Where the first usual path is a link (/lib on merged /usr), Deno
      // refuses it: the message names the one path the grant covers.
      const link = (await import("../lib/transport/unstable_udp.ts")).LIBC_PATHS[0];
      const real = libcPath()!;
      let linked = false;
      try {
        linked = Deno.realPathSync(link) === real && link !== real;
      } catch { /* not there */ }
      if (!linked) return;
      await Deno.writeTextFile(`${dir}/link.ts`, plugin("LIBC_PATHS[0]"));
      await Deno.writeTextFile(`${dir}/link.json`, manifest("./link.ts"));
      const refused = await deno(
        [
          "run",
          "-A",
          MAIN,
          "run",
          "pid",
          "--plugins",
          `${dir}/link.json`,
          "--trust-ffi",
          `${dir}/link.json`,
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      assert.equal(
        refused.stderr.trim(),
        `error: Cannot run plugin "pid": permission denied: ffi access to "${link}" is not granted by its manifest entry (grants ffi: libc, at "${real}" only)`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * Runs `wiretest serve <args>` (text output), reads its first line, stops it
 * with SIGTERM and returns every stdout line; bounded in time.
 */
async function serveLines(args: string[]): Promise<string[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    child.kill("SIGTERM");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await child.stderr.cancel();
    const status = await child.status;
    assert.equal(status.code, 0, text);
    return text.trim().split("\n");
  } finally {
    clearTimeout(killer);
  }
}

const ADDRESS = String.raw`127\.0\.0\.1:\d+`;

Deno.test({
  name: "wiretest serve udp-ping says io libc when it starts and stops",
  ignore: !LINUX,
  async fn() {
    const [start, stop] = await serveLines(["udp-ping", "--port", "0"]);
    assert.match(
      start,
      new RegExp(`^udp-ping listening on ${ADDRESS} \\(io libc; Ctrl-C to stop\\)$`),
    );
    assert.match(
      stop,
      /^udp-ping stopped \(SIGTERM\): datagrams_in=0 .*warm_up_in=0 receive_drops=0; io libc$/,
    );
  },
});

Deno.test({
  name: "wiretest serve udp-ping --no-ffi says io deno and why auto fell back, text and --json",
  ignore: !LINUX,
  async fn() {
    const [start, stop] = await serveLines(["udp-ping", "--port", "0", "--no-ffi"]);
    assert.match(
      start,
      new RegExp(
        `^udp-ping listening on ${ADDRESS} \\(io deno, fallback from libc: ffi is not granted for libc's path \\(--no-ffi revokes it, .*; Ctrl-C to stop\\)$`,
      ),
    );
    assert.match(
      stop,
      /^udp-ping stopped \(SIGTERM\): datagrams_in=0 .*; io deno, fallback from libc: ffi is not granted/,
    );
    const json = await serveLines(["udp-ping", "--port", "0", "--no-ffi", "--json"]);
    const [listening, closed] = json.map((line) => JSON.parse(line));
    assert.equal(listening.facts.io, "deno");
    assert.match(listening.facts.fallback, /^from libc: ffi is not granted for libc's path/);
    assert.deepEqual(closed.facts, listening.facts);
    assert.equal(closed.stats.datagrams_in, 0);
  },
});

Deno.test({
  name: "wiretest serve echo --transport udp says its io; TCP says none",
  ignore: !LINUX,
  async fn() {
    const [libc] = await serveLines(["echo", "--transport", "udp", "--port", "0"]);
    assert.match(libc, new RegExp(`^echo listening on ${ADDRESS} \\(io libc; Ctrl-C to stop\\)$`));
    const [deno] = await serveLines(["echo", "--transport", "udp", "--port", "0", "--io", "deno"]);
    assert.match(deno, new RegExp(`^echo listening on ${ADDRESS} \\(io deno; Ctrl-C to stop\\)$`));
    const [tcp] = await serveLines(["echo", "--port", "0"]);
    assert.match(tcp, new RegExp(`^echo listening on ${ADDRESS} \\(Ctrl-C to stop\\)$`));
  },
});
