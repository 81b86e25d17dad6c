// The files around a generated plugin's code: its `deno.json` (where
// `@wiretest/wiretest` comes from), its manifest entry, and a fixture.
import { pluginDescription } from "./module_template.ts";
import { fill, type PluginNames, type Roles } from "./names.ts";

/** What the generated `deno.json` needs to know. */
export interface DenoJsonOptions {
  /** JSR constraint for wiretest, e.g. `^0.1`. */
  range: string;
  /** The `zod` import wiretest itself uses, e.g. `npm:zod@^4.1.0`. */
  zod: string;
  /** Unstable features wiretest needs (`net` for UDP, `worker-options` for isolation). */
  unstable: readonly string[];
  /** Absolute path of a wiretest checkout to use instead of the JSR package. */
  checkout?: string;
}

/**
 * The plugin's `deno.json`: `@wiretest/wiretest` from JSR (subpaths such as
 * `@wiretest/wiretest/plugin` follow from the one entry), or from a local
 * checkout through `links`, which makes `jsr:@wiretest/wiretest` resolve to
 * that folder with its own dependencies, offline.
 */
export function denoJsonSource(options: DenoJsonOptions): string {
  const jsr = `jsr:@wiretest/wiretest@${options.range}`;
  const config: Record<string, unknown> = {
    tasks: {
      test: "deno test -A --doc",
      // Paths on the command line are the user's: run from the folder
      // `deno task` was started in, not from this one.
      wiretest:
        `ROOT="$(pwd)" && cd "$INIT_CWD" && deno run -A --config "$ROOT/deno.json" ${jsr}/cli`,
    },
    imports: {
      "@wiretest/wiretest": jsr,
      zod: options.zod,
    },
  };
  if (options.checkout !== undefined) config.links = [options.checkout];
  config.unstable = [...options.unstable];
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The manifest that registers the plugin (`--plugins manifest.json`, `plugins:` in fixtures). */
export function manifestSource(names: PluginNames, roles: Roles): string {
  const manifest = {
    plugins: {
      [names.kebab]: {
        module: "./mod.ts",
        description: pluginDescription(roles),
        roles: [...(roles.server ? ["server"] : []), ...(roles.client ? ["client"] : [])],
        apiVersion: 1,
        permissions: { net: ["127.0.0.1"] },
      },
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * A fixture that uses the plugin, or `undefined` for a plugin without a
 * client role: a fixture's steps run client roles, so a server alone has
 * nothing to be checked by until a client is paired with it.
 */
export function fixtureSource(names: PluginNames, roles: Roles): string | undefined {
  if (!roles.client) return undefined;
  return fill(roles.server ? BOTH_FIXTURE : CLIENT_FIXTURE, names);
}

const BOTH_FIXTURE = String
  .raw`# A fixture for the __kebab__ plugin: start its server, run its client against
# it, and say what must hold. Run it with the fixture runner:
#   deno task wiretest test __kebab__.wire.yaml
name: __kebab__ answers every PING with a PONG
plugins: [./manifest.json]
services:
  server:
    plugin: __kebab__
    with: { host: 127.0.0.1, port: 0 }
steps:
  - name: ping
    plugin: __kebab__
    with: { target: "\${services.server.addr}", count: 100 }
    timeout: 10s
    expect:
      ok: true
      error: absent
      metrics.pongs: 100
      metrics.rtt_p99_ms: ">= 0ms"
`;

const CLIENT_FIXTURE = String
  .raw`# A fixture for the __kebab__ plugin: run its client against the server named
# by __UPPER___TARGET (host:port) and say what must hold. Run it with:
#   __UPPER___TARGET=127.0.0.1:7000 deno task wiretest test __kebab__.wire.yaml \
#     --allow-env __UPPER___TARGET
name: __kebab__ server answers every PING with a PONG
plugins: [./manifest.json]
env: [__UPPER___TARGET]
steps:
  - name: ping
    plugin: __kebab__
    with: { target: "\${env.__UPPER___TARGET}", count: 100 }
    timeout: 10s
    expect:
      ok: true
      error: absent
      metrics.pongs: 100
      metrics.rtt_p99_ms: ">= 0ms"
`;
