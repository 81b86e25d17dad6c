// A proxy alone in its process (for tests that limit or measure that process):
// starts the control API and one TCP proxy to Deno.args[1] on Deno.args[0]'s
// sockets, prints the proxy's port, and ends after 20 s (or when killed).
import { formatAddress } from "../../../lib/transport/mod.ts";
import { startProxyServer } from "../../../plugins/proxy/mod.ts";

// Deno sets up its signal handling at the first listener and panics if that
// finds no descriptor left: done now, before the proxy may use them all.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
const service = await startProxyServer({ seed: 1, io: Deno.args[0] as "libc" | "deno" });
const res = await fetch(`http://${formatAddress(service.address)}/proxies`, {
  method: "POST",
  body: JSON.stringify({ name: "child", upstream: Deno.args[1] }),
});
const listen: string = (await res.json()).listen;
console.log(listen.slice(listen.lastIndexOf(":") + 1));
await new Promise((resolve) => setTimeout(resolve, 20_000));
await service.close();
