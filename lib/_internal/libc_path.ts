/**
 * Where this process's C library is, symbolic links resolved: the one path a
 * plugin granted `ffi: ["libc"]` may load (Deno scopes `--allow-ffi` to
 * paths, and checks the path as written, not a link's target).
 *
 * @module
 */

/** Where libc usually is, when the loader's own mapping cannot be read. */
export const LIBC_CANDIDATES: readonly string[] = [
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/aarch64-linux-gnu/libc.so.6",
  "/usr/lib/aarch64-linux-gnu/libc.so.6",
  "/lib64/libc.so.6",
  "/usr/lib64/libc.so.6",
  "/usr/lib/libc.so.6",
];

// glibc's "libc.so.6" (or an old "libc-2.31.so"), musl's loader-and-libc.
const LIBC_FILE = /\/(?:libc\.so\.\d+|libc-[\d.]+\.so|ld-musl-[\w-]+\.so\.\d+)$/;

let cached: { path: string | undefined } | undefined;

function readable(path: string): boolean {
  return Deno.permissions.querySync({ name: "read", path }).state === "granted";
}

function realPath(path: string): string | undefined {
  try {
    return readable(path) && Deno.statSync(path).isFile ? Deno.realPathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** The libc mapped into this process (what the dynamic loader chose), from /proc/self/maps. */
function mappedLibc(): string | undefined {
  const maps = "/proc/self/maps";
  if (!readable(maps)) return undefined;
  let text: string;
  try {
    text = Deno.readTextFileSync(maps);
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const path = line.slice(line.indexOf("/"));
    if (line.includes("/") && LIBC_FILE.test(path)) return realPath(path);
  }
  return undefined;
}

/**
 * The real path of the C library this process runs with: the one its
 * dynamic loader mapped (Linux), else the first of
 * {@linkcode LIBC_CANDIDATES} that exists; `undefined` off Linux, without
 * read permission for either, or when none exists. Asks, never prompts.
 *
 * @returns The absolute path, or `undefined`.
 */
export function libcPath(): string | undefined {
  if (cached) return cached.path;
  let path: string | undefined;
  if (Deno.build.os === "linux") {
    path = mappedLibc();
    for (const candidate of LIBC_CANDIDATES) path ??= realPath(candidate);
  }
  cached = { path };
  return path;
}
