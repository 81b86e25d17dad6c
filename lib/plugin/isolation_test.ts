import assert from "node:assert/strict";
import { ConnectionError, PermissionDeniedError } from "../errors.ts";
import { formatAddress } from "../transport/address.ts";
import {
  checkIsolatedParams,
  describeIsolatedPlugin,
  IsolationPool,
  PluginPermissionError,
  runIsolatedClient,
  startIsolatedServer,
  summarizeIsolatedOutcome,
} from "./isolation.ts";
import { loadManifest, type ManifestEntry, type PluginPermissions } from "./manifest.ts";
import { ParamsError } from "./params_schema.ts";
import { PluginLoadError } from "./registry.ts";
import type { LogLevel, Progress } from "./types.ts";
import { commandOutput, within } from "../../tests/_support/command.ts";
import { startServer } from "./run.ts";
import echoPlugin from "../../plugins/echo/mod.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { libcPath } from "../_internal/libc_path.ts";
import { ffiGrant } from "./_isolation_host.ts";

const fixtures = await loadManifest(
  new URL("../../tests/fixtures/isolation/manifest.json", import.meta.url),
);
const builtin = builtinRegistry();
const escapes = await loadManifest(
  new URL("../../tests/fixtures/isolation/escape_manifest.json", import.meta.url),
);

function escapeFixture(name: string): ManifestEntry {
  const entry = escapes.plugins.find((p) => p.name === name);
  assert.ok(entry, `no fixture plugin "${name}"`);
  return entry;
}

/**
 * Runs `fn` with WIRETEST_ESCAPE_MARKER naming a file in a new directory, the
 * file the "escapes-at-import" fixture writes from its top-level code; tells
 * whether it was written.
 */
async function withMarker(fn: (marker: string) => Promise<void>): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-escape-" });
  const marker = `${dir}/marker`;
  Deno.env.set("WIRETEST_ESCAPE_MARKER", marker);
  try {
    await fn(marker);
    return await Deno.stat(marker).then(() => true, () => false);
  } finally {
    Deno.env.delete("WIRETEST_ESCAPE_MARKER");
    await Deno.remove(dir, { recursive: true });
  }
}

function fixture(name: string, permissions?: PluginPermissions): ManifestEntry {
  const entry = fixtures.plugins.find((p) => p.name === name);
  assert.ok(entry, `no fixture plugin "${name}"`);
  return permissions === undefined ? entry : { ...entry, permissions };
}

/** A TCP listener that accepts and closes connections until disposed. */
function acceptor(hostname: string) {
  const listener = Deno.listen({ hostname, port: 0 });
  const accepted: Promise<number> = (async () => {
    let count = 0;
    try {
      for await (const conn of listener) {
        count++;
        conn.close();
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
    return count;
  })();
  return {
    target: `${hostname}:${(listener.addr as Deno.NetAddr).port}`,
    accepted,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepted;
    },
  };
}

Deno.test("runIsolatedClient() denies a socket to 127.0.0.2 when the entry grants net 127.0.0.1", async () => {
  await using peer = acceptor("127.0.0.2");
  const outcome = await runIsolatedClient(fixture("reach"), { connect: peer.target });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "PermissionDeniedError");
  assert.equal(
    outcome.error?.message,
    `Cannot run plugin "reach": permission denied: net access to "${peer.target}" is not granted by its manifest entry (grants net: 127.0.0.1)`,
  );
});

Deno.test("runIsolatedClient() reaches 127.0.0.2 when the entry grants it", async () => {
  await using peer = acceptor("127.0.0.2");
  const entry = fixture("reach", { net: ["127.0.0.1", "127.0.0.2"] });
  const outcome = await runIsolatedClient(entry, { connect: peer.target });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.facts.connected, peer.target);
});

Deno.test("runIsolatedClient() denies the echo plugin a target outside its narrowed grant", async () => {
  await using peer = acceptor("127.0.0.2");
  const echo = { ...builtin.get("echo"), permissions: { net: ["127.0.0.1"] } };
  const outcome = await runIsolatedClient(echo, { target: peer.target, count: 1 });
  assert.equal(outcome.ok, false);
  assert.equal(
    outcome.error?.message,
    `Cannot run plugin "echo": permission denied: net access to "${peer.target}" is not granted by its manifest entry (grants net: 127.0.0.1)`,
  );
  assert.equal(outcome.metrics.connections, 0);
});

