/**
 * Confining a fixture's plugins to the files the fixture may touch: its own
 * folder (read), the run's temp folder and `--allow-files` folders (read and
 * write), never a `.git` nor a symlink leading out. A fixture may come from
 * a pull request: without this, a built-in plugin granted `read`/`write`
 * would read or overwrite anything the runner's user can.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import type { ManifestEntry, PluginPermissions } from "../plugin/manifest.ts";
import type { Registry } from "../plugin/registry.ts";

/** The folders a fixture's plugins may read and write, and what stays closed under them. */
export interface FileConfinement {
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly deny: readonly string[];
}

// A fixture folder's tree is walked for `.git` and outward symlinks; a tree
// too big to walk cannot be confined honestly, so it is refused.
const MAX_WALK_ENTRIES = 20_000;

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
}

function realOrSelf(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/** `.git` entries and symlinks whose target is outside `roots`, under each of `roots`. */
function closedUnder(roots: readonly string[], realRoots: readonly string[]): string[] {
  const closed: string[] = [];
  let seen = 0;
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return; // Unreadable here: unreadable for the plugin too.
    }
    for (const entry of entries) {
      if (++seen > MAX_WALK_ENTRIES) {
        throw new RangeError(
          `Cannot confine plugins to "${
            roots[0]
          }": it holds more than ${MAX_WALK_ENTRIES} entries (move the fixture to a smaller folder)`,
        );
      }
      const path = join(dir, entry.name);
      if (entry.name === ".git") closed.push(path);
      else if (entry.isSymlink) {
        const target = realOrSelf(path);
        if (!realRoots.some((root) => under(target, root))) closed.push(path);
      } else if (entry.isDirectory) walk(path);
    }
  };
  for (const root of roots) walk(root);
  return closed;
}

/**
 * The confinement of the plugins of the fixture in `fixtureFile`.
 *
 * @param fixtureFile The fixture file.
 * @param tmpRoot The run's temp folder, where each fixture's `WIRETEST_TMP` is made.
 * @param allowFiles Folders the user allows (`--allow-files`).
 * @returns The folders and the closed paths.
 * @throws {RangeError} When a folder's tree is too big to check, or a path holds a comma.
 */
export function fileConfinement(
  fixtureFile: string,
  tmpRoot: string,
  allowFiles: readonly string[],
): FileConfinement {
  const fixtureDir = dirname(resolve(fixtureFile));
  const write = [tmpRoot, ...allowFiles.map((d) => resolve(d))];
  const read = [fixtureDir, ...write];
  for (const path of read) {
    // Deno splits its path lists at commas.
    if (path.includes(",")) {
      throw new RangeError(`Cannot confine plugins to "${path}": the path holds a comma`);
    }
  }
  const realRoots = read.map(realOrSelf);
  const deny = [...new Set([...read.map((r) => join(r, ".git")), ...closedUnder(read, realRoots)])];
  return { read, write, deny };
}

/** `granted` (a manifest's) narrowed to `roots`: never wider than either. */
function narrow(
  granted: boolean | readonly string[] | undefined,
  roots: readonly string[],
): string[] {
  if (granted === true) return [...roots];
  if (!granted) return [];
  const out = new Set<string>();
  for (const raw of granted) {
    const path = resolve(raw);
    for (const root of roots) {
      if (under(path, root)) out.add(path);
      else if (under(root, path)) out.add(root);
    }
  }
  return [...out];
}

/**
 * {@linkcode fileConfinement} for the fixtures of one run, each folder walked
 * once: a run of 1,000 fixtures in one folder otherwise walks it 1,000 times
 * (a second of CPU on the runner's thread). What the walk looks for cannot
 * appear during the run through a confined plugin: Deno lets only a process
 * with read and write access everywhere create a symbolic link, and a
 * `.git` written under the run's temp folder guards nothing.
 *
 * @param tmpRoot The run's temp folder.
 * @param allowFiles Folders the user allows (`--allow-files`).
 * @returns The confinement of a fixture file's plugins, shared by the fixtures of its folder.
 */
export function runConfinement(
  tmpRoot: string,
  allowFiles: readonly string[],
): (fixtureFile: string) => FileConfinement {
  const byFolder = new Map<string, FileConfinement>();
  return (fixtureFile) => {
    const folder = dirname(resolve(fixtureFile));
    let confinement = byFolder.get(folder);
    if (confinement === undefined) {
      confinement = fileConfinement(fixtureFile, tmpRoot, allowFiles);
      byFolder.set(folder, confinement);
    }
    return confinement;
  };
}

/**
 * An entry's permissions with its file grants narrowed to a confinement.
 *
 * @param permissions The manifest's grants.
 * @param files The confinement.
 * @returns The effective grants.
 */
export function confinePermissions(
  permissions: PluginPermissions,
  files: FileConfinement,
): PluginPermissions {
  const read = narrow(permissions.read, files.read);
  const write = narrow(permissions.write, files.write);
  const deny = [...new Set([...(permissions.deny ?? []), ...files.deny])];
  return {
    ...permissions,
    read,
    write,
    ...(read.length + write.length > 0 ? { deny } : {}),
  };
}

/**
 * A registry whose entries carry confined file grants; everything else is `registry`'s.
 *
 * @param registry The fixture's plugins.
 * @param files The confinement.
 * @returns The registry.
 */
export function confinedRegistry(registry: Registry, files: FileConfinement): Registry {
  const confine = (entry: ManifestEntry): ManifestEntry => ({
    ...entry,
    permissions: confinePermissions(entry.permissions, files),
  });
  return new Proxy(registry, {
    get(target, key) {
      if (key === "get") return (name: string) => confine(target.get(name));
      if (key === "list") return () => target.list().map(confine);
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
