// processes shared between roles (`rolesPerProcess`), and messages sent
// together in one turn.
import assert from "node:assert/strict";
import { formatAddress } from "../transport/address.ts";
import {
  checkIsolatedParams,
  IsolationPool,
  runIsolatedClient,
  startIsolatedServer,
} from "./isolation.ts";
import { loadManifest, type ManifestEntry } from "./manifest.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { pendingFolders } from "./_isolation_host.ts";

const fixtures = await loadManifest(
  new URL("../../tests/fixtures/isolation/manifest.json", import.meta.url),
);

function fixture(name: string): ManifestEntry {
  const entry = fixtures.plugins.find((p) => p.name === name);
  assert.ok(entry, `no fixture plugin "${name}"`);
  return entry;
}

Deno.test("IsolationPool() rejects a rolesPerProcess (or its deprecated rolesPerWorker) that is not a positive integer", () => {
  for (const name of ["rolesPerProcess", "rolesPerWorker"] as const) {
    for (const value of [0, 1.5, -1, NaN]) {
      assert.throws(() => new IsolationPool({ [name]: value }), {
        name: "RangeError",
        message: `Cannot create isolation pool: ${name} "${value}" is not a positive integer`,
      });
    }
  }
  assert.throws(() => new IsolationPool({ rolesPerProcess: 2, rolesPerWorker: 3 }), {
    name: "RangeError",
    message:
      'Cannot create isolation pool: rolesPerProcess "2" and its deprecated alias rolesPerWorker "3" differ',
  });
});

for (const name of ["rolesPerProcess", "rolesPerWorker"] as const) {
  Deno.test(`IsolationPool runs a service and a step in one process when ${name} is 2`, async () => {
    const echo = builtinRegistry().get("echo");
    await using pool = new IsolationPool({ [name]: 2 });
    const service = await startIsolatedServer(echo, {}, { pool });
    try {
      const target = formatAddress(service.address);
      const outcome = await runIsolatedClient(echo, { target, count: 3 }, { pool });
      assert.equal(outcome.ok, true);
      assert.equal(outcome.metrics.round_trips, 3);
      assert.equal(pool.size, 1);
    } finally {
      await service.close();
    }
  });
}

Deno.test("IsolationPool starts a process per role by default", async () => {
  const echo = builtinRegistry().get("echo");
  await using pool = new IsolationPool();
  const service = await startIsolatedServer(echo, {}, { pool });
  try {
    const target = formatAddress(service.address);
    const outcome = await runIsolatedClient(echo, { target, count: 3 }, { pool });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.round_trips, 3);
    assert.equal(pool.size, 2);
  } finally {
    await service.close();
  }
});

Deno.test("IsolationPool starts a second process for roles beyond rolesPerProcess", async () => {
  const chatty = fixture("chatty");
  await using pool = new IsolationPool({ rolesPerProcess: 2 });
  const services = [];
  for (let i = 0; i < 3; i++) services.push(await startIsolatedServer(chatty, {}, { pool }));
  assert.equal(pool.size, 2);
  for (const service of services) await service.close();
  // Both stay warm: two idle processes are within maxIdlePerPlugin's default.
  assert.equal(pool.size, 2);
});

Deno.test("IsolationPool checks params in a busy process rather than start one", async () => {
  const chatty = fixture("chatty");
  await using pool = new IsolationPool({ rolesPerProcess: 1 });
  const service = await startIsolatedServer(chatty, {}, { pool });
  await Promise.all(
    Array.from({ length: 5 }, () => checkIsolatedParams(chatty, "client", { steps: 2 }, { pool })),
  );
  assert.equal(pool.size, 1);
  await service.close();
});

Deno.test("a process shared with a role that hung ends only with its last role, taking no new one", async () => {
  const hang = fixture("hang");
  await using pool = new IsolationPool({ rolesPerProcess: 2 });
  await pool.warm(hang);
  const short = runIsolatedClient(hang, { mode: "ignore" }, { timeout: 100, graceMs: 100, pool });
  // The long one outlives the short one's end by seconds, however loaded the machine.
  const long = runIsolatedClient(hang, { mode: "ignore" }, { timeout: 5_000, graceMs: 100, pool });
  const first = await short;
  assert.equal(first.error?.name, "TimeoutError");
  assert.match(first.error!.message, /did not stop within 100 ms after its deadline passed/);
  // The other role still runs in it, so it is still alive…
  assert.equal(pool.size, 1);
  // …but it takes no new role: this check starts another process.
  await checkIsolatedParams(hang, "client", {}, { pool });
  assert.equal(pool.size, 2);
  const second = await long;
  assert.equal(second.error?.name, "TimeoutError");
  // The hung process ended with its last role; the new one stays warm.
  assert.equal(pool.size, 1);
});

