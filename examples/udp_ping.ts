// Start a UDP echo server and ping it: RTT percentiles, loss, jitter.
//
//   deno run -A examples/udp_ping.ts
import { runUdpPingClient, startUdpPingServer } from "../plugins/udp_ping/mod.ts";
import { formatAddress } from "../lib/transport/address.ts";

const server = await startUdpPingServer({});
try {
  const outcome = await runUdpPingClient({
    target: formatAddress(server.address),
    count: 100,
    intervalMs: 5,
  });
  console.log(JSON.stringify(outcome, null, 2));
  if (!outcome.ok) Deno.exitCode = 1;
} finally {
  await server.close();
}
