// Send a file to a file-send receiver on loopback and print what happened.
//
//   deno run -A examples/file_send.ts [file]
//
// Without a file it sends 8 MiB of random bytes. The receiver stores into a
// temporary directory that is removed afterwards.
import { runFileSender, startFileReceiver } from "../plugins/file_send/mod.ts";

const dir = await Deno.makeTempDir({ prefix: "wiretest-example-" });
let file = Deno.args[0];
if (!file) {
  file = `${dir}/random.bin`;
  const data = new Uint8Array(8 * 1024 * 1024);
  for (let off = 0; off < data.length; off += 65536) {
    crypto.getRandomValues(data.subarray(off, off + 65536));
  }
  await Deno.writeFile(file, data);
}
await Deno.mkdir(`${dir}/inbox`);

const receiver = await startFileReceiver({ dir: `${dir}/inbox` });
try {
  const { port } = receiver.address as Deno.NetAddr;
  const outcome = await runFileSender({ file, target: `127.0.0.1:${port}` });
  console.log(JSON.stringify(outcome, null, 2));
  console.log("receiver stats:", receiver.stats());
  if (!outcome.ok) Deno.exitCode = 1;
} finally {
  await receiver.close();
  await Deno.remove(dir, { recursive: true });
}