Deno.test("runIsolatedClient() cannot read a file outside the granted directory", async () => {
  const granted = await Deno.makeTempDir({ prefix: "wiretest-granted-" });
  const other = await Deno.makeTempDir({ prefix: "wiretest-other-" });
  try {
    await Deno.writeTextFile(`${granted}/inside.txt`, "inside");
    await Deno.writeTextFile(`${other}/outside.txt`, "outside");
    const entry = fixture("reach", { read: [granted] });
    await using pool = new IsolationPool();
    const inside = await runIsolatedClient(entry, { read: `${granted}/inside.txt` }, { pool });
    assert.equal(inside.facts.text, "inside");
    const outside = await runIsolatedClient(entry, { read: `${other}/outside.txt` }, { pool });
    assert.equal(outside.ok, false);
    assert.equal(
      outside.error?.message,
      `Cannot run plugin "reach": permission denied: read access to "${other}/outside.txt" is not granted by its manifest entry (grants read: ${granted})`,
    );
  } finally {
    await Deno.remove(granted, { recursive: true });
    await Deno.remove(other, { recursive: true });
  }
});

// Every permission kind both ways through a real Worker: what the entry grants
// works, what it does not grant is denied with the kind named. (net and read
// are covered above.)
const WHOLE_GRANT: PluginPermissions = { net: true, read: true, write: true, env: true, sys: true };

Deno.test("runIsolatedClient() lets a plugin write only where its entry grants write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-write-" });
  try {
    const file = `${dir}/out.txt`;
    const denied = await runIsolatedClient(fixture("reach", { read: [dir] }), { write: file });
    assert.equal(denied.error?.name, "PermissionDeniedError");
    assert.equal(
      denied.error?.message,
      `Cannot run plugin "reach": permission denied: write access to "${file}" is not granted by its manifest entry (grants no write access)`,
    );
    assert.equal(await Deno.stat(file).then(() => true, () => false), false);
    const granted = await runIsolatedClient(fixture("reach", { write: [dir] }), { write: file });
    assert.equal(granted.ok, true, granted.error?.message);
    assert.equal(await Deno.readTextFile(file), "written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runIsolatedClient() lets a plugin read only the environment variables its entry grants", async () => {
  Deno.env.set("WIRETEST_ISOLATION_ENV", "seen");
  try {
    const params = { env: "WIRETEST_ISOLATION_ENV" };
    // No env grant at all, and a grant of another variable.
    for (const permissions of [{}, { env: ["HOME"] }]) {
      const denied = await runIsolatedClient(fixture("reach", permissions), params);
      assert.equal(denied.error?.name, "PermissionDeniedError");
      assert.match(denied.error!.message, /env access to "WIRETEST_ISOLATION_ENV" is not granted/);
    }
    const granted = await runIsolatedClient(
      fixture("reach", { env: ["WIRETEST_ISOLATION_ENV"] }),
      params,
    );
    assert.equal(granted.ok, true, granted.error?.message);
    assert.equal(granted.facts.env, "seen");
  } finally {
    Deno.env.delete("WIRETEST_ISOLATION_ENV");
  }
});

Deno.test("runIsolatedClient() lets a plugin call only the sys APIs its entry grants", async () => {
  const denied = await runIsolatedClient(fixture("reach", {}), { sys: "hostname" });
  assert.equal(denied.error?.name, "PermissionDeniedError");
  assert.match(denied.error!.message, /sys access to "hostname" is not granted/);
  const granted = await runIsolatedClient(fixture("reach", { sys: ["hostname"] }), {
    sys: "hostname",
  });
  assert.equal(granted.ok, true, granted.error?.message);
  assert.equal(granted.facts.hostname, Deno.hostname());
});

Deno.test("runIsolatedClient() never lets a plugin run a program or load a library, whatever else it grants", async () => {
  for (const permissions of [{}, WHOLE_GRANT]) {
    const run = await runIsolatedClient(fixture("reach", permissions), { run: "true" });
    assert.equal(run.error?.name, "PermissionDeniedError");
    assert.match(run.error!.message, /permission denied: run access to "true" is not granted/);
    const ffi = await runIsolatedClient(fixture("reach", permissions), { ffi: "libc.so.6" });
    assert.equal(ffi.error?.name, "PermissionDeniedError");
    assert.match(ffi.error!.message, /permission denied: ffi access to "libc.so.6" is not granted/);
  }
});

Deno.test({
  name:
    "runIsolatedClient() refuses a third-party entry asking for ffi unless its manifest is trusted for it",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const libc = libcPath();
    assert.ok(libc, "libc's path is found on Linux");
    const entry = fixture("reach", { ffi: ["libc"] });
    await assert.rejects(
      runIsolatedClient(entry, { ffi: libc }),
      (error: unknown) => {
        assert.ok(error instanceof PluginLoadError);
        assert.match(
          error.message,
          /grants ffi \("libc"\): native code escapes every Deno permission, so only wiretest's built-in plugins get it unless the host trusts the manifest for it/,
        );
        return true;
      },
    );
    await using pool = new IsolationPool({ trustFfi: [entry.source] });
    const trusted = await runIsolatedClient(entry, { ffi: libc }, { pool });
    assert.equal(trusted.ok, true, trusted.error?.message);
    assert.equal(trusted.facts.opened, libc);
    // libc's path alone: any other library stays closed.
    const other = await runIsolatedClient(entry, { ffi: "/usr/lib/x86_64-linux-gnu/libm.so.6" }, {
      pool,
    });
    assert.equal(other.error?.name, "PermissionDeniedError");
  },
});

