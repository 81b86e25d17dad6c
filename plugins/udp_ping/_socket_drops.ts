// Datagrams the kernel dropped on their way into one of the runtime's UDP
// sockets (its receive buffer was full): the `drops` column of
// /proc/net/udp or /proc/net/udp6, the row found by its local address and
// port. The runtime's sockets give no descriptor to ask the kernel directly,
// as the libc path does (LibcUdpSocket.drops).
import { encodeSockaddr } from "../../lib/transport/unstable_udp.ts";

/**
 * The cumulative drop count of the UDP socket bound at `hostname:port`, or
 * why it cannot be read: not Linux, no permission (Deno reads /proc only
 * with every permission granted, `--allow-all`), no row or several rows for
 * that address.
 */
export function readSocketDrops(hostname: string, port: number): number | string {
  if (Deno.build.os !== "linux") return `not Linux (${Deno.build.os})`;
  const v6 = hostname.includes(":");
  const path = v6 ? "/proc/net/udp6" : "/proc/net/udp";
  const denied = `${path} unreadable: Deno reads /proc only with --allow-all`;
  // Asking first keeps a missing grant from prompting.
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return denied;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return denied;
    return `${path} unreadable: ${error instanceof Error ? error.message : String(error)}`;
  }
  const local = `${procHex(hostname)}:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const rows = text.split("\n").slice(1).map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1] === local);
  if (rows.length !== 1) {
    return `${rows.length === 0 ? "no" : rows.length} sockets at ${local} in ${path}`;
  }
  const drops = Number(rows[0].at(-1));
  return Number.isInteger(drops) ? drops : `no drops column in ${path}`;
}

// An IP literal as /proc/net/udp{,6} prints it: each 32-bit word of the
// address in host order (little-endian on every platform Deno runs on), %08X.
// The address's bytes are a socket address's own (sockaddr_in's 4 at offset
// 4, sockaddr_in6's 16 at offset 8), in network order.
function procHex(hostname: string): string {
  const v6 = hostname.includes(":");
  const bytes = encodeSockaddr(hostname, 0).subarray(v6 ? 8 : 4, v6 ? 24 : 8);
  let out = "";
  for (let word = 0; word < bytes.length; word += 4) {
    for (let i = 3; i >= 0; i--) out += bytes[word + i].toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}
