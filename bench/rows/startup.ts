// Start-up: the wall time of one-shot commands, each in a new process, side
// by side in one run: `wiretest probe URL` and `wiretest echo host:port`
// (isolated, the default) against a minimal `deno run` fetch script, and
// `wiretest --help` against `deno eval`. A round runs each side once.
import { alternate, type Side } from "../_alternate.ts";
import type { BenchRow, RowContext, RowReport } from "../_row.ts";
import { cli, denoScript } from "../_wiretest.ts";
import type { Proc } from "../_process.ts";

// Each sample is the median of this many runs, so one slow start on a
// shared machine does not decide a round.
const RUNS = { quick: 1, default: 5, full: 9 } as const;

const row: BenchRow = {
  id: "startup",
  title: "Start-up of one-shot commands (new process each)",
  order: 15,
  programs: ["python3"],
  async run(ctx: RowContext): Promise<RowReport> {
    const runs = RUNS[ctx.mode];
    let http: Proc | undefined;
    let httpPort = 0;
    let echo: Proc | undefined;
    let echoPort = 0;
    const peers = `${ctx.root}/bench/peers`;
    const url = () => `http://127.0.0.1:${httpPort}/`;

    const wall = (command: () => [string, string[]]) => async () => {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const [cmd, args] = command();
        const started = performance.now();
        const exit = await ctx.procs.run(cmd, args, { cwd: ctx.root, timeoutMs: 60_000 });
        times.push(performance.now() - started);
        if (exit.code !== 0) {
          throw new Error(`${[cmd, ...args].join(" ")} exited ${exit.code}: ${exit.stderr}`);
        }
      }
      times.sort((a, b) => a - b);
      return { wall_ms: times[Math.floor(times.length / 2)] };
    };

    const sides: Side[] = [
      {
        id: "deno-eval",
        label: "deno eval (runtime floor)",
        sample: wall(() => [Deno.execPath(), ["eval", "0"]]),
      },
      {
        id: "wiretest-help",
        label: "wiretest --help",
        sample: wall(() => cli(ctx.root, ["--help"])),
      },
      {
        id: "deno-fetch",
        label: "deno run fetch script",
        async start() {
          await Deno.writeTextFile(`${ctx.tmp}/index.html`, "ok\n");
          http = ctx.procs.spawn("python3", [
            "-u",
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            ctx.tmp,
            "0",
          ]);
          httpPort = Number((await http.waitFor(/port (\d+)/))[1]);
        },
        sample: wall(() => denoScript(ctx.root, "deno_fetch.ts", [url()])),
        stop: async () => void await http?.stop(),
      },
      {
        id: "wiretest-probe",
        label: "wiretest probe URL (isolated)",
        sample: wall(() => cli(ctx.root, ["probe", url()])),
      },
      {
        id: "wiretest-probe-in-process",
        label: "wiretest probe URL --no-isolation",
        sample: wall(() => cli(ctx.root, ["probe", "--no-isolation", url()])),
      },
      {
        id: "wiretest-echo",
        label: "wiretest echo host:port (isolated)",
        async start() {
          echo = ctx.procs.spawn("python3", [`${peers}/python_echo_server.py`, "0"]);
          echoPort = Number((await echo.waitFor(/"port": (\d+)/))[1]);
        },
        sample: wall(() => cli(ctx.root, ["echo", `127.0.0.1:${echoPort}`])),
        stop: async () => void await echo?.stop(),
      },
    ];
    const metrics = [
      { key: "wall_ms", label: "wall time", unit: "ms", better: "lower" as const },
    ];
    const result = await alternate(ctx, sides, metrics, [
      {
        label: "wiretest probe (isolated) / deno fetch script",
        metric: "wall_ms",
        a: "wiretest-probe",
        b: "deno-fetch",
        target: { op: "<=", value: 2.5, text: "≤ 2.5× a deno fetch script" },
      },
      {
        label: "wiretest echo (isolated) / deno fetch script",
        metric: "wall_ms",
        a: "wiretest-echo",
        b: "deno-fetch",
        target: { op: "<=", value: 2.5, text: "≤ 2.5× a deno fetch script" },
      },
      {
        label: "wiretest --help / deno eval",
        metric: "wall_ms",
        a: "wiretest-help",
        b: "deno-eval",
        target: { op: "<=", value: 1.5, text: "≤ 1.5× deno eval" },
      },
      {
        label: "wiretest probe --no-isolation / deno fetch script",
        metric: "wall_ms",
        a: "wiretest-probe-in-process",
        b: "deno-fetch",
      },
    ]);
    return {
      params: { runs_per_sample: runs },
      metrics,
      ...result,
      checks: [],
      notes: [
        "Each sample is the median wall time of several runs of the command, each a new " +
        "process started from the repository (`deno run -A lib/cli/main.ts …`, modules " +
        "cached). The HTTP server is Python's http.server; the echo server the seeds' " +
        "asyncio one.",
      ],
    };
  },
};

export default row;
