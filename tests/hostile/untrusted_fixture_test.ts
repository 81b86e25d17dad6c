// Hostile fixture files named on the command line (as a pull request can
// add them to a CI run): a FIFO, a symbolic link to /dev/zero, a file far
// larger than the limit. Each must be
// reported as an invalid fixture with a one-line reason while the other
// fixtures of the run still pass, and the runner's memory stays bounded.
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandOutput } from "../_support/command.ts";

const CLI = new URL("../../lib/cli/main.ts", import.meta.url).pathname;

const PASS = `name: passes
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}" }
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the CLI process (all its Workers are threads), in KiB. */
  maxRssKb: number;
}

/**
 * `wiretest test` in `cwd`. With `measure`, under /usr/bin/time for its
 * peak memory (not otherwise: killing a hung run would kill only `time`).
 */
async function wiretest(cwd: string, args: string[], measure = false): Promise<Run> {
  const rssFile = join(cwd, ".maxrss");
  const cli = [Deno.execPath(), "run", "-A", CLI, "test", ...args];
  const [command, ...rest] = measure ? ["/usr/bin/time", "-f", "%M", "-o", rssFile, ...cli] : cli;
  const out = await commandOutput(command, { args: rest, cwd, env: { NO_COLOR: "1" } }, 60_000);
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
    maxRssKb: measure
      ? Number((await Deno.readTextFile(rssFile)).trim().split("\n").at(-1))
      : Number.NaN,
  };
}

/** The lines of a console report about one file, the verdict line first. */
function reportOf(stdout: string, file: string): string[] {
  const lines = stdout.split("\n");
  const at = lines.findIndex((line) => line.includes(`(${file})`));
  assert.notEqual(at, -1, `no report line for ${file} in:\n${stdout}`);
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((line) => !line.startsWith("  "));
  return [lines[at], ...rest.slice(0, end)];
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-hostile-fixture-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a FIFO and a link to /dev/zero named as fixtures are invalid, the rest pass", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "ok.wire.yaml"), PASS);
    await new Deno.Command("mkfifo", { args: [join(dir, "fifo.wire.yaml")] }).output();
    await Deno.symlink("/dev/zero", join(dir, "zero.wire.yaml"));
    const r = await wiretest(dir, ["ok.wire.yaml", "fifo.wire.yaml", "zero.wire.yaml"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(reportOf(r.stdout, "ok.wire.yaml")[0], /^ok +passes/);
    assert.deepEqual(reportOf(r.stdout, "fifo.wire.yaml"), [
      "INVALID fifo.wire.yaml (fifo.wire.yaml)",
      '  Cannot load fixture "fifo.wire.yaml:1:1": it is a FIFO, not a regular file',
    ]);
    assert.deepEqual(reportOf(r.stdout, "zero.wire.yaml"), [
      "INVALID zero.wire.yaml (zero.wire.yaml)",
      '  Cannot load fixture "zero.wire.yaml:1:1": it is a character device, not a regular file',
    ]);
    assert.match(r.stdout, /^1 passed, 0 failed, 2 invalid/m);
  });
});

Deno.test("a 20 MB fixture is invalid, the rest pass, and the runner's peak memory stays bounded", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "ok.wire.yaml"), PASS);
    const step = '  - plugin: echo\n    with: { target: "127.0.0.1:7" }\n';
    const big = "name: big\nsteps:\n" + step.repeat(Math.ceil(20e6 / step.length));
    await Deno.writeTextFile(join(dir, "big.wire.yaml"), big);
    const r = await wiretest(dir, ["ok.wire.yaml", "big.wire.yaml", "--reporter", "jsonl"], true);
    assert.equal(r.code, 2, r.stderr);
    const events = r.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    const ends = events.filter((e) => e.type === "fixture-end");
    const big_ = ends.find((e) => e.fixture.file === "big.wire.yaml");
    assert.equal(big_.status, "invalid");
    assert.deepEqual(
      big_.problems.map((p: { message: string }) => p.message),
      ['Cannot load fixture "big.wire.yaml:1:1": it is larger than the limit of 1 MiB'],
    );
    assert.equal(ends.find((e) => e.fixture.file === "ok.wire.yaml").status, "passed");
    // Read whole and parsed, 20 MB took 821 MB; refused unread, the run
    // stays near what a run of the small fixture alone takes (about 85 MiB).
    assert.ok(r.maxRssKb < 300 * 1024, `peak RSS ${r.maxRssKb} KiB`);
  });
});

Deno.test("--max-fixture-size raises the limit, and a fixture within it runs", async () => {
  await withDir(async (dir) => {
    const padded = PASS + `#${"x".repeat(2 * 2 ** 20)}\n`;
    await Deno.writeTextFile(join(dir, "padded.wire.yaml"), padded);
    const refused = await wiretest(dir, ["padded.wire.yaml"]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stdout, /it is larger than the limit of 1 MiB/);
    const raised = await wiretest(dir, ["padded.wire.yaml", "--max-fixture-size", "3MiB"]);
    assert.equal(raised.code, 0, raised.stdout + raised.stderr);
    assert.match(raised.stdout, /^ok +passes/m);
    const bad = await wiretest(dir, ["padded.wire.yaml", "--max-fixture-size", "lots"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^.*Cannot use --max-fixture-size "lots": /m);
  });
});
