// Start the built-in HTTP responder and probe it: status, phases, body hash.
//
//   deno run -A examples/http_probe.ts [url]
//
// With a URL it probes that instead (only loopback addresses in CI).
import { runHttpProbe, startHttpServer } from "../plugins/http_probe/mod.ts";
import { formatAddress } from "../lib/transport/address.ts";

const server = Deno.args[0] ? undefined : await startHttpServer({ body: "hello from wiretest" });
try {
  const url = Deno.args[0] ?? `http://${formatAddress(server!.address)}/`;
  const outcome = await runHttpProbe({ url, repeat: 20 });
  console.log(JSON.stringify(outcome, null, 2));
  if (!outcome.ok) Deno.exitCode = 1;
} finally {
  await server?.close();
}
