// The `mod.ts` of a generated plugin: a line-based PING/PONG protocol over
// TCP, small enough to read in one sitting and real enough to test (a server
// that answers, a client that times round trips), in the shape every plugin
// keeps: params schemas with explicit types checked against them, `serve`
// on `serveConnections`, `run`, and `definePlugin`. Library users call
// `startServer(plugin, …)` and `runClient(plugin, …)`, typed from the schemas.
import { fill, type PluginNames, type Roles } from "./names.ts";

/** The source of `mod.ts` for a plugin with the given roles. */
export function moduleSource(names: PluginNames, roles: Roles): string {
  const parts = [header(roles), imports(roles), CONSTANTS(roles)];
  if (roles.server) parts.push(SERVER);
  if (roles.client) parts.push(CLIENT);
  if (roles.server) parts.push(SERVER_STATS);
  if (roles.client) parts.push(CLIENT_OUTCOME);
  parts.push(definition(roles));
  return fill(parts.join("\n"), names);
}

/** What the plugin does, in one sentence, for its manifest entry and `description`. */
export function pluginDescription(roles: Roles): string {
  if (roles.server && roles.client) {
    return "Line-based PING/PONG over TCP: a server that answers, a client that times it.";
  }
  return roles.server
    ? "Line-based PING/PONG over TCP: a server that answers PING with PONG."
    : "Line-based PING/PONG over TCP: a client that times PING round trips.";
}

function header(roles: Roles): string {
  const what = roles.server && roles.client
    ? String.raw`The client
 * sends \`PING\` lines and times each round trip; the server answers every
 * \`PING\` with \`PONG\` and anything else with \`ERR unknown command\`.`
    : roles.server
    ? String.raw`The server
 * answers every \`PING\` line with \`PONG\` and anything else with
 * \`ERR unknown command\`.`
    : String.raw`The client
 * sends \`PING\` lines to a server that answers \`PONG\`, and times each
 * round trip.`;
  const example = roles.server && roles.client
    ? String.raw`
 * @example Running both roles over loopback
 * \`\`\`ts
 * import __camel__ from "./mod.ts";
 * import { runClient, startServer } from "@wiretest/wiretest/plugin";
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const server = await startServer(__camel__, {});
 * const outcome = await runClient(__camel__, { target: formatAddress(server.address), count: 3 });
 * await server.close();
 * assert.equal(outcome.metrics.pongs, 3);
 * \`\`\`
 *`
    : "";
  return String.raw`/**
 * __kebab__: a wiretest plugin for a line-based protocol over TCP. ${what}
 *
 * This is a starting point: replace the protocol with yours and keep the
 * shape — params schemas with explicit types, ${
    roles.server && roles.client
      ? "a server role returning a\n * `Service`, a client role returning an `Outcome` with metrics and facts."
      : roles.server
      ? "a server role returning a\n * `Service` with counters."
      : "a client role returning an\n * `Outcome` with metrics and facts."
  }
 *${example}
 * @module
 */`;
}

function imports(roles: Roles): string {
  const plugin = [
    "type Context",
    "definePlugin",
    ...(roles.client ? ["describeError"] : []),
    ...(roles.server ? ["type MetricDeclaration"] : []),
    ...(roles.client ? ["type Outcome", "type OutcomeDeclaration"] : []),
    "type ParamsSchema",
    "type ParamsTypesMatch",
    "type Plugin",
    ...(roles.server ? ["type Service"] : []),
  ];
  const transport = [
    "type Conn",
    ...(roles.client ? ["ConnectionError", "connectTcp", "formatAddress"] : []),
    ...(roles.server ? ["listenTcp"] : []),
    ...(roles.client ? ["parseHostPort"] : []),
    ...(roles.server ? ["serveConnections"] : []),
  ];
  const lines = [
    namedImport(plugin, "@wiretest/wiretest/plugin"),
    namedImport(transport, "@wiretest/wiretest/transport"),
    `import { encodeLine, LineDecoder, readFrames } from "@wiretest/wiretest/codec";`,
  ];
  if (roles.client) {
    lines.push(
      namedImport(
        ["LatencyHistogram", "summaryMetricDeclarations", "summaryMetrics"],
        "@wiretest/wiretest/metrics",
      ),
    );
  }
  lines.push(`import { z } from "zod";`);
  return lines.join("\n");
}

