/**
 * Which I/O path a UDP exchange takes: the runtime's sockets
 * ({@linkcode bindUdp}) or libc's ({@linkcode openLibcUdp}), and whether
 * the libc path may be taken here.
 *
 * @module
 */
import { libcCandidates } from "./libc_udp.ts";

/**
 * How a plugin's UDP I/O is done: `auto` (libc where
 * {@linkcode libcUdpRefusal} allows it, else the runtime's sockets), `deno`,
 * or `libc` (fails where it is refused).
 */
export type UdpIo = "auto" | "deno" | "libc";

/**
 * Every {@linkcode UdpIo}, for a params schema.
 *
 * @example An enum
 * ```ts
 * import { UDP_IO_VALUES } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(UDP_IO_VALUES, ["auto", "deno", "libc"]);
 * ```
 */
export const UDP_IO_VALUES: readonly UdpIo[] = ["auto", "deno", "libc"];

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Why the libc path may not be used for these addresses, or `undefined`
 * when it may. FFI bypasses Deno's net permission, so the path is allowed
 * only where the runtime's sockets would be: on Linux x86_64/aarch64, with
 * FFI granted for one of {@linkcode libcCandidates}, every address an IP
 * literal with net granted for it (without prompting).
 *
 * @param addresses IP literals and ports (0: any port) to bind or send to.
 * @returns The reason, or `undefined`.
 *
 * @example Names are refused
 * ```ts
 * import { libcUdpRefusal } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * const why = libcUdpRefusal([{ hostname: "localhost", port: 7 }]);
 * assert.equal(typeof why, "string");
 * ```
 */
export function libcUdpRefusal(
  addresses: { hostname: string; port: number }[],
): string | undefined {
  if (Deno.build.os !== "linux" || !["x86_64", "aarch64"].includes(Deno.build.arch)) {
    return `not Linux x86_64/aarch64 (${Deno.build.os} ${Deno.build.arch})`;
  }
  if (typeof Deno.dlopen !== "function") return "Deno.dlopen is unavailable";
  const granted = libcCandidates().some((path) =>
    Deno.permissions.querySync({ name: "ffi", path }).state === "granted"
  );
  if (!granted) {
    // Said where it was taken away: a user who typed --no-ffi sees why.
    return "ffi is not granted for libc's path (--no-ffi revokes it, as does running without --allow-ffi; a plugin has it only from its manifest entry's ffi grant)";
  }
  for (const { hostname, port } of addresses) {
    if (!IPV4.test(hostname) && !hostname.includes(":")) {
      return `"${hostname}" is not an IP literal`;
    }
    const host = port === 0
      ? hostname
      : `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
    if (Deno.permissions.querySync({ name: "net", host }).state !== "granted") {
      return `net is not granted for "${host}"`;
    }
  }
  return undefined;
}

/**
 * Why a Worker cannot be started from `module`, or `undefined` when it may:
 * Deno needs read permission for a local Worker module, and a Worker that
 * fails to load prints its error even when it is handled.
 *
 * @param module The Worker's module URL.
 * @returns The reason, or `undefined`.
 *
 * @example A module outside every read grant
 * ```ts
 * import { workerRefusal } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * assert.equal(workerRefusal(new URL("https://example.com/w.ts")), undefined);
 * ```
 */
export function workerRefusal(module: URL): string | undefined {
  if (module.protocol !== "file:") return undefined;
  const path = decodeURIComponent(module.pathname);
  if (Deno.permissions.querySync({ name: "read", path }).state === "granted") return undefined;
  return `read is not granted for "${path}" (the Worker's module)`;
}
