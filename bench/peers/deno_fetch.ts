// The floor for a one-shot HTTP request in Deno: one fetch, the body read,
// the status printed. The `startup` row compares `wiretest probe` with it.
//
//   deno run -A bench/peers/deno_fetch.ts <url>
const response = await fetch(Deno.args[0]);
await response.arrayBuffer();
console.log(response.status);