// Written on several lines, as `deno fmt` keeps them, whatever their length.
function namedImport(names: string[], from: string): string {
  return `import {\n${names.map((n) => `  ${n},\n`).join("")}} from "${from}";`;
}

function CONSTANTS(roles: Roles): string {
  const lines = [
    "",
    "/** Longest line either side accepts, so a peer cannot make it buffer more. */",
    "export const MAX_LINE_LENGTH = 1024;",
    "",
  ];
  if (roles.client) lines.push(`const PING_LINE = encodeLine("PING");`);
  if (roles.server) {
    lines.push(`const PONG_LINE = encodeLine("PONG");`);
    lines.push(`const UNKNOWN_LINE = encodeLine("ERR unknown command");`);
  }
  lines.push("const text = new TextDecoder();");
  return lines.join("\n");
}

const SERVER = String.raw`
/** What users may pass to the server role (every field optional). */
export interface __Pascal__ServerOptions {
  /** Address to bind (default \`127.0.0.1\`). */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** Close a connection idle this long; 0 means never (default 60000). */
  idleTimeoutMs?: number;
  /** Refuse connections beyond this many open at once (default: no limit). */
  maxConnections?: number;
}

/** The server role's params after defaults. */
export interface __Pascal__ServerParams {
  /** Address to bind. */
  host: string;
  /** Port to bind (0: a free one). */
  port: number;
  /** Idle timeout in milliseconds; 0 means never. */
  idleTimeoutMs: number;
  /** Most connections open at once. */
  maxConnections?: number;
}

const __camel__ServerSchema = z.object({
  host: z.string().min(1).default("127.0.0.1").describe("Address to bind"),
  port: z.number().int().min(0).max(65535).default(0).describe(
    "TCP port to bind; 0 picks a free one",
  ),
  idleTimeoutMs: z.number().int().min(0).max(86_400_000).default(60_000).describe(
    "Close a connection idle this many milliseconds; 0 means never",
  ),
  maxConnections: z.number().int().min(1).max(1_000_000).optional().describe(
    "Refuse connections beyond this many open at once (default: no limit)",
  ),
});

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<
  typeof __camel__ServerSchema,
  __Pascal__ServerParams,
  __Pascal__ServerOptions
>;

/** Schema of the server role's params (\`services.*.with\` in fixtures, flags of \`wiretest serve\`). */
export const __camel__ServerParams: ParamsSchema<__Pascal__ServerParams, __Pascal__ServerOptions> =
  __camel__ServerSchema;

/**
 * Starts the server role: answers \`PING\` with \`PONG\` on every connection.
 * \`stats()\` counts \`connections\`, \`pings\` and \`errors\`; \`close()\` stops
 * listening, closes every connection and waits for their tasks.
 *
 * @param params Validated server params.
 * @param ctx The run context; aborting its signal closes the server.
 * @returns The running service.
 * @throws {ConnectionError} When the address cannot be bound.
 */
export function serve__Pascal__(params: __Pascal__ServerParams, ctx: Context): Promise<Service> {
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);
  const listener = listenTcp({ hostname: params.host, port: params.port });
  const stats = { pings: 0, errors: 0 };
  // The accept loop, its limits and a bounded close() come from
  // serveConnections; this function only speaks the protocol.
  const server = serveConnections(listener, async (conn, connection) => {
    try {
      const lines = readFrames(conn, new LineDecoder({ maxLineLength: MAX_LINE_LENGTH }));
      for await (const line of lines) {
        if (text.decode(line) === "PING") {
          stats.pings++;
          await conn.write(PONG_LINE);
        } else {
          stats.errors++;
          await conn.write(UNKNOWN_LINE);
        }
      }
    } catch (error) {
      // A connection closed by close() or the idle timeout is the plan, not an error.
      if (connection.closeReason === undefined) {
        stats.errors++;
        ctx.log("debug", \`__kebab__: \${(error as Error).message}\`);
      }
    }
  }, {
    idleTimeout: params.idleTimeoutMs,
    maxConnections: params.maxConnections,
    signal: ctx.signal,
    // Nothing to finish: close() closes every connection at once.
    drainTimeout: 0,
    onAcceptError: (error, failures) => {
      if (failures === 1) ctx.log("warn", \`__kebab__: \${error.message}\`);
    },
  });
  return Promise.resolve({
    address: listener.addr,
    stats: () => ({ connections: server.stats().accepted, ...stats }),
    close: () => server.close().then(() => {}),
  });
}
`;

