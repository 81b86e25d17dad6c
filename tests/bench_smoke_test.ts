// A tiny run of every benchmark row (`deno task bench --quick --only <row>`):
// it still starts its peers, runs every side it can and writes a JSON
// result. No timing is asserted: benchmarks are not tests.
import assert from "node:assert/strict";
import { loadRows, parseArgs } from "../bench/run.ts";
import type { RowReport } from "../bench/_row.ts";
import { ignoreWithout } from "./_support/peer.ts";
import { commandOutput } from "./_support/command.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const rows = await loadRows();

// Without these the row has no server to measure at all (other missing peers
// only skip their own side).
const ESSENTIAL: Record<string, string[]> = {
  "http-probe": ["nginx", "openssl"],
  proxy: ["node", "socat"],
};

Deno.test("parseArgs() reads --quick, --only lists and --pairs", () => {
  const args = parseArgs([
    "--quick",
    "--only",
    "tcp-echo,udp-ping",
    "--only=file-send",
    "--pairs=3",
  ]);
  assert.equal(args.mode, "quick");
  assert.deepEqual(args.only, ["tcp-echo", "udp-ping", "file-send"]);
  assert.equal(args.pairs, 3);
  assert.throws(() => parseArgs(["--pairs", "0"]), RangeError);
  assert.throws(() => parseArgs(["--fast"]), TypeError);
});

Deno.test("loadRows() finds every row in bench/rows with a unique id, in table order", () => {
  assert.ok(rows.length >= 4);
  assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
  const orders = rows.map((r) => r.order);
  assert.deepEqual(orders, [...orders].sort((a, b) => a - b));
});

for (const row of rows) {
  Deno.test({
    name: `bench row "${row.id}" runs in --quick mode and writes a JSON result`,
    ignore: ignoreWithout(...ESSENTIAL[row.id] ?? []),
    async fn() {
      const out = await Deno.makeTempDir({ prefix: "wiretest-bench-smoke-" });
      try {
        const run = await commandOutput(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "bench/run.ts",
            "--quick",
            "--only",
            row.id,
            "--out",
            out,
            "--no-install",
          ],
          cwd: ROOT,
          stdout: "piped",
          stderr: "piped",
        });
        const text = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
        assert.equal(run.code, 0, text);
        const files = [...Deno.readDirSync(out)].map((e) => e.name);
        assert.equal(files.length, 1, files.join());
        assert.match(files[0], new RegExp(`^${row.id}-.*\\.json$`));
        const result = JSON.parse(await Deno.readTextFile(`${out}/${files[0]}`));
        assert.equal(result.row, row.id);
        assert.equal(result.mode, "quick");
        const report = result.report as RowReport;
        assert.ok(report.metrics.length > 0);
        // A side may be skipped only for a missing peer; every other side
        // measured every round. wiretest's own pair needs no peer at all.
        assert.ok(report.sides.length > 0 || report.checks.length > 0, "nothing measured");
        for (const side of report.sides) {
          if (side.skipped) {
            assert.match(side.skipped, /not installed/, `${side.id}: ${side.skipped}`);
            continue;
          }
          const measured = Object.values(side.metrics).flatMap((m) => m.samples);
          assert.ok(measured.length > 0 && measured.every(Number.isFinite), side.id);
        }
        const ours = report.sides.find((s) => s.id === "wiretest" || s.id.startsWith("wiretest-"));
        if (ours) assert.equal(ours.skipped, undefined);
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    },
  });
}