Deno.test("a role whose params cannot be cloned fails alone when sent with others in one turn", async () => {
  const chatty = fixture("chatty");
  await using pool = new IsolationPool({ rolesPerProcess: 4 });
  await pool.warm(chatty);
  const [good, bad, alsoGood] = await Promise.all([
    runIsolatedClient(chatty, { steps: 1 }, { pool }),
    runIsolatedClient(chatty, { steps: () => 1 }, { pool }),
    runIsolatedClient(chatty, { steps: 2 }, { pool }),
  ]);
  assert.equal(good.ok, true);
  assert.equal(good.metrics.steps, 1);
  assert.equal(bad.ok, false);
  assert.equal(bad.error?.name, "DataCloneError");
  assert.equal(alsoGood.ok, true);
  assert.equal(alsoGood.metrics.steps, 2);
});

Deno.test("a plugin process's main module and socket are gone once it is ready, its private folder once its stats connection is made", async () => {
  await using pool = new IsolationPool();
  const chatty = fixture("chatty");
  const warming = pool.warm(chatty);
  const [dir] = pendingFolders();
  assert.ok(dir, "no folder while the process starts");
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  await warming;
  // Kept for the stats socket of a first service, and empty until then.
  assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  const service = await startIsolatedServer(chatty, {}, { pool });
  assert.equal(pool.size, 1, "the service runs in the warm process");
  // The bridge says so on its own channel, which may come after the service's answer.
  for (let i = 0; i < 1000 && pendingFolders().length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(pendingFolders(), []);
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
  await service.close();
});

Deno.test("a plugin process that ran no service leaves no folder once its pool is closed", async () => {
  const pool = new IsolationPool();
  await pool.warm(fixture("chatty"));
  const [dir] = pendingFolders();
  assert.ok(dir);
  await pool.close();
  assert.deepEqual(pendingFolders(), []);
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
});

Deno.test("a stats bridge that fails is reported: the service does not start, and its process ends", async () => {
  await using pool = new IsolationPool();
  const chatty = fixture("chatty");
  await pool.warm(chatty);
  const [dir] = pendingFolders();
  // Where the bridge would listen for the process's stats connection.
  await Deno.remove(dir, { recursive: true });
  await assert.rejects(startIsolatedServer(chatty, {}, { pool }), (error: Error) => {
    assert.match(
      error.message,
      /^Cannot run plugin "chatty": its stats bridge cannot listen: No such file or directory/,
    );
    return true;
  });
  assert.equal(pool.size, 0);
});

Deno.test("a plugin writing the host's own events on its sockets cannot make the host kill another process", async () => {
  // A process the forged "spawned" names: the host would SIGKILL it when ending the plugin's.
  const victim = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" })
    .spawn();
  try {
    const pool = new IsolationPool();
    const outcome = await runIsolatedClient(fixture("forger"), { pid: victim.pid }, { pool });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.ok(Number(outcome.metrics.written) >= 1, "the forged frames were written");
    await pool.close();
    // Ended its own plugin process only; the victim is still running.
    const status = await Promise.race([
      victim.status.then(() => "ended"),
      new Promise((resolve) => setTimeout(() => resolve("running"), 300)),
    ]);
    assert.equal(status, "running", "the host killed the process a plugin named");
  } finally {
    victim.kill("SIGKILL");
    await victim.status;
  }
});

Deno.test("a plugin's process starts V8's young generation at a 32nd of its heap, up to 16 MiB", async () => {
  const { processArgs } = await import("./_isolation_host.ts");
  const flags = (heapMiB: number) =>
    processArgs({ net: true }, "/tmp/s.sock", "/tmp/main.js", heapMiB)
      .filter((arg) => arg.startsWith("--v8-flags="));
  assert.deepEqual(flags(512), [
    "--v8-flags=--max-old-space-size=512",
    "--v8-flags=--min-semi-space-size=16",
  ]);
  assert.deepEqual(flags(2048), [
    "--v8-flags=--max-old-space-size=2048",
    "--v8-flags=--min-semi-space-size=16",
  ]);
  assert.deepEqual(flags(64), [
    "--v8-flags=--max-old-space-size=64",
    "--v8-flags=--min-semi-space-size=2",
  ]);
  // Small ceilings keep V8's default (1 MiB).
  assert.deepEqual(flags(32), ["--v8-flags=--max-old-space-size=32"]);
});
