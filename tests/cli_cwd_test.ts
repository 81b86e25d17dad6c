// The CLI works from where the user stands: paths on the command line are
// relative to the folder `deno task wiretest` was run in (not the checkout's
// root, where `deno task` runs its tasks), a path that names nothing readable
// is one line and exit 2, and `serve`/`run` without a plugin list the plugins.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { deno, errorLines, MAIN, ROOT, serve } from "./_support/deno_process.ts";

const EXAMPLES = join(ROOT, "examples");
const ESCAPE_MANIFEST = join(ROOT, "tests/fixtures/isolation/escape_manifest.json");

Deno.test("deno task wiretest in a subfolder reads a relative path from that folder", async () => {
  const inbox = await Deno.makeTempDir({ prefix: "wiretest-cwd-" });
  try {
    await using server = await serve(["file-send", "--dir", inbox]);
    const sent = await deno(
      ["task", "wiretest", "send", "fixtures/data/hello.txt", server.address, "--json"],
      { cwd: EXAMPLES },
    );
    assert.equal(sent.code, 0, sent.stderr);
    const expected = await Deno.readFile(join(EXAMPLES, "fixtures/data/hello.txt"));
    assert.equal(JSON.parse(sent.stdout).metrics.bytes, expected.length);
    assert.deepEqual(await Deno.readFile(join(inbox, "hello.txt")), expected);
  } finally {
    await Deno.remove(inbox, { recursive: true });
  }
});

Deno.test("deno task wiretest names a missing file relative to the folder it runs in, exit 2", async () => {
  const r = await deno(["task", "wiretest", "send", "no-such-file.txt", "127.0.0.1:9"], {
    cwd: EXAMPLES,
  });
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(errorLines(r.stderr), [
    `error: Cannot read file "no-such-file.txt": it does not exist (relative to "${EXAMPLES}")`,
  ]);
});

Deno.test("deno task --config from another folder takes --plugins, fixtures, --output and --dir from it", async () => {
  const here = await Deno.makeTempDir({ prefix: "wiretest-cwd-" });
  const task = ["task", "--config", join(ROOT, "deno.json"), "wiretest"];
  try {
    const manifest = relative(here, ESCAPE_MANIFEST);
    const ran = await deno([...task, "run", "described", "hi", "--plugins", manifest], {
      cwd: here,
    });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout.trim(), "described: HI (ran in worker, summarised in worker)");

    await Deno.mkdir(join(here, "fx"));
    await Deno.copyFile(
      join(EXAMPLES, "fixtures/echo_tcp.wire.yaml"),
      join(here, "fx/echo.wire.yaml"),
    );
    const tested = await deno(
      [...task, "test", "fx", "--reporter", "junit", "--output", "report.xml"],
      { cwd: here },
    );
    assert.equal(tested.code, 0, tested.stderr);
    assert.match(
      await Deno.readTextFile(join(here, "report.xml")),
      /<testcase name="echo over TCP"/,
    );

    const schema = await deno([...task, "schema", "--output", "fixture.schema.json"], {
      cwd: here,
    });
    assert.equal(schema.code, 0, schema.stderr);
    assert.equal(
      JSON.parse(await Deno.readTextFile(join(here, "fixture.schema.json"))).title,
      "wiretest fixture",
    );

    const created = await deno([...task, "new", "plugin", "here-ping", "--jsr"], { cwd: here });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^ {2}cd \.\/here-ping$/m);
    assert.ok((await Deno.stat(join(here, "here-ping/mod.ts"))).isFile);
  } finally {
    await Deno.remove(here, { recursive: true });
  }
});