const CLIENT = String.raw`
/** What users may pass to the client role (only \`target\` is required). */
export interface __Pascal__ClientOptions {
  /** The server, \`host:port\`. */
  target: string;
  /** PING round trips to make (default 10). */
  count?: number;
  /** Milliseconds the connect and each reply may take (default 5000). */
  timeoutMs?: number;
}

/** The client role's params after defaults. */
export interface __Pascal__ClientParams {
  /** The server, \`host:port\`. */
  target: string;
  /** PING round trips to make. */
  count: number;
  /** Milliseconds the connect and each reply may take. */
  timeoutMs: number;
}

function isTarget(value: string): boolean {
  try {
    return parseHostPort(value).port > 0;
  } catch {
    return false;
  }
}

const __camel__ClientSchema = z.object({
  target: z.string().refine(isTarget, { message: 'must be "host:port" with a port in 1-65535' })
    .describe("Server to ping, host:port"),
  count: z.number().int().min(1).max(1_000_000).default(10).describe("PING round trips to make"),
  timeoutMs: z.number().int().min(1).max(3_600_000).default(5000).describe(
    "Milliseconds the connect and each reply may take",
  ),
});

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<
  typeof __camel__ClientSchema,
  __Pascal__ClientParams,
  __Pascal__ClientOptions
>;

/** Schema of the client role's params (\`steps[*].with\` in fixtures, flags of \`wiretest run\`). */
export const __camel__ClientParams: ParamsSchema<__Pascal__ClientParams, __Pascal__ClientOptions> =
  __camel__ClientSchema;

/**
 * Runs the client role: connects, sends \`count\` PINGs one after the other
 * and times each PONG. Failures (refused, timed out, a reply other than
 * \`PONG\`) come back as \`ok: false\` with \`error\` and the metrics gathered so
 * far, never as exceptions.
 *
 * Metrics: \`pings\`, \`pongs\`, \`connect_ms\` and \`rtt_*_ms\` percentiles.
 * Facts: \`peer\` (the address connected to).
 *
 * @param params Validated client params.
 * @param ctx The run context: its signal and deadline bound every operation.
 * @returns What the client observed.
 */
export async function run__Pascal__(params: __Pascal__ClientParams, ctx: Context): Promise<Outcome> {
  const { hostname, port } = parseHostPort(params.target);
  const io = { signal: ctx.signal, deadline: ctx.deadline, timeout: params.timeoutMs };
  const rtt = new LatencyHistogram();
  const metrics: Record<string, number> = { pings: 0, pongs: 0 };
  const facts: Record<string, unknown> = {};
  let conn: Conn | undefined;
  try {
    conn = await connectTcp({ hostname, port, ...io });
    metrics.connect_ms = conn.timings.connectEnd! - conn.timings.connectStart!;
    facts.peer = formatAddress(conn.remoteAddr);
    const replies = readFrames(conn, new LineDecoder({ maxLineLength: MAX_LINE_LENGTH }), io);
    try {
      for (let i = 0; i < params.count; i++) {
        const start = performance.now();
        await conn.write(PING_LINE, io);
        metrics.pings++;
        const reply = await replies.next();
        if (reply.done) {
          throw new ConnectionError({
            code: "closed",
            operation: "read",
            address: params.target,
            detail: "connection closed before the PONG",
          });
        }
        const line = text.decode(reply.value);
        if (line !== "PONG") {
          throw new SyntaxError(\`Cannot read PONG from \${params.target}: got "\${line}"\`);
        }
        rtt.record(performance.now() - start);
        metrics.pongs++;
        ctx.progress({ done: metrics.pongs, total: params.count, unit: "pings" });
      }
    } finally {
      await replies.return();
    }
    return { ok: true, metrics: { ...metrics, ...summaryMetrics("rtt", rtt.summary()) }, facts };
  } catch (error) {
    return {
      ok: false,
      metrics: { ...metrics, ...summaryMetrics("rtt", rtt.summary()) },
      facts,
      error: describeError(error),
    };
  } finally {
    conn?.close();
  }
}

/**
 * One line for people about a client outcome.
 *
 * @param outcome What the client role returned.
 * @returns E.g. \`10 PINGs to 127.0.0.1:7000: 10 PONGs, rtt p50 0.05 ms p99 0.21 ms\`.
 */
export function summarize__Pascal__(outcome: Outcome): string {
  const m = outcome.metrics;
  const peer = outcome.facts.peer ?? "?";
  let line = \`\${m.pings ?? 0} PINGs to \${peer}: \${m.pongs ?? 0} PONGs\`;
  if (m.rtt_p50_ms !== undefined) {
    line += \`, rtt p50 \${m.rtt_p50_ms.toFixed(2)} ms p99 \${m.rtt_p99_ms.toFixed(2)} ms\`;
  }
  return outcome.error ? \`\${line}\n\${outcome.error.message}\` : line;
}
`;

