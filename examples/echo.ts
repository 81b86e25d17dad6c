// Start an echo server and run 200 verified round trips over 4 connections.
//
//   deno run -A examples/echo.ts
import { runEchoClient, startEchoServer } from "../plugins/echo/mod.ts";
import { formatAddress } from "../lib/transport/address.ts";

const server = await startEchoServer({ transport: "tcp" });
try {
  const outcome = await runEchoClient({
    target: formatAddress(server.address),
    payload: "hello, wire",
    count: 50,
    connections: 4,
  });
  console.log(JSON.stringify(outcome, null, 2));
  console.log("server stats:", server.stats());
  if (!outcome.ok) Deno.exitCode = 1;
} finally {
  await server.close();
}
