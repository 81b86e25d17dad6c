// `wiretest proxy`: the proxy plugin's server role with toxiproxy-server's
// defaults (control API on 127.0.0.1:8474) and its `--config` file, a JSON
// array of proxies as `/populate` takes.
import { UsageError } from "./_flags.ts";
import { readInputTextFile } from "../plugin/input_file.ts";
import { serveCommand } from "./serve_command.ts";

const TOXIPROXY_PORT = "8474";

export async function proxyCommand(args: string[]): Promise<number> {
  const rest: string[] = [];
  let host = "127.0.0.1";
  let port = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (flag === "--config") {
      const file = inline ?? args[++i];
      if (file === undefined) throw new UsageError("Cannot read --config: it takes a file");
      for (const proxy of await readConfig(file)) rest.push("--proxies", JSON.stringify(proxy));
      continue;
    }
    if (flag === "--host") host = inline ?? args[i + 1] ?? host;
    if (flag === "--port") port = true;
    rest.push(arg);
  }
  if (!port) rest.push("--port", TOXIPROXY_PORT);
  if (!args.includes("-h") && !args.includes("--help")) {
    const loopback = host === "127.0.0.1" || host === "::1" || host === "localhost";
    console.error(
      loopback
        ? `proxy: control API on loopback only (${host}); --host 0.0.0.0 exposes it`
        : `proxy: control API reachable on ${host}: anyone who reaches it can change your proxies`,
    );
  }
  return await serveCommand(["proxy", ...rest], {
    usage: "wiretest proxy [--config <file>] [flags]",
    defaults: { port: Number(TOXIPROXY_PORT) },
    flags: [["  --config <file>", "proxies to create at start: a JSON array, as /populate takes"]],
  });
}

async function readConfig(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readInputTextFile(file, 2 ** 20);
  } catch (error) {
    throw new UsageError(`Cannot use --config: ${(error as Error).message}`, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`Cannot parse --config "${file}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!Array.isArray(data)) {
    throw new UsageError(`Cannot use --config "${file}": expected a JSON array of proxies`);
  }
  return data;
}
