/**
 * Internal: shared by the plugin registry and the runner; not part of the
 * public API.
 *
 * Where a manifest comes from: a path or a URL, turned into a URL for
 * resolving module specifiers and into a short name for messages.
 *
 * @module
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { relative } from "node:path";

// A scheme of two letters or more, so Windows drive letters ("C:\x") stay paths.
const URL_LIKE = /^[a-z][a-z0-9+.-]+:/i;

/**
 * Turns a manifest location into a URL. A string that starts with a scheme
 * is a URL; anything else is a file path, relative to the working directory.
 *
 * @param source A path or URL.
 * @returns The URL.
 */
export function toSourceUrl(source: string | URL): URL {
  if (source instanceof URL) return new URL(source.href);
  return URL_LIKE.test(source) ? new URL(source) : pathToFileURL(source);
}

/**
 * Names a manifest for messages: a file as a path relative to the working
 * directory when it lies below it (absolute otherwise), anything else as its URL.
 *
 * @param url The manifest URL (or its `href`).
 * @returns The name to quote.
 */
export function displaySource(url: string | URL): string {
  const href = typeof url === "string" ? url : url.href;
  if (!href.startsWith("file:")) return href;
  const path = fileURLToPath(href);
  let cwd: string;
  try {
    cwd = Deno.cwd();
  } catch {
    // Without read permission the working directory is unknown: keep the absolute path.
    return path;
  }
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") && !rel.startsWith("/") ? rel : path;
}