Deno.test({
  name:
    "ffiGrant() gives the built-in udp-ping libc's real path, and nothing to an entry not asking",
  ignore: Deno.build.os !== "linux",
  fn() {
    const grant = ffiGrant(builtin.get("udp-ping"));
    assert.equal(grant?.libc, libcPath());
    assert.equal(grant?.libc, Deno.realPathSync(grant!.libc));
    assert.equal(ffiGrant(builtin.get("http-probe")), undefined);
    assert.equal(ffiGrant(fixture("reach", { net: true })), undefined);
  },
});

Deno.test("startIsolatedServer() throws PluginPermissionError when a service binds outside its grant", async () => {
  const echo = { ...builtin.get("echo"), permissions: { net: ["127.0.0.1"] } };
  await assert.rejects(
    startIsolatedServer(echo, { host: "127.0.0.2" }),
    (error: unknown) => {
      assert.ok(error instanceof PluginPermissionError);
      assert.ok(error instanceof PermissionDeniedError);
      assert.equal(error.plugin, "echo");
      assert.equal(error.permission, "net");
      assert.match(
        error.message,
        /^Cannot run plugin "echo": permission denied: net access to "127\.0\.0\.2(:0)?"/,
      );
      return true;
    },
  );
});

Deno.test("the echo plugin runs isolated with its built-in grant", async () => {
  const echo = builtin.get("echo");
  await using pool = new IsolationPool();
  const server = await startIsolatedServer(echo, {}, { pool });
  try {
    const target = formatAddress(server.address);
    const outcome = await runIsolatedClient(echo, { target, count: 5, payloadSize: 100 }, { pool });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.bytes_received, 500);
    assert.equal(server.stats().bytes_in, 500);
  } finally {
    await server.close();
  }
});

Deno.test("the udp-ping plugin runs isolated with its built-in grant", async () => {
  const udpPing = builtin.get("udp-ping");
  await using pool = new IsolationPool();
  const server = await startIsolatedServer(udpPing, {}, { pool });
  try {
    const target = formatAddress(server.address);
    const outcome = await runIsolatedClient(udpPing, { target, count: 4, intervalMs: 0 }, { pool });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.received, 4);
    assert.equal(server.stats().datagrams_in, 4);
  } finally {
    await server.close();
  }
});

Deno.test("the http-probe plugin runs isolated with its built-in grant", async () => {
  const httpProbe = builtin.get("http-probe");
  await using pool = new IsolationPool();
  const server = await startIsolatedServer(httpProbe, { status: 201, body: "made" }, { pool });
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await runIsolatedClient(httpProbe, { url: `http://127.0.0.1:${port}/` }, {
      pool,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.status, 201);
    assert.equal(server.stats().requests, 1);
  } finally {
    await server.close();
  }
});

