// Starting wiretest's exporter for the tests: in this process, plugins
// isolated exactly as `wiretest exporter` runs them, a temp config file.
import { builtinRegistry } from "../../plugins/manifest.ts";
import { IsolationPool } from "../../lib/plugin/isolation.ts";
import { isolatedExecutor } from "../../lib/executor/isolated_executor.ts";
import { type Exporter, startExporter } from "../../lib/exporter/server.ts";

/** A running exporter, its config file and the pool its plugins run in. */
export interface TestExporter extends AsyncDisposable {
  exporter: Exporter;
  /** `http://127.0.0.1:<port>`. */
  base: string;
  configFile: string;
  pool: IsolationPool;
}

/** Starts an exporter with `config` as its YAML config. */
export async function testExporter(
  config: string,
  options: { maxConcurrentProbes?: number } = {},
): Promise<TestExporter> {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_" });
  const configFile = `${dir}/exporter.yaml`;
  await Deno.writeTextFile(configFile, config);
  const registry = builtinRegistry();
  const pool = new IsolationPool({ maxIdlePerPlugin: 2 });
  let exporter: Exporter;
  try {
    exporter = await startExporter({
      configFile,
      port: 0,
      executor: isolatedExecutor(registry, { pool }),
      ...options,
    });
  } catch (error) {
    await pool[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    exporter,
    base: `http://127.0.0.1:${exporter.port}`,
    configFile,
    pool,
    async [Symbol.asyncDispose]() {
      await exporter.close();
      await pool[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** GETs a URL within 20 s: status, content type and body. */
export async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(20_000) });
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    text: await response.text(),
  };
}

/** Sample values of an exposition by `name{labels}` as written. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** Runs `promtool check metrics` on an exposition: its exit code and output. */
export async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const done = await child.output();
  clearTimeout(timer);
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: done.code, output: decode(done.stdout) + decode(done.stderr) };
}
