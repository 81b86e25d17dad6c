// Hostile and untrusted manifests, through the CLI: a manifest URL whose
// server never answers, one that streams without end, /dev/zero named as a
// manifest, a fixture (as a pull request can add one) that names a manifest
// outside its folder, and plain http: beyond loopback. Each ends in a typed,
// one-line error; the other fixtures of the run still pass; what each
// third-party plugin is granted is in the report.
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandOutput } from "../_support/command.ts";
import { spawnLines } from "./_support/process.ts";

const CLI = new URL("../../lib/cli/main.ts", import.meta.url).pathname;
const KIT = new URL("../runner/_support/test_kit.ts", import.meta.url);

// A server that accepts and reads but never answers, one that answers 200
// and streams its body without end (1 MiB at a time), and one that
// redirects to plain http: beyond loopback.
const SERVERS_PY = `
import socket, threading, sys
def serve(sock, handler):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()
def silent(conn):
    try:
        while conn.recv(65536): pass
    except OSError: pass
def endless(conn):
    try:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n\\r\\n")
        chunk = b" " * (1 << 20)
        while True: conn.sendall(chunk)
    except OSError: pass
def redirect(conn):
    try:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 302 Found\\r\\nLocation: http://192.0.2.1/manifest.json\\r\\nContent-Length: 0\\r\\n\\r\\n")
        conn.close()
    except OSError: pass
ports = []
for handler in (silent, endless, redirect):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
    ports.append(s.getsockname()[1])
    threading.Thread(target=serve, args=(s, handler), daemon=True).start()
print(ports[0], ports[1], ports[2], flush=True)
threading.Event().wait()
`;

const PASS = `name: passes
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}" }
`;

const usesManifest = (name: string, manifest: string) =>
  `name: ${name}\nplugins: [${
    JSON.stringify(manifest)
  }]\nsteps:\n  - plugin: test-kit\n    with: {}\n`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function wiretest(cwd: string, args: string[], limitMs = 60_000): Promise<Run> {
  const out = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd,
    env: { NO_COLOR: "1" },
  }, limitMs);
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

function jsonl(stdout: string): Record<string, unknown>[] {
  return stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
}

interface FixtureEnd {
  type: string;
  fixture: { file: string };
  status: string;
  problems: { message: string }[];
}

