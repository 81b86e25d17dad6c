/**
 * Which manifests a fixture may load. A fixture may come from a pull
 * request, and a manifest grants its plugins permissions: a fixture may
 * name a manifest in its own folder tree, or one the person running the
 * tests named (`--plugins`, `--trust`), nothing else.
 *
 * @module
 */
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { toSourceUrl } from "../_internal/manifest_source.ts";

/**
 * A manifest's URL with symbolic links resolved, so a link cannot pass for
 * another file; a file that does not exist (yet) keeps its URL.
 *
 * @param source A path (relative to the working directory) or URL.
 * @returns The canonical URL's `href`.
 */
export async function canonicalManifest(source: string | URL): Promise<string> {
  const url = toSourceUrl(source);
  if (url.protocol !== "file:") return url.href;
  try {
    return pathToFileURL(await Deno.realPath(url)).href;
  } catch {
    return url.href;
  }
}

/**
 * Why a fixture may not load a manifest, or `undefined` when it may.
 *
 * @param spec The manifest as the fixture resolved it (a path or URL).
 * @param fixtureFile The fixture file.
 * @param trusted Canonical URLs of the manifests the run trusts.
 * @returns The reason, or `undefined`.
 */
export async function untrustedReason(
  spec: string,
  fixtureFile: string,
  trusted: ReadonlySet<string>,
): Promise<string | undefined> {
  const canonical = await canonicalManifest(spec);
  if (trusted.has(canonical)) return undefined;
  const how = "a fixture may use manifests in its own folder tree, or those named with " +
    "--plugins or --trust";
  if (!canonical.startsWith("file:")) return `manifest "${spec}" is remote; ${how}`;
  let folder: string;
  try {
    folder = await Deno.realPath(dirname(resolve(fixtureFile)));
  } catch {
    folder = dirname(resolve(fixtureFile));
  }
  const inside = relative(folder, fileURLToPath(canonical));
  if (inside !== "" && !inside.startsWith("..") && !isAbsolute(inside)) return undefined;
  return `manifest "${spec}" is outside the fixture's folder; ${how}`;
}
