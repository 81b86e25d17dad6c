// `wiretest plugins`: list the plugins of the built-in and extra manifests
// without importing any of them.
import { parseCommandArgs, UsageError } from "./_flags.ts";
import { listPlugins } from "./_load_plugin.ts";
import { EXIT } from "./_exit.ts";
import { displaySource } from "../_internal/manifest_source.ts";
import { loadManifest } from "../plugin/manifest.ts";
import { addToPluginsLock } from "../runner/plugins_lock.ts";

export async function pluginsCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseCommandArgs({
      args,
      options: {
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        debug: { type: "boolean" },
        plugins: { type: "string", multiple: true },
        "write-lock": { type: "string" },
        "allow-http-plugins": { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError(`Cannot parse arguments: ${(error as Error).message}`, { cause: error });
  }
  if (values.help) {
    console.log(
      "wiretest plugins [--plugins manifest.json …] [--json] [--write-lock plugins.lock.json]\n" +
        "                 [--allow-http-plugins]\n\n" +
        "Lists every plugin: name, roles, permissions and description.\n" +
        "--write-lock adds the --plugins manifests' SHA-256 to a lock file for\n" +
        "wiretest test --plugins-lock (made if missing; approvals there stay).",
    );
    return EXIT.ok;
  }
  const allowHttp = values["allow-http-plugins"] === true;
  const lockFile = values["write-lock"];
  if (lockFile !== undefined) {
    if ((values.plugins ?? []).length === 0) {
      throw new UsageError("Cannot use --write-lock: name the manifests to approve with --plugins");
    }
    const manifests = await Promise.all(
      (values.plugins ?? []).map((p) => loadManifest(p, { allowHttp })),
    );
    await addToPluginsLock(lockFile, manifests);
    for (const manifest of manifests) {
      console.error(`approved ${displaySource(manifest.source)} (sha256 ${manifest.sha256})`);
    }
  }
  const entries = await listPlugins(values.plugins ?? [], { allowHttp });
  if (values.json) {
    console.log(JSON.stringify(entries, null, 2));
    return EXIT.ok;
  }
  const rows = entries.map((e) => [e.name, e.roles.join("+"), e.permissions, e.description]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 4));
  const header = ["NAME", "ROLES", "PERMISSIONS", "DESCRIPTION"];
  for (const row of [header, ...rows]) {
    console.log(row.map((cell, i) => i < 3 ? cell.padEnd(widths[i] + 2) : cell).join(""));
  }
  return EXIT.ok;
}
