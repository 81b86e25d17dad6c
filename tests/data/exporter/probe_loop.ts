// Probes a local responder `warm` times, then prints "window start", probes
// `window` times more and prints "window end": run with V8's --trace-gc, the
// lines between the two markers are the collections the window cost.
import { runHttpProbe, startHttpServer } from "../../../plugins/http_probe/mod.ts";

const [warm, window] = Deno.args.map(Number);
const server = await startHttpServer({ body: "x".repeat(1024) });
const url = `http://127.0.0.1:${(server.address as Deno.NetAddr).port}/`;
const probe = async () => {
  const outcome = await runHttpProbe({ url });
  if (!outcome.ok) throw new Error(`Cannot probe ${url}: ${outcome.error?.message}`);
};
for (let i = 0; i < warm; i++) await probe();
console.log("window start");
for (let i = 0; i < window; i++) await probe();
console.log("window end");
await server.close();
