// `wiretest serve <plugin>`: start a server role, print where it listens,
// run until SIGINT/SIGTERM, then close it and print its counters.
import { startIsolatedServer } from "../plugin/isolation.ts";
import { startServer } from "../plugin/run.ts";
import type { LogLevel } from "../plugin/types.ts";
import { formatAddress } from "../transport/address.ts";
import { flagsHelp, flagSpecs, parseFlags, UsageError } from "./_flags.ts";
import { loadPlugin, manifestsFrom } from "./_load_plugin.ts";
import { EXIT } from "./_exit.ts";
import { oneLine } from "./_one_line.ts";

export async function serveCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name.startsWith("-")) {
    throw new UsageError(`Cannot serve: name a plugin (wiretest serve echo --port 7007)`);
  }
  const { plugin, entry } = await loadPlugin(name, manifestsFrom(rest));
  const role = plugin.server;
  if (!role) throw new UsageError(`Cannot serve plugin "${plugin.name}": it has no server role`);
  const specs = flagSpecs(role.params);
  const positionals = role.positionals ?? [];
  const { params, common } = parseFlags(rest, specs, positionals);
  if (common.help) {
    console.log(
      `wiretest serve ${plugin.name} ${positionals.map((p) => `<${p}>`).join(" ")} [flags]\n\n` +
        `${plugin.description}\n\nFlags:\n${
          flagsHelp(specs, positionals, [
            ["  --json", "print the address and final stats as JSON lines"],
            ["  --debug", "print stack traces and plugin log lines"],
          ])
        }`,
    );
    return EXIT.ok;
  }
  const debug = common.debug === true;
  const options = {
    log: (level: LogLevel, message: string) => {
      if (debug || level === "warn" || level === "error") {
        console.error(`${level}: ${oneLine(message)}`);
      }
    },
  };
  const service = common["no-isolation"]
    ? await startServer(plugin, params, options)
    : await startIsolatedServer(entry, params, options);
  const address = formatAddress(service.address);
  if (common.json) {
    console.log(JSON.stringify({ event: "listening", plugin: plugin.name, address }));
  } else {
    console.log(`${plugin.name} listening on ${address} (Ctrl-C to stop)`);
  }
  const signal = await waitForStopSignal();
  const stats = service.stats();
  await service.close();
  if (common.json) {
    console.log(JSON.stringify({ event: "closed", plugin: plugin.name, signal, stats }));
  } else {
    const parts = Object.entries(stats).map(([k, v]) => `${k}=${v}`).join(" ");
    console.log(`${plugin.name} stopped (${signal})${parts ? `: ${parts}` : ""}`);
  }
  return EXIT.ok;
}

function waitForStopSignal(): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handlers = signals.map((s) => () => {
      signals.forEach((t, i) => Deno.removeSignalListener(t, handlers[i]));
      resolve(s);
    });
    signals.forEach((s, i) => Deno.addSignalListener(s, handlers[i]));
  });
}
