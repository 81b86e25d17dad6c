// `wiretest serve <plugin>`: start a server role, print where it listens,
// run until SIGINT/SIGTERM, then close it and print its counters.
import type { LogLevel } from "../plugin/types.ts";
import { formatAddress } from "../transport/address.ts";
import {
  commonFlagsHelp,
  flagsHelp,
  flagSpecs,
  parseFlags,
  UsageError,
  usageLine,
} from "./_flags.ts";
import { namedByFlags } from "./_flag_issues.ts";
import { statsHelp } from "./_outcome_help.ts";
import { openPlugin } from "./_load_plugin.ts";
import { asksForHelp, noPluginError, pluginMenu } from "./_plugin_menu.ts";
import { EXIT } from "./_exit.ts";
import { oneLine, printable } from "./_one_line.ts";
import { roundFloat, stringifyRounded } from "../_internal/round_float.ts";

/** How a command built on `serve` (`wiretest proxy`) tells its own usage in `--help`. */
export interface ServeHelp {
  /** The usage line. */
  usage: string;
  /** Defaults the command sets for params, shown instead of the schema's. */
  defaults?: Record<string, unknown>;
  /** Rows of the command's own flags, shown before the common ones. */
  flags?: [string, string][];
}

export async function serveCommand(args: string[], help?: ServeHelp): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name.startsWith("-")) {
    if (!asksForHelp(args)) throw await noPluginError("serve", args);
    console.log(await pluginMenu("serve", args));
    return EXIT.ok;
  }
  // Isolated, the flags and the params check come from the plugin's process:
  // its module is never imported into this process.
  await using plugin = await openPlugin(name, rest);
  const { server: role } = plugin.described;
  const pluginName = plugin.described.name;
  if (!role) throw new UsageError(`Cannot serve plugin "${pluginName}": it has no server role`);
  const specs = flagSpecs(role.params);
  const positionals = role.positionals;
  const { params, common } = parseFlags(rest, specs, positionals);
  if (common.help) {
    const shown = specs.map((spec) =>
      help?.defaults && Object.hasOwn(help.defaults, spec.param)
        ? { ...spec, defaultValue: help.defaults[spec.param] }
        : spec
    );
    console.log(printable(
      `${help?.usage ?? usageLine(`serve ${pluginName}`, positionals)}\n\n` +
        `${plugin.described.description}\n\nFlags:\n${
          flagsHelp(shown, positionals, [
            ...help?.flags ?? [],
            ["  --json", "print the address and final stats as JSON lines"],
            ["  --debug", "print stack traces and plugin log lines"],
          ])
        }${commonFlagsHelp()}${statsHelp(role)}`,
    ));
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
  await using prepared = await plugin.executor.prepare(pluginName, "server", params).catch(
    (error) => {
      throw namedByFlags(error, `plugin "${pluginName}" (server)`, specs, positionals);
    },
  );
  // Where to listen is the user's to say: an address in use or not
  // available, a socket path that is a file or whose folder is missing, is
  // a usage error (exit 2), told in the transport's words.
  const service = await prepared.serve(options).catch((error) => {
    if ((error as Error)?.name !== "ConnectionError") throw error;
    throw new UsageError((error as Error).message, { cause: error });
  });
  const address = formatAddress(service.address);
  // What the service is (udp-ping's `io libc`), said when it starts and stops.
  const facts = service.facts ?? {};
  const described = Object.entries(facts).map(([k, v]) => `${k} ${v}`).join(", ");
  const factsJson = Object.keys(facts).length ? { facts } : {};
  // Listening for the stop signals before saying where it listens: whoever
  // reads that line may signal at once, and Deno's default would kill the
  // process without closing the service or printing its stats.
  const stopped = waitForStopSignal();
  if (common.json) {
    console.log(
      stringifyRounded({ event: "listening", plugin: pluginName, address, ...factsJson }),
    );
  } else {
    const about = described ? `${described}; ` : "";
    console.log(oneLine(`${pluginName} listening on ${address} (${about}Ctrl-C to stop)`));
  }
  // An isolated service can end without being asked (its process killed at
  // its memory limit, or crashed): then this command ends too, and says why.
  const ended = service.ended?.then((reason) => ({ reason }));
  const first = await (ended ? Promise.race([stopped, ended]) : stopped);
  if (typeof first !== "string") {
    stopped.cancel();
    const stats = service.stats();
    if (common.json) {
      console.log(
        stringifyRounded({
          event: "ended",
          plugin: pluginName,
          error: first.reason.message,
          stats,
        }),
      );
    }
    // The reason was printed as the plugin's error line already.
    return EXIT.failed;
  }
  const signal = first;
  // Read after close(): what it had to end by force is part of the story.
  await service.close();
  const stats = service.stats();
  if (common.json) {
    console.log(
      stringifyRounded({ event: "closed", plugin: pluginName, signal, ...factsJson, stats }),
    );
  } else {
    const parts = Object.entries(stats).map(([k, v]) =>
      `${k}=${typeof v === "number" ? roundFloat(v) : v}`
    ).join(" ");
    const told = [parts, described].filter((text) => text !== "").join("; ");
    console.log(oneLine(`${pluginName} stopped (${signal})${told ? `: ${told}` : ""}`));
  }
  return EXIT.ok;
}

function waitForStopSignal(): Promise<Deno.Signal> & { cancel(): void } {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let handlers: (() => void)[] = [];
  const cancel = () => signals.forEach((t, i) => Deno.removeSignalListener(t, handlers[i]));
  const waiting = new Promise<Deno.Signal>((resolve) => {
    handlers = signals.map((s) => () => {
      cancel();
      resolve(s);
    });
    signals.forEach((s, i) => Deno.addSignalListener(s, handlers[i]));
  });
  return Object.assign(waiting, { cancel });
}