function endOf(events: Record<string, unknown>[], file: string): FixtureEnd {
  const end = events.find((e) =>
    e.type === "fixture-end" && (e as unknown as FixtureEnd).fixture.file === file
  );
  assert.ok(end, `no fixture-end for ${file}`);
  return end as unknown as FixtureEnd;
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-hostile-manifest-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function withServers(
  run: (silent: string, endless: string, redirect: string) => Promise<void>,
) {
  await using servers = spawnLines("python3", ["-c", SERVERS_PY]);
  const [silent, endless, redirect] = (await servers.nextLine(10_000)).split(" ");
  await run(
    `http://127.0.0.1:${silent}/manifest.json`,
    `http://127.0.0.1:${endless}/manifest.json`,
    `http://127.0.0.1:${redirect}/manifest.json`,
  );
}

Deno.test("a fixture's manifest that never answers or never ends is invalid; the others run", async () => {
  await withServers(async (silent, endless) => {
    await withDir(async (dir) => {
      await Deno.writeTextFile(join(dir, "ok.wire.yaml"), PASS);
      await Deno.writeTextFile(join(dir, "silent.wire.yaml"), usesManifest("silent", silent));
      await Deno.writeTextFile(join(dir, "endless.wire.yaml"), usesManifest("endless", endless));
      const r = await wiretest(dir, [
        "test",
        ...["ok.wire.yaml", "silent.wire.yaml", "endless.wire.yaml"],
        ...["--trust", silent, "--trust", endless],
        ...["--manifest-timeout", "1s", "--reporter", "jsonl"],
      ]);
      assert.equal(r.code, 2, r.stderr);
      const events = jsonl(r.stdout);
      assert.equal(endOf(events, "ok.wire.yaml").status, "passed");
      assert.deepEqual(endOf(events, "silent.wire.yaml").problems.map((p) => p.message), [
        `Cannot load fixture "silent.wire.yaml:2:11": "plugins[0]" cannot be used: Cannot load manifest "${silent}": ` +
        "no complete answer within 1000 ms",
      ]);
      assert.deepEqual(endOf(events, "endless.wire.yaml").problems.map((p) => p.message), [
        `Cannot load fixture "endless.wire.yaml:2:11": "plugins[0]" cannot be used: Cannot load manifest "${endless}": ` +
        "it is larger than the limit of 1 MiB",
      ]);
    });
  });
});

Deno.test("a fixture's timeout bounds fetching its manifest", async () => {
  await withServers(async (silent) => {
    await withDir(async (dir) => {
      const text = usesManifest("silent", silent).replace("steps:", "timeout: 500ms\nsteps:");
      await Deno.writeTextFile(join(dir, "silent.wire.yaml"), text);
      const r = await wiretest(dir, ["test", "silent.wire.yaml", "--trust", silent]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stdout, /Cannot load manifest "[^"]+": no complete answer within 500 ms/);
    });
  });
});

Deno.test("wiretest plugins and test --plugins end with one line for a silent, endless or device manifest", async () => {
  await withServers(async (silent, endless) => {
    await withDir(async (dir) => {
      await Deno.writeTextFile(join(dir, "ok.wire.yaml"), PASS);
      // The default deadline, 10 s: the command must end on its own.
      const hung = await wiretest(dir, ["plugins", "--plugins", silent], 30_000);
      assert.equal(hung.code, 1);
      assert.equal(
        hung.stderr,
        `error: Cannot load manifest "${silent}": no complete answer within 10000 ms\n`,
      );
      const big = await wiretest(dir, ["test", "ok.wire.yaml", "--plugins", endless]);
      assert.equal(big.code, 1);
      assert.equal(
        big.stderr,
        `error: Cannot load manifest "${endless}": it is larger than the limit of 1 MiB\n`,
      );
      // A device named on the command line is a usage error; the two above are the network's.
      const zero = await wiretest(dir, ["plugins", "--plugins", "/dev/zero"]);
      assert.equal(zero.code, 2);
      assert.equal(
        zero.stderr,
        'error: Cannot load manifest "/dev/zero": it is a character device, not a regular file\n',
      );
    });
  });
});

Deno.test("a fixture cannot pull in a manifest from outside its folder unless the run trusts it, and the report names its grants", async () => {
  await withDir(async (root) => {
    const fixtures = join(root, "fixtures");
    const elsewhere = join(root, "elsewhere");
    await Deno.mkdir(fixtures);
    await Deno.mkdir(elsewhere);
    const manifest = join(elsewhere, "manifest.json");
    await Deno.writeTextFile(
      manifest,
      JSON.stringify({
        plugins: {
          "test-kit": {
            module: KIT.href,
            description: "A client for runner tests.",
            roles: ["client"],
            apiVersion: 1,
            permissions: { net: ["127.0.0.1"], read: ["/etc/hostname"], env: false },
          },
        },
      }),
    );
    await Deno.writeTextFile(join(fixtures, "ok.wire.yaml"), PASS);
    await Deno.writeTextFile(
      join(fixtures, "pr.wire.yaml"),
      usesManifest("from a PR", "../elsewhere/manifest.json"),
    );
    // A link inside the folder to the manifest outside it is no way in.
    await Deno.symlink(manifest, join(fixtures, "linked.json"));
    await Deno.writeTextFile(
      join(fixtures, "linked.wire.yaml"),
      usesManifest("linked", "./linked.json"),
    );
    const files = ["fixtures/ok.wire.yaml", "fixtures/pr.wire.yaml", "fixtures/linked.wire.yaml"];
    const refused = await wiretest(root, ["test", ...files, "--reporter", "jsonl"]);
    assert.equal(refused.code, 2, refused.stderr);
    const events = jsonl(refused.stdout);
    assert.equal(events[0].plugins, undefined);
    assert.equal(endOf(events, "fixtures/ok.wire.yaml").status, "passed");
    assert.deepEqual(endOf(events, "fixtures/pr.wire.yaml").problems.map((p) => p.message), [
      `Cannot load fixture "fixtures/pr.wire.yaml:2:11": "plugins[0]" cannot be used: manifest ` +
      `"elsewhere/manifest.json" is outside the fixture's folder; a fixture may use manifests ` +
      "in its own folder tree, or those named with --plugins or --trust",
    ]);
    assert.match(
      endOf(events, "fixtures/linked.wire.yaml").problems[0].message,
      /linked\.json" is outside the fixture's folder/,
    );

    const trusted = await wiretest(root, [
      "test",
      ...files,
      ...["--trust", "elsewhere/manifest.json", "--reporter", "jsonl"],
    ]);
    assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
    const start = jsonl(trusted.stdout)[0];
    // The link resolves to the trusted file; each is shown as the fixture named it.
    const grant = {
      name: "test-kit",
      module: KIT.href,
      permissions: { net: ["127.0.0.1"], read: ["/etc/hostname"] },
    };
    const plugins = start.plugins as { sha256: string }[];
    // Both are the same bytes, so the same digest.
    const sha256 = plugins[0].sha256;
    assert.match(sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(plugins, [
      {
        ...grant,
        sha256,
        manifest: "fixtures/linked.json",
        fixtures: ["fixtures/linked.wire.yaml"],
      },
      {
        ...grant,
        sha256,
        manifest: "elsewhere/manifest.json",
        fixtures: ["fixtures/pr.wire.yaml"],
      },
    ]);

    // Every reporter names the plugin, its manifest and its grants.
    const trust = ["--trust", "elsewhere/manifest.json"];
    const grants = "net 127.0.0.1; read /etc/hostname";
    const console = await wiretest(root, ["test", ...files, ...trust]);
    assert.equal(console.code, 0, console.stderr);
    assert.ok(
      console.stdout.split("\n").includes(
        'plugin "test-kit" from elsewhere/manifest.json (for fixtures/pr.wire.yaml) may use: ' +
          grants,
      ),
      console.stdout,
    );
    const tap = await wiretest(root, ["test", ...files, ...trust, "--reporter", "tap"]);
    assert.equal(tap.code, 0, tap.stderr);
    assert.ok(
      tap.stdout.split("\n").includes(
        '# plugin "test-kit" from elsewhere/manifest.json (for fixtures/pr.wire.yaml) may use: ' +
          grants,
      ),
      tap.stdout,
    );
    const junit = await wiretest(root, ["test", ...files, ...trust, "--reporter", "junit"]);
    assert.equal(junit.code, 0, junit.stderr);
    const suite = junit.stdout.split('<testsuite name="fixtures/pr.wire.yaml"')[1].split(
      "</testsuite>",
    )[0];
    assert.match(
      suite,
      /<property name="wiretest\.plugin\.test-kit\.manifest" value="elsewhere\/manifest\.json"\/>/,
    );
    assert.ok(
      suite.includes(`<property name="wiretest.plugin.test-kit.grants" value="${grants}"/>`),
      suite,
    );
    const okSuite = junit.stdout.split('<testsuite name="fixtures/ok.wire.yaml"')[1].split(
      "</testsuite>",
    )[0];
    assert.doesNotMatch(okSuite, /<properties>/);
  });
});

Deno.test("plain http: manifests and modules beyond loopback are refused unless allowed", async () => {
  await withDir(async (dir) => {
    // 192.0.2.0/24 is TEST-NET-1: nothing there answers, and nothing is sent.
    const remote = "http://192.0.2.1/manifest.json";
    const r = await wiretest(dir, ["plugins", "--plugins", remote]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: Cannot load manifest "http:\/\/192\.0\.2\.1\/manifest\.json": plain http: is refused beyond loopback/,
    );
    await Deno.writeTextFile(
      join(dir, "manifest.json"),
      JSON.stringify({
        plugins: {
          remote: {
            module: "http://192.0.2.1/mod.ts",
            description: "Fetched in clear.",
            roles: ["client"],
            apiVersion: 1,
            permissions: {},
          },
        },
      }),
    );
    const listed = await wiretest(dir, ["plugins", "--plugins", "manifest.json", "--json"]);
    assert.equal(listed.code, 2);
    assert.match(
      listed.stderr,
      /plugin "remote": "module" "http:\/\/192\.0\.2\.1\/mod\.ts" is plain http:/,
    );
    const allowed = await wiretest(dir, [
      "plugins",
      ...["--plugins", "manifest.json", "--json", "--allow-http-plugins"],
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.ok(JSON.parse(allowed.stdout).some((p: { name: string }) => p.name === "remote"));
    await Deno.writeTextFile(join(dir, "ok.wire.yaml"), PASS);
    await Deno.writeTextFile(
      join(dir, "remote.wire.yaml"),
      "name: remote\nplugins: [./manifest.json]\nsteps:\n  - plugin: remote\n",
    );
    const t = await wiretest(dir, ["test", "ok.wire.yaml", "remote.wire.yaml"]);
    assert.equal(t.code, 2, t.stderr);
    assert.match(t.stdout, /^ok +passes/m);
    assert.match(
      t.stdout,
      /"plugins\[0\]" cannot be used: Cannot load manifest "[^"]*manifest\.json": plugin "remote": "module" "http:\/\/192\.0\.2\.1\/mod\.ts" is plain http: beyond loopback, refused unless allowed \(--allow-http-plugins\)/,
    );
  });
});

Deno.test("with --plugins-lock, a manifest a PR adds beside its fixture, or an approved one edited, is refused", async () => {
  await withDir(async (root) => {
    const fixtures = join(root, "fixtures");
    await Deno.mkdir(fixtures);
    const manifest = (permissions: Record<string, unknown>) =>
      JSON.stringify({
        plugins: {
          "test-kit": {
            module: KIT.href,
            description: "A client for runner tests.",
            roles: ["client"],
            apiVersion: 1,
            permissions,
          },
        },
      });
    await Deno.writeTextFile(join(fixtures, "approved.json"), manifest({}));
    await Deno.writeTextFile(
      join(fixtures, "approved.wire.yaml"),
      usesManifest("approved", "./approved.json"),
    );
    // What a pull request adds: a manifest granting everything, beside its fixture.
    await Deno.writeTextFile(join(fixtures, "pr.json"), manifest({ net: true, read: true }));
    await Deno.writeTextFile(
      join(fixtures, "pr.wire.yaml"),
      usesManifest("from a PR", "./pr.json"),
    );

    const approve = await wiretest(root, [
      "plugins",
      ...["--plugins", "fixtures/approved.json", "--write-lock", "plugins.lock.json"],
    ]);
    assert.equal(approve.code, 0, approve.stderr);
    const lock = JSON.parse(await Deno.readTextFile(join(root, "plugins.lock.json")));
    const digests = Object.keys(lock.manifests);
    assert.equal(digests.length, 1);
    assert.equal(lock.manifests[digests[0]], "fixtures/approved.json");
    assert.equal(approve.stderr, `approved fixtures/approved.json (sha256 ${digests[0]})\n`);

    const locked = ["--plugins-lock", "plugins.lock.json", "--reporter", "jsonl"];
    const r = await wiretest(root, ["test", "fixtures", ...locked]);
    assert.equal(r.code, 2, r.stderr);
    const events = jsonl(r.stdout);
    assert.equal(endOf(events, "fixtures/approved.wire.yaml").status, "passed");
    const [problem] = endOf(events, "fixtures/pr.wire.yaml").problems;
    assert.match(
      problem.message,
      /"plugins\[0\]" cannot be used: manifest "fixtures\/pr\.json" \(sha256 [0-9a-f]{64}\) is not approved by "plugins\.lock\.json"/,
    );
    // Without the lock, the PR's manifest in its own folder loads, and the header shows its grants.
    const open = await wiretest(root, ["test", "fixtures", "--reporter", "jsonl"]);
    assert.equal(open.code, 0, open.stdout + open.stderr);
    const grants = (jsonl(open.stdout)[0].plugins as { manifest: string; permissions: unknown }[])
      .find((g) => g.manifest === "fixtures/pr.json");
    assert.deepEqual(grants?.permissions, { net: true, read: true });

    // The approved manifest edited to grant more is no longer approved.
    await Deno.writeTextFile(join(fixtures, "approved.json"), manifest({ read: true }));
    const edited = await wiretest(root, ["test", "fixtures/approved.wire.yaml", ...locked]);
    assert.equal(edited.code, 2, edited.stderr);
    assert.match(
      edited.stdout,
      /manifest \\"fixtures\/approved\.json\\" \(sha256 [0-9a-f]{64}\) is not approved/,
    );

    // A --plugins manifest the lock does not list ends the command; a missing lock is a usage error.
    const cli = await wiretest(root, [
      "test",
      "fixtures/approved.wire.yaml",
      ...["--plugins", "fixtures/pr.json", "--plugins-lock", "plugins.lock.json"],
    ]);
    assert.equal(cli.code, 1);
    assert.match(
      cli.stderr,
      /^error: Cannot run fixtures: manifest "fixtures\/pr\.json" .* is not approved/,
    );
    const missing = await wiretest(root, ["test", "fixtures", "--plugins-lock", "nope.json"]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'error: Cannot read plugins lock "nope.json": no such file\n');
  });
});

Deno.test("a manifest that redirects to plain http: beyond loopback is refused before that is fetched", async () => {
  await withServers(async (_silent, _endless, redirect) => {
    await withDir(async (dir) => {
      // Fetched, 192.0.2.1 (TEST-NET-1) would not answer: the error would be the 10 s deadline.
      const r = await wiretest(dir, ["plugins", "--plugins", redirect]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `error: Cannot load manifest "${redirect}": it redirects to ` +
          '"http://192.0.2.1/manifest.json": plain http: is refused beyond loopback, as anyone ' +
          "on the way could change the permissions it grants; use https:, or allow it with " +
          "--allow-http-plugins\n",
      );
    });
  });
});