function definition(roles: Roles): string {
  const server = roles.server ? "__Pascal__ServerParams" : "never";
  const client = roles.client ? "__Pascal__ClientParams" : "never";
  const serverInput = roles.server ? "__Pascal__ServerOptions" : "never";
  const clientInput = roles.client ? "__Pascal__ClientOptions" : "never";
  const doc = roles.server && roles.client
    ? "`server` answers PINGs, `client` sends them and times the PONGs"
    : roles.server
    ? "`server` answers PINGs with PONGs"
    : "`client` sends PINGs and times the PONGs";
  const lines = [
    "",
    `/** The __kebab__ plugin: ${doc}. */`,
    `const __camel__: Plugin<${server}, ${client}, ${serverInput}, ${clientInput}> = definePlugin({`,
    `  name: "__kebab__",`,
    `  version: "0.1.0",`,
    `  description: ${JSON.stringify(pluginDescription(roles))},`,
  ];
  if (roles.server) {
    lines.push(
      "  server: {",
      "    params: __camel__ServerParams,",
      "    serve: serve__Pascal__,",
      "    stats: __camel__Stats,",
      "  },",
    );
  }
  if (roles.client) {
    lines.push(
      "  client: {",
      "    params: __camel__ClientParams,",
      "    run: run__Pascal__,",
      `    positionals: ["target"],`,
      "    summary: summarize__Pascal__,",
      "    outcome: __camel__Outcome,",
      "  },",
    );
  }
  lines.push("});", "export default __camel__;");
  return lines.join("\n");
}

// What each role reports, declared: `wiretest reference` and `--help` list
// it, and the tests check real runs against it.
const SERVER_STATS = String.raw`
/** The counters of the server role's \`stats()\`. */
export const __camel__Stats: readonly MetricDeclaration[] = [
  { name: "connections", unit: "count", description: "Connections accepted." },
  { name: "pings", unit: "count", description: "PINGs answered with a PONG." },
  { name: "errors", unit: "count", description: "Connections that failed or sent something else." },
];`;

const CLIENT_OUTCOME = String.raw`
/** Every metric and fact of the client role's outcome. */
export const __camel__Outcome: OutcomeDeclaration = {
  metrics: [
    { name: "pings", unit: "count", description: "PINGs sent." },
    { name: "pongs", unit: "count", description: "PONGs received." },
    {
      name: "connect_ms",
      unit: "ms",
      description: "Time to connect.",
      when: "once connected",
    },
    ...summaryMetricDeclarations("rtt", "PING-to-PONG times", "once a PONG came"),
  ],
  facts: [
    {
      path: "peer",
      type: "string",
      description: "The address connected to.",
      when: "once connected",
    },
  ],
};`;
