// Runs a built-in plugin's client role and prints one JSON line per run:
// the outcome, how long the role ran and its peak memory. Started by
// runClientProcess() as `deno run -A client_child.ts <plugin> <params JSON>`,
// where the JSON is one params object or a list of them.
import echo from "../../../plugins/echo/mod.ts";
import fileSend from "../../../plugins/file_send/mod.ts";
import httpProbe from "../../../plugins/http_probe/mod.ts";
import udpPing from "../../../plugins/udp_ping/mod.ts";
import { runClient } from "../../../lib/plugin/run.ts";
import type { AnyPlugin } from "../../../lib/plugin/types.ts";
import { memoryOf } from "./process.ts";

const plugins: Record<string, AnyPlugin> = {
  "echo": echo as AnyPlugin,
  "file-send": fileSend as AnyPlugin,
  "http-probe": httpProbe as AnyPlugin,
  "udp-ping": udpPing as AnyPlugin,
};

const [name, jobsJson] = Deno.args;
const plugin = plugins[name];
if (!plugin) throw new TypeError(`Cannot run "${name}": not a built-in plugin`);
// One params object, or a list of them run one after another.
const given = JSON.parse(jobsJson);
const jobs: unknown[] = Array.isArray(given) ? given : [given];

for (const params of jobs) {
  // Reset the high-water mark, so VmHWM afterwards is this run's own peak.
  Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  const before = memoryOf("self");
  const started = performance.now();
  const outcome = await runClient(plugin, params);
  const ms = performance.now() - started;
  const after = memoryOf("self");
  console.log(JSON.stringify({
    outcome,
    ms,
    rssKb: before.rssKb,
    hwmKb: after.hwmKb,
    growthKb: after.hwmKb - before.rssKb,
  }));
}
