// `wiretest exporter --config exporter.yaml [--listen 127.0.0.1:9115]`: a
// Prometheus exporter in blackbox_exporter's protocol, whose modules are
// plugin client steps.
import { DEFAULT_PORT, startExporter } from "../exporter/server.ts";
import { inProcessExecutor } from "../executor/in_process_executor.ts";
import { isolatedExecutor } from "../executor/isolated_executor.ts";
import { IsolationPool } from "../plugin/isolation.ts";
import type { LogLevel } from "../plugin/types.ts";
import { checkHost, parseHostPort } from "../transport/address.ts";
import { EXIT } from "./_exit.ts";
import { parseCommandArgs, UsageError } from "./_flags.ts";
import { registryWith } from "./_load_plugin.ts";
import { redactPasswords } from "../plugin/redact_passwords.ts";
import { oneLine } from "./_one_line.ts";
import { toSourceUrl } from "../_internal/manifest_source.ts";

const HELP = `Usage: wiretest exporter --config <file> [flags]

Serves Prometheus probes the way blackbox_exporter does: Prometheus scrapes
/probe?module=<module>&target=<target>; a module (in the config) is a plugin
client step with params and expectations that decide probe_success.
GET /metrics gives the exporter's own metrics; POST /-/reload or SIGHUP
rereads the config (an invalid one keeps the old).

Flags:
  --config <file>            the exporter config (YAML), required
  --listen <host:port>       where to listen (default 127.0.0.1:${DEFAULT_PORT}, loopback)
  --timeout-offset <s>       seconds kept off Prometheus' scrape timeout (default 0.5)
  --max-concurrent <n>       probes at once at most (default 16)
  --plugins <file>           also load plugins from this manifest (repeatable)
  --trust-ffi <file>         plugins of this manifest may load libc through FFI
                             (repeatable; built-ins only otherwise)
  --no-isolation             run plugins in this process, not isolated
  --debug                    print every probe's log lines
  -h, --help                 this help`;

export async function exporterCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseCommandArgs({
      args,
      options: {
        config: { type: "string" },
        listen: { type: "string" },
        "timeout-offset": { type: "string" },
        "max-concurrent": { type: "string" },
        plugins: { type: "string", multiple: true },
        "trust-ffi": { type: "string", multiple: true },
        "no-isolation": { type: "boolean" },
        debug: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`Cannot parse arguments: ${(error as Error).message}`, { cause: error });
  }
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  if (!values.config) throw new UsageError("Cannot start the exporter: --config is required");
  let hostname = "127.0.0.1";
  let port = DEFAULT_PORT;
  if (values.listen !== undefined) {
    try {
      ({ hostname, port } = parseHostPort(values.listen));
      checkHost(hostname);
    } catch (error) {
      const why = (error as Error).message.replace(/^Cannot [^:]*: /, "");
      throw new UsageError(`Cannot start the exporter: --listen ${why}`, { cause: error });
    }
  }
  const offset = Number(values["timeout-offset"] ?? 0.5);
  if (!Number.isFinite(offset) || offset < 0) {
    throw new UsageError(
      `Cannot start the exporter: --timeout-offset "${
        values["timeout-offset"]
      }" is not a number of seconds`,
    );
  }
  const maxConcurrent = Number(values["max-concurrent"] ?? 16);
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new UsageError(
      `Cannot start the exporter: --max-concurrent "${
        values["max-concurrent"]
      }" is not a positive integer`,
    );
  }
  const debug = values.debug === true;
  const log = (level: LogLevel, message: string) => {
    if (debug || level !== "debug") console.error(`${level}: ${oneLine(redactPasswords(message))}`);
  };
  const registry = await registryWith(values.plugins ?? []);
  const isolated = values["no-isolation"] !== true;
  // Probes of one plugin share a few warm processes (same grants): a process
  // per probe would cost a Deno start per scrape.
  // Their V8 heap capped well below the memory ceiling: an exporter's
  // processes live for days, and V8 collects late while it has room.
  await using pool = new IsolationPool({
    maxIdlePerPlugin: 4,
    rolesPerProcess: 8,
    heapMiB: EXPORTER_PLUGIN_HEAP_MIB,
    trustFfi: (values["trust-ffi"] ?? []).map((manifest) => toSourceUrl(manifest).href),
  });
  const executor = isolated ? isolatedExecutor(registry, { pool }) : inProcessExecutor(registry);
  const exporter = await startExporter({
    configFile: values.config,
    hostname,
    port,
    executor,
    timeoutOffsetSeconds: offset,
    maxConcurrentProbes: maxConcurrent,
    log,
  }).catch((error) => {
    // An address in use or not available is the user's to change: exit 2.
    if ((error as Error)?.name !== "ConnectionError") throw error;
    throw new UsageError((error as Error).message, { cause: error });
  });
  const onHangup = () => {
    exporter.reload().catch(() => {}); // logged; the old config stays
  };
  Deno.addSignalListener("SIGHUP", onHangup);
  const stopped = waitForStopSignal();
  console.log(
    `wiretest exporter listening on http://${
      hostname.includes(":") ? `[${exporter.hostname}]` : exporter.hostname
    }:${exporter.port} (Ctrl-C to stop)`,
  );
  const signal = await stopped;
  Deno.removeSignalListener("SIGHUP", onHangup);
  await exporter.close();
  console.log(`wiretest exporter stopped (${signal})`);
  return EXIT.ok;
}

/**
 * V8 heap of each plugin process the exporter runs, MiB (their memory
 * ceiling stays the default 512): a bound on what V8 may keep uncollected in
 * processes that run for days. Measured with 100 probes a second for 60 s,
 * they level off at about 145 MiB resident from the 40th second on, with
 * this cap or without it (with a full GC every 200 probes: about 105 MiB).
 * Not 64: with 64 MiB, after about 2,000 http probes V8 collected old space
 * on every probe for good (live heap 10 MiB, committed about 38; a probe 1.1
 * → 7 ms); with 128 it levels off at 64 MiB committed, 6,000 probes at 1.1–1.3 ms.
 */
export const EXPORTER_PLUGIN_HEAP_MIB = 128;

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
