/**
 * Plugins lock files: the manifests a CI owner approved, by the SHA-256 of
 * their bytes. With a lock, a run loads no manifest whose digest it does
 * not list — not one added beside a fixture by a pull request, nor an
 * approved one edited to grant more.
 *
 * The format (keys are lowercase hex digests; values say what was approved):
 *
 * ```json
 * { "manifests": { "9f86d0…": "plugins/manifest.json" } }
 * ```
 *
 * @module
 */
import { isRecord } from "../_internal/is_record.ts";
import { readBounded } from "../_internal/read_bounded.ts";
import { displaySource } from "../_internal/manifest_source.ts";
import type { Manifest } from "../plugin/manifest.ts";

/** The manifests a lock file approves. */
export interface PluginsLock {
  /** The lock file's path. */
  readonly path: string;
  /** Approved digests (lowercase hex SHA-256) and what each was (a null-prototype object). */
  readonly manifests: Readonly<Record<string, string>>;
}

const DIGEST = /^[0-9a-f]{64}$/;

/**
 * Reads a plugins lock file.
 *
 * @param path The file.
 * @returns The approved manifests.
 * @throws {Deno.errors.NotFound} When there is no such file.
 * @throws {SyntaxError} When it is not JSON.
 * @throws {TypeError} When it is not a lock file (or not a regular file).
 * @throws {RangeError} When it is larger than 1 MiB.
 *
 * @example Reading a lock
 * ```ts
 * import { readPluginsLock } from "@wiretest/wiretest/runner";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, JSON.stringify({ manifests: { ["ab".repeat(32)]: "m.json" } }));
 * const lock = await readPluginsLock(path);
 * assert.equal(lock.manifests["ab".repeat(32)], "m.json");
 * await Deno.writeTextFile(path, JSON.stringify({ manifests: { short: "m.json" } }));
 * await assert.rejects(readPluginsLock(path), TypeError);
 * await Deno.remove(path);
 * ```
 */
export async function readPluginsLock(path: string): Promise<PluginsLock> {
  const prefix = `Cannot read plugins lock "${path}"`;
  let text: string;
  try {
    text = new TextDecoder().decode(await readBounded(path, 2 ** 20, prefix));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`${prefix}: no such file`, { cause: error });
    }
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`${prefix}: ${(error as Error).message}`, { cause: error });
  }
  const manifests: Record<string, string> = Object.create(null);
  const entries = isRecord(value) && isRecord(value.manifests) ? value.manifests : undefined;
  if (entries === undefined) {
    throw new TypeError(`${prefix}: it must be an object with a "manifests" object`);
  }
  for (const [digest, note] of Object.entries(entries)) {
    if (!DIGEST.test(digest) || typeof note !== "string") {
      throw new TypeError(
        `${prefix}: "${digest}" must be a lowercase hex SHA-256 with a string saying what it is`,
      );
    }
    manifests[digest] = note;
  }
  return { path, manifests };
}

/**
 * Why a lock refuses a manifest, or `undefined` when it approves it.
 *
 * @param lock The lock.
 * @param manifest A manifest read by `loadManifest` (so with its digest).
 * @returns The reason, or `undefined`.
 *
 * @example An unlisted digest is refused
 * ```ts
 * import { lockRefusal } from "@wiretest/wiretest/runner";
 * import assert from "node:assert/strict";
 *
 * const lock = { path: "plugins.lock.json", manifests: { ["ab".repeat(32)]: "m.json" } };
 * const manifest = { source: "file:///m.json", plugins: [], sha256: "cd".repeat(32) };
 * assert.match(lockRefusal(lock, manifest) ?? "", /is not approved by "plugins.lock.json"/);
 * assert.equal(lockRefusal(lock, { ...manifest, sha256: "ab".repeat(32) }), undefined);
 * ```
 */
export function lockRefusal(lock: PluginsLock, manifest: Manifest): string | undefined {
  const digest = manifest.sha256;
  if (digest !== undefined && Object.hasOwn(lock.manifests, digest)) return undefined;
  return `manifest "${displaySource(manifest.source)}" (sha256 ${
    digest ?? "unknown"
  }) is not approved by "${lock.path}"; review it, then add it with ` +
    `wiretest plugins --plugins <manifest> --write-lock ${lock.path}`;
}

/**
 * Adds manifests to a lock file, made if missing; approvals already there stay.
 *
 * @param path The lock file.
 * @param manifests Manifests read by `loadManifest`.
 * @returns The lock written.
 *
 * @example Approving a manifest
 * ```ts
 * import { loadManifest } from "@wiretest/wiretest/host";
 * import { addToPluginsLock, lockRefusal } from "@wiretest/wiretest/runner";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const file = join(dir, "manifest.json");
 * await Deno.writeTextFile(file, JSON.stringify({ plugins: {} }));
 * const manifest = await loadManifest(file);
 * const lock = await addToPluginsLock(join(dir, "plugins.lock.json"), [manifest]);
 * assert.equal(lockRefusal(lock, manifest), undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function addToPluginsLock(
  path: string,
  manifests: readonly Manifest[],
): Promise<PluginsLock> {
  let existing: Record<string, string> = Object.create(null);
  try {
    existing = { ...(await readPluginsLock(path)).manifests };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const manifest of manifests) {
    if (manifest.sha256 === undefined) {
      throw new TypeError(
        `Cannot lock manifest "${displaySource(manifest.source)}": it was not read by loadManifest`,
      );
    }
    existing[manifest.sha256] = displaySource(manifest.source);
  }
  const sorted: Record<string, string> = Object.create(null);
  for (const digest of Object.keys(existing).sort()) sorted[digest] = existing[digest];
  await Deno.writeTextFile(path, `${JSON.stringify({ manifests: sorted }, null, 2)}\n`);
  return { path, manifests: sorted };
}
