// wiretest's own sides: the CLI (or a bench script) run as a separate
// `deno run` process, as the peers are separate processes.
import type { Proc, ProcessGroup } from "./_process.ts";

/** Command and arguments that run wiretest's CLI with `args`. */
export function cli(root: string, args: string[]): [string, string[]] {
  return [Deno.execPath(), ["run", "-A", `${root}/lib/cli/main.ts`, ...args]];
}

/** Command and arguments that run a script in bench/peers/ under Deno (with `flags` for Deno). */
export function denoScript(
  root: string,
  script: string,
  args: string[],
  flags: string[] = [],
): [string, string[]] {
  return [Deno.execPath(), ["run", "-A", ...flags, `${root}/bench/peers/${script}`, ...args]];
}

/** A wiretest server role started with `serve --json`, and where it listens. */
export interface Served {
  proc: Proc;
  host: string;
  port: number;
}

/** Starts `wiretest serve <plugin> --json …` and waits for its "listening" line. */
export async function serve(
  procs: ProcessGroup,
  root: string,
  plugin: string,
  flags: string[],
  runner: "cli" | "rss" = "cli",
): Promise<Served> {
  const args = ["serve", plugin, "--json", ...flags];
  const [cmd, full] = runner === "cli"
    ? cli(root, args)
    : denoScript(root, "wiretest_rss.ts", args);
  const proc = procs.spawn(cmd, full, { cwd: root });
  const match = await proc.waitFor(/"event":"listening".*"address":"([^"]+):(\d+)"/, 30_000);
  return { proc, host: match[1], port: Number(match[2]) };
}