Deno.test("the file-send plugin runs isolated with its built-in grant", async () => {
  const fileSend = builtin.get("file-send");
  const dir = await Deno.makeTempDir({ prefix: "wiretest-recv-" });
  const src = await Deno.makeTempFile({ prefix: "wiretest-src-" });
  await using pool = new IsolationPool();
  try {
    const data = crypto.getRandomValues(new Uint8Array(50_000));
    await Deno.writeFile(src, data);
    const server = await startIsolatedServer(fileSend, { dir }, { pool });
    try {
      const target = formatAddress(server.address);
      const outcome = await runIsolatedClient(fileSend, { file: src, target, name: "got.bin" }, {
        pool,
      });
      assert.equal(outcome.ok, true, outcome.error?.message);
      assert.equal(outcome.metrics.bytes, data.length);
      assert.deepEqual(await Deno.readFile(`${dir}/got.bin`), data);
      assert.equal(server.stats().files_received, 1);
    } finally {
      await server.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(src);
  }
});

Deno.test("runIsolatedClient() terminates a plugin that ignores its deadline", async () => {
  const hang = fixture("hang");
  await using pool = new IsolationPool();
  // Started first, so the deadline is the plugin's and not spent starting the Worker.
  await pool.warm(hang);
  const outcome = await within(
    runIsolatedClient(hang, { mode: "ignore" }, { timeout: 100, graceMs: 100, pool }),
    30_000,
    "the hanging plugin to be terminated",
  );
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "TimeoutError");
  assert.equal(
    outcome.error?.message,
    'Cannot run plugin "hang": it did not stop within 100 ms after its deadline passed, so its process was killed',
  );
  assert.equal(pool.size, 0);
});

Deno.test("runIsolatedClient() terminates a busy plugin when its signal aborts", async () => {
  const controller = new AbortController();
  const logs: string[] = [];
  await using pool = new IsolationPool();
  const running = runIsolatedClient(fixture("hang"), { mode: "busy" }, {
    signal: controller.signal,
    graceMs: 100,
    pool,
    log: (_level, message) => {
      logs.push(message);
      controller.abort();
    },
  });
  const outcome = await running;
  assert.equal(outcome.error?.name, "AbortError");
  // Busy, it answers not even a ping: its process is stuck, and killed as such.
  assert.equal(
    outcome.error!.message,
    'Cannot run plugin "hang": its process answered nothing within 100 ms after it was cancelled (its run stuck, a busy loop), so it was killed',
  );
  assert.deepEqual(logs, ["hanging (busy)"]);
  assert.equal(pool.size, 0);
});

Deno.test("runIsolatedClient() with graceMs 2^31 waits for a cancelled plugin to stop by itself", async () => {
  const echo = builtin.get("echo");
  await using pool = new IsolationPool();
  await pool.warm(echo);
  const server = await startServer(echoPlugin, {});
  try {
    const controller = new AbortController();
    const running = runIsolatedClient(echo, {
      target: formatAddress(server.address),
      durationMs: 60_000,
    }, { signal: controller.signal, graceMs: 2 ** 31, pool });
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort(new DOMException("stop", "AbortError"));
    const outcome = await running;
    assert.equal(outcome.ok, false);
    assert.doesNotMatch(outcome.error?.message ?? "", /did not stop within/);
    // Its Worker was not terminated: it went back to the pool.
    assert.equal(pool.size, 1);
  } finally {
    await server.close();
  }
});

Deno.test("runIsolatedClient() rejects with PluginLoadError when the module throws at import", async () => {
  await assert.rejects(
    runIsolatedClient(fixture("throws-at-import"), {}),
    (error: unknown) => {
      assert.ok(error instanceof PluginLoadError);
      assert.equal(error.plugin, "throws-at-import");
      assert.match(
        error.message,
        /^Cannot load plugin "throws-at-import" from "file:\/\/\/.*throws_at_import\.ts": module failed to import: RangeError: boom at import$/,
      );
      return true;
    },
  );
});

