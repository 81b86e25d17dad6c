// nginx as the HTTP peer of several rows: its config written into the row's
// directory, started in the foreground of the row's process group, and
// waited for on every port it should listen on.
import type { Proc, ProcessGroup } from "./_process.ts";
import { waitForTcp } from "../tests/_support/peer.ts";

/**
 * Writes `config` (see tests/_support/nginx.ts) to `dir`/nginx.conf, starts
 * nginx with `dir` as its prefix and error log there, and resolves when each
 * of `ports` accepts connections (10 s each, or it rejects).
 */
export async function startNginx(
  procs: ProcessGroup,
  dir: string,
  config: string,
  ports: number[],
): Promise<Proc> {
  await Deno.writeTextFile(`${dir}/nginx.conf`, config);
  const nginx = procs.spawn("nginx", [
    "-p",
    dir,
    "-c",
    `${dir}/nginx.conf`,
    "-e",
    `${dir}/error.log`,
  ]);
  for (const port of ports) await waitForTcp(port, 10_000);
  return nginx;
}
