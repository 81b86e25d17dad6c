// The demo: each built-in plugin's server role started on loopback, its
// client role run against it, one summary line each.
//
//   deno task demo
import echo from "../plugins/echo/mod.ts";
import fileSend from "../plugins/file_send/mod.ts";
import httpProbe from "../plugins/http_probe/mod.ts";
import udpPing from "../plugins/udp_ping/mod.ts";
import { runClient, startServer } from "../lib/plugin/run.ts";
import type { AnyPlugin } from "../lib/plugin/types.ts";
import { formatAddress } from "../lib/transport/address.ts";

const dir = await Deno.makeTempDir({ prefix: "wiretest-demo-" });
const file = `${dir}/payload.bin`;
await Deno.writeFile(file, crypto.getRandomValues(new Uint8Array(65536)));
await Deno.mkdir(`${dir}/inbox`);

const cases: [AnyPlugin, Record<string, unknown>, (addr: string) => Record<string, unknown>][] = [
  [echo, {}, (addr) => ({ target: addr, count: 200, connections: 4 })],
  [echo, { transport: "udp" }, (addr) => ({ target: addr, transport: "udp", count: 100 })],
  [httpProbe, { body: "hello" }, (addr) => ({ url: `http://${addr}/`, repeat: 50 })],
  [udpPing, {}, (addr) => ({ target: addr, count: 100, intervalMs: 2 })],
  [fileSend, { dir: `${dir}/inbox` }, (addr) => ({ file, target: addr })],
];

let failed = 0;
try {
  for (const [plugin, serverParams, clientParams] of cases) {
    const service = await startServer(plugin, serverParams);
    try {
      const outcome = await runClient(plugin, clientParams(formatAddress(service.address)), {
        timeout: 30_000,
      });
      const summary = (plugin.client?.summary?.(outcome) ?? JSON.stringify(outcome.metrics))
        .replaceAll("\n", `\n${" ".repeat(16)}`);
      console.log(`${outcome.ok ? "ok  " : "FAIL"} ${plugin.name.padEnd(10)} ${summary}`);
      if (!outcome.ok) {
        failed++;
        console.log(`     ${outcome.error?.message}`);
      }
    } finally {
      await service.close();
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log(failed ? `${failed} failed` : "all plugins answered on loopback");
if (failed) Deno.exitCode = 1;