Deno.test("runIsolatedClient() names the permission a module lacks at import", async () => {
  await assert.rejects(
    runIsolatedClient(fixture("reads-at-import"), {}),
    (error: unknown) => {
      assert.ok(error instanceof PluginLoadError);
      assert.match(
        error.message,
        /module failed to import: permission denied: read access to "\/etc\/hostname" is not granted by its manifest entry \(grants no read access\)$/,
      );
      return true;
    },
  );
});

Deno.test("runIsolatedClient() rejects with PluginLoadError when the module does not exist", async () => {
  await assert.rejects(
    runIsolatedClient(fixture("missing"), {}),
    (error: unknown) =>
      error instanceof PluginLoadError &&
      /^Cannot load plugin "missing" from ".*\/missing\.ts": module not found$/.test(
        error.message,
      ),
  );
});

Deno.test("runIsolatedClient() forwards log lines and progress to the caller", async () => {
  const logs: [LogLevel, string][] = [];
  const progress: Progress[] = [];
  const outcome = await runIsolatedClient(fixture("chatty"), { steps: 2 }, {
    log: (level, message) => logs.push([level, message]),
    progress: (update) => progress.push(update),
  });
  assert.equal(outcome.metrics.steps, 2);
  assert.deepEqual(logs, [["debug", "step 1"], ["debug", "step 2"]]);
  assert.deepEqual(progress, [
    { done: 1, total: 2, unit: "steps", label: "chatty" },
    { done: 2, total: 2, unit: "steps", label: "chatty" },
  ]);
});

