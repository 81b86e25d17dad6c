// Where pings go and where the client binds. The name is resolved once, up
// front, so replies can be matched against the very address pings are sent to
// (a reply from anywhere else is foreign).
import { lookup } from "node:dns/promises";
import { toNetError } from "../../lib/transport/mod.ts";

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * The IP address of `hostname`, in the form the runtime reports senders in
 * (`127.0.0.1`, `::1`). IP literals are only normalised; names are looked up
 * as the system does (hosts file included). Aborts with `signal`.
 */
export async function resolvePeer(
  hostname: string,
  where: string,
  signal: AbortSignal,
): Promise<string> {
  if (IPV4.test(hostname) || hostname.includes(":")) {
    const host = new URL(`http://${hostname.includes(":") ? `[${hostname}]` : hostname}`).hostname;
    return host.startsWith("[") ? host.slice(1, -1) : host;
  }
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const found = await Promise.race([lookup(hostname), aborted]);
    return found.address;
  } catch (error) {
    if (signal.aborted && error === signal.reason) throw error;
    throw toNetError(error, "resolve", where);
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
}

/**
 * The address the client binds to reach `ip`: the loopback of the same
 * family for a loopback peer (nothing is exposed beyond this host), the
 * wildcard otherwise.
 */
export function localAddressFor(ip: string): string {
  if (ip.includes(":")) return ip === "::1" ? "::1" : "::";
  return ip.startsWith("127.") ? "127.0.0.1" : "0.0.0.0";
}
