// Runs wiretest's CLI in this process, exactly as `wiretest <args>` does,
// then prints the process's peak resident set size (VmHWM from
// /proc/self/status) as a JSON line on stderr: the exact peak of the whole
// run, which polling from outside could miss.
//
//   deno run -A bench/peers/wiretest_rss.ts send big.bin 127.0.0.1:7001
import { main } from "../../lib/cli/main.ts";
import { peakRssMiB } from "../_process.ts";

const code = await main(Deno.args);
console.error(JSON.stringify({ peak_rss_mib: peakRssMiB("self") }));
Deno.exit(code);