// Each path a command takes, given something unreadable: exactly one line, exit 2.
const UNREADABLE: [string, string[], (dir: string) => string][] = [
  [
    "send <missing>",
    ["send", "missing.bin", "127.0.0.1:9"],
    (d) => `error: Cannot read file "missing.bin": it does not exist (relative to "${d}")`,
  ],
  [
    "send <a directory>",
    ["send", ".", "127.0.0.1:9"],
    () => `error: Cannot read file ".": it is a directory`,
  ],
  ["probe --body-file", [
    "probe",
    "http://127.0.0.1:9/",
    "--method",
    "POST",
    "--body-file",
    "/nonexistent/body",
  ], () => `error: Cannot read file "/nonexistent/body": it does not exist`],
  [
    "probe --ca-file",
    ["probe", "https://127.0.0.1:9/", "--ca-file", "ca.pem"],
    (d) => `error: Cannot read file "ca.pem": it does not exist (relative to "${d}")`,
  ],
  [
    "echo --ca-file",
    ["echo", "127.0.0.1:9", "--transport", "tls", "--ca-file", "."],
    () => `error: Cannot read file ".": it is a directory`,
  ],
  ["serve echo --cert", [
    "serve",
    "echo",
    "--transport",
    "tls",
    "--cert",
    "cert.pem",
    "--key",
    "key.pem",
  ], (d) => `error: Cannot read file "cert.pem": it does not exist (relative to "${d}")`],
  ["serve http-probe --cert-file", [
    "serve",
    "http-probe",
    "--cert-file",
    "/nonexistent/cert.pem",
    "--key-file",
    "/nonexistent/key.pem",
  ], () => `error: Cannot read file "/nonexistent/cert.pem": it does not exist`],
  [
    "serve file-send --dir <missing>",
    ["serve", "file-send", "--dir", "inbox"],
    (d) => `error: Cannot use directory "inbox": it does not exist (relative to "${d}")`,
  ],
  [
    "serve file-send --dir <a file>",
    ["serve", "file-send", "--dir", "/dev/null"],
    () => `error: Cannot use directory "/dev/null": it is a character device, not a directory`,
  ],
  [
    "--plugins",
    ["run", "echo", "127.0.0.1:9", "--plugins", "missing.json"],
    () => `error: Cannot load manifest "missing.json": no such file`,
  ],
  [
    "test <missing>",
    ["test", "missing"],
    () => `error: Cannot find fixtures: "missing" does not exist`,
  ],
  [
    "schema --output",
    ["schema", "--output", "/nonexistent/s.json"],
    () => `error: Cannot write --output "/nonexistent/s.json": its folder does not exist`,
  ],
  [
    "new plugin <300 characters>",
    ["new", "plugin", "a".repeat(300)],
    () => `error: Cannot create plugin "${"a".repeat(40)}…": the name is longer than 64 characters`,
  ],
];

for (const [what, args, expected] of UNREADABLE) {
  Deno.test(`wiretest ${what}: one line naming the path, exit 2`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-paths-" });
    try {
      const r = await deno(["run", "-A", MAIN, ...args], { cwd: dir });
      assert.deepEqual(errorLines(r.stderr), [expected(dir)]);
      assert.equal(r.code, 2);
      assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was created");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("wiretest serve --help and run --help without a plugin list the plugins with that role", async () => {
  const served = await deno(["run", "-A", MAIN, "serve", "--help"]);
  assert.equal(served.code, 0, served.stderr);
  assert.match(served.stdout, /^wiretest serve <plugin> \[arguments\] \[flags\]$/m);
  for (const name of ["echo", "http-probe", "udp-ping", "file-send"]) {
    assert.match(served.stdout, new RegExp(`^  ${name} +\\S`, "m"));
  }

  const listed = await deno(["run", "-A", MAIN, "run", "-h", "--plugins", ESCAPE_MANIFEST]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^ {2}described +Shouts a word back; says where its code ran\.$/m);
  assert.match(listed.stdout, /^ {2}udp-ping +\S/m);

  // A plugin with only a client role is listed by run, not by serve.
  const resp = ["--plugins", join(ROOT, "examples/plugins/resp/manifest.json")];
  const clients = await deno(["run", "-A", MAIN, "run", "--help", ...resp]);
  assert.match(clients.stdout, /^ {2}resp +\S/m);
  const servers = await deno(["run", "-A", MAIN, "serve", "--help", ...resp]);
  assert.equal(servers.code, 0, servers.stderr);
  assert.doesNotMatch(servers.stdout, /^ {2}resp /m);
});

Deno.test("wiretest serve and run without a plugin say which they could run, one line, exit 2", async () => {
  for (const command of ["serve", "run"]) {
    const r = await deno(["run", "-A", MAIN, command]);
    assert.equal(r.code, 2);
    assert.deepEqual(errorLines(r.stderr), [
      `error: Cannot ${command}: name a plugin (echo, http-probe, udp-ping, file-send, proxy; wiretest ${command} --help)`,
    ]);
  }
});