Deno.test("startIsolatedServer() forwards logs and reads stats until and after close", async () => {
  const logs: string[] = [];
  const service = await startIsolatedServer(fixture("chatty"), { greeting: "hello" }, {
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  assert.deepEqual(service.stats(), { served: 0, answer: 42 });
  await service.close();
  await service.close();
  assert.deepEqual(logs, ["info: serving: hello", "debug: closing"]);
  assert.deepEqual(service.stats(), { served: 0, answer: 42 });
});

Deno.test("runIsolatedClient() gives the plugin the caller's deadline", async () => {
  const deadline = Date.now() + 60_000;
  const outcome = await runIsolatedClient(fixture("chatty"), {}, { deadline });
  assert.equal(outcome.facts.deadline, deadline);
});

Deno.test("startIsolatedServer() closes the service when its signal aborts", async () => {
  const controller = new AbortController();
  const logs: string[] = [];
  const { promise: closed, resolve } = Promise.withResolvers<void>();
  const service = await startIsolatedServer(fixture("chatty"), {}, {
    signal: controller.signal,
    log: (_level, message) => {
      logs.push(message);
      if (message === "closing") resolve();
    },
  });
  controller.abort();
  await closed;
  await service.close();
  assert.deepEqual(logs, ["serving: hi", "closing"]);
});

Deno.test("runIsolatedClient() rebuilds a ParamsError with its issues", async () => {
  await assert.rejects(
    runIsolatedClient(builtin.get("echo"), { count: -1 }),
    (error: unknown) => {
      assert.ok(error instanceof ParamsError);
      assert.match(error.message, /^Cannot use params for plugin "echo" \(client\): /);
      assert.deepEqual(error.issues.map((i) => i.path[0]).sort(), ["count", "target"]);
      return true;
    },
  );
});

Deno.test("startIsolatedServer() rebuilds a typed ConnectionError from the Worker", async () => {
  await using peer = acceptor("127.0.0.1");
  const port = Number(peer.target.split(":")[1]);
  await assert.rejects(
    startIsolatedServer(builtin.get("echo"), { port }),
    (error: unknown) => error instanceof ConnectionError && error.code === "address-in-use",
  );
});

Deno.test("checkIsolatedParams() accepts valid params and rejects a role the plugin lacks", async () => {
  await using pool = new IsolationPool();
  await checkIsolatedParams(fixture("chatty"), "client", { steps: 5 }, { pool });
  await assert.rejects(
    checkIsolatedParams(fixture("reach"), "server", {}, { pool }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message === 'Cannot use plugin "reach": it has no server role',
  );
});

Deno.test("describeIsolatedPlugin() reads a plugin's params schemas and positionals from its Worker", async () => {
  const described = await describeIsolatedPlugin(escapeFixture("described"));
  assert.equal(described.name, "described");
  assert.equal(described.version, "1.2.3");
  assert.deepEqual(described.client?.positionals, ["word"]);
  assert.equal(described.client?.summary, true);
  assert.deepEqual(described.client?.params.required, ["word"]);
  assert.deepEqual(described.client?.params.properties?.style, {
    default: "plain",
    description: "Punctuation",
    enum: ["plain", "bang"],
    type: "string",
  });
  assert.deepEqual(described.server?.positionals, []);
  assert.equal(described.server?.params.properties?.port.default, 0);
});

Deno.test("describeIsolatedPlugin() names the write a plugin's top-level code was denied, which never happens", async () => {
  let marker = "";
  const written = await withMarker(async (path) => {
    marker = path;
    await assert.rejects(
      describeIsolatedPlugin(escapeFixture("escapes-at-import")),
      (error: unknown) =>
        error instanceof PluginLoadError && error.plugin === "escapes-at-import" &&
        error.message.endsWith(
          `module failed to import: permission denied: write access to "${marker}" is not granted by its manifest entry (grants no write access)`,
        ),
    );
  });
  assert.equal(written, false);
});

Deno.test("runIsolatedClient() refuses an entry for another API version before its module runs", async () => {
  await using pool = new IsolationPool();
  const written = await withMarker(async (marker) => {
    // Granted the write, its top-level code would leave the marker if it ran at all.
    const future = {
      ...escapeFixture("escapes-at-import"),
      apiVersion: 2,
      permissions: { env: ["WIRETEST_ESCAPE_MARKER"], write: [marker] },
    };
    await assert.rejects(
      runIsolatedClient(future, {}, { pool }),
      (error: unknown) =>
        error instanceof PluginLoadError &&
        error.message.endsWith("it needs plugin API version 2, this wiretest provides version 1"),
    );
  });
  assert.equal(written, false);
  assert.equal(pool.size, 0);
});

Deno.test("summarizeIsolatedOutcome() runs the plugin's summary in the Worker that ran its role", async () => {
  await using pool = new IsolationPool();
  const described = escapeFixture("described");
  const outcome = await runIsolatedClient(described, { word: "hey", times: 2 }, { pool });
  assert.equal(
    await summarizeIsolatedOutcome(described, outcome, { pool }),
    "HEY HEY (ran in worker, summarised in worker)",
  );
  assert.equal(pool.size, 1);
});

Deno.test("summarizeIsolatedOutcome() is undefined for a plugin without a summary", async () => {
  const outcome = { ok: true, metrics: { steps: 1 }, facts: {} };
  assert.equal(await summarizeIsolatedOutcome(fixture("chatty"), outcome), undefined);
});

Deno.test("IsolationPool reuses one warm Worker for consecutive steps", async () => {
  await using pool = new IsolationPool();
  const chatty = fixture("chatty");
  for (let i = 0; i < 3; i++) {
    const outcome = await runIsolatedClient(chatty, { steps: 1 }, { pool });
    assert.equal(outcome.ok, true);
  }
  assert.equal(pool.size, 1);
  // The module's state survived between steps: the same Worker ran all three.
  const service = await startIsolatedServer(chatty, {}, { pool });
  assert.equal(service.stats().served, 3);
  await service.close();
});

Deno.test("a pooled plugin process parses a role's params once per input, and never lends one input's to another", async () => {
  await using pool = new IsolationPool();
  const parses = fixture("parses");
  const run = async (input: Record<string, unknown>) => {
    const outcome = await runIsolatedClient(parses, input, { pool });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    return outcome;
  };
  // The same params again: parsed once in that process (they were twice).
  assert.equal((await run({ value: 1 })).metrics.parses, 1);
  assert.equal((await run({ value: 1 })).metrics.parses, 1);
  // Inputs alike as text or as values each get their own parsed params.
  const inputs: Record<string, unknown>[] = [
    { value: 1 },
    { value: "1" },
    { value: true },
    { value: "true" },
    { value: null },
    { value: 1, tags: ["a"] },
    { value: 1, tags: ["b"] },
    { value: 1, tags: [] },
  ];
  for (let round = 0; round < 2; round++) {
    for (const input of inputs) {
      const { facts } = await run(input);
      const value = input.value;
      assert.deepEqual(facts, {
        value,
        kind: value === null ? "null" : typeof value,
        tags: input.tags ?? [],
      });
    }
  }
  // Eight different inputs, each parsed once however often it came.
  assert.equal((await run({ value: 1 })).metrics.parses, 8);
  assert.equal(pool.size, 1);
});

Deno.test("a pooled plugin process's cached params: a run that changes them changes no later run's", async () => {
  await using pool = new IsolationPool();
  const keeps = fixture("keeps-params");
  for (let run = 0; run < 3; run++) {
    const outcome = await runIsolatedClient(keeps, { tags: [] }, { pool });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    // Each run starts from its input's params, not the last run's.
    assert.equal(outcome.metrics.tags_found, 0, `run ${run}`);
  }
  assert.equal(pool.size, 1);
});

Deno.test("IsolationPool.close() stops a running service", async () => {
  const pool = new IsolationPool();
  const echo = builtin.get("echo");
  const service = await startIsolatedServer(echo, {}, { pool });
  const { port } = service.address as Deno.NetAddr;
  await pool.close();
  assert.equal(pool.size, 0);
  await service.close();
  // The Worker's sockets close as its thread ends, soon after terminate().
  let refused = false;
  for (let i = 0; i < 500 && !refused; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      await new Promise((resolve) => setTimeout(resolve, 20));
    } catch (error) {
      // Reset: connected to the backlog of a listener closing as its process dies; try again.
      if (error instanceof Deno.errors.ConnectionReset) continue;
      assert.ok(error instanceof Deno.errors.ConnectionRefused);
      refused = true;
    }
  }
  assert.ok(refused, "the service still accepts connections 10 s after its pool closed");
});

Deno.test({
  name: "runIsolatedClient() refuses an entry that grants more than this process has",
  permissions: { net: ["127.0.0.1"], read: true, env: true },
  async fn() {
    await assert.rejects(
      runIsolatedClient(builtin.get("udp-ping"), { target: "127.0.0.1:9" }),
      (error: unknown) =>
        error instanceof PluginLoadError &&
        error.message.endsWith(
          "its manifest entry grants all net access, which this process does not have (run wiretest with --allow-net, narrow the entry, or use --no-isolation)",
        ),
    );
  },
});

Deno.test({
  name: "runIsolatedClient() refuses to start a plugin when this process may not run deno",
  permissions: { net: true, read: true, write: true, env: true, sys: true },
  async fn() {
    await assert.rejects(
      runIsolatedClient(builtin.get("echo"), { target: "127.0.0.1:9" }),
      (error: unknown) =>
        error instanceof PluginLoadError &&
        error.message.endsWith(
          "isolation starts a Deno process for each plugin, which this process may not (run wiretest with --allow-run, or use --no-isolation)",
        ),
    );
  },
});

Deno.test("isolation works when wiretest is imported over HTTP, as from JSR", async () => {
  const root = new URL("../../", import.meta.url);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname.slice(1);
    try {
      const body = await Deno.readFile(new URL(path, root));
      const type = path.endsWith(".json") ? "application/json" : "application/typescript";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const dir = await Deno.makeTempDir({ prefix: "wiretest-remote-" });
  try {
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({ unstable: config.unstable, imports: config.imports }),
    );
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { builtinRegistry, IsolationPool, isolatedExecutor } from "${origin}/lib/host/mod.ts";
const registry = builtinRegistry();
const echo = registry.get("echo");
await using pool = new IsolationPool();
const executor = isolatedExecutor(registry, { pool });
const server = await (await executor.prepare("echo", "server", {})).serve();
const target = "127.0.0.1:" + (server.address as Deno.NetAddr).port;
const outcome = await (await executor.prepare("echo", "client", { target, count: 2 })).run();
await server.close();
console.log(JSON.stringify({ module: echo.module, roundTrips: outcome.metrics.round_trips }));
`,
    );
    const output = await commandOutput(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--config", `${dir}/deno.json`, `${dir}/main.ts`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    });
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(result.module, `${origin}/plugins/echo/mod.ts`);
    assert.equal(result.roundTrips, 2);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
