// `wiretest report merge` reads interval logs that come from other machines:
// a line whose histogram inflates without end is refused, located, at once.
// `wiretest load --hdr-log` on a file that cannot be written says which flag.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { deflateSync } from "node:zlib";
import { deno, MAIN } from "../_support/deno_process.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { startServer } from "../../lib/plugin/run.ts";
import { formatAddress } from "../../lib/transport/mod.ts";

Deno.test("wiretest report merge: a deflate bomb in an interval log is one located line, exit 2", async () => {
  // A histogram header, then 64 MiB of zero counts: 64 KiB deflated.
  const body = Buffer.alloc(40 + 64 * 1024 * 1024);
  body.writeInt32BE(0x1c849313, 0);
  body.writeInt32BE(body.length - 40, 4);
  body.writeInt32BE(3, 12);
  body.writeBigInt64BE(1n, 16);
  body.writeBigInt64BE(1000n, 24);
  const deflated = deflateSync(body);
  const data = Buffer.alloc(8 + deflated.length);
  data.writeInt32BE(0x1c849314, 0);
  data.writeInt32BE(deflated.length, 4);
  data.set(deflated, 8);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/bomb.hlog`;
    await Deno.writeTextFile(
      file,
      `#[Histogram log format version 1.3]\nTag=corrected,0.000,1.000,0.000,${
        data.toString("base64")
      }\n`,
    );
    const r = await deno(["run", "-A", MAIN, "report", "merge", file], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^error: Cannot read interval log 1 line 2: Cannot decode histogram: it does not inflate within 4194304 bytes/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest load --hdr-log on a full device names the flag and the file, exit 2, in and out of isolation", async () => {
  const server = await startServer(await builtinRegistry().load("echo"), {});
  try {
    for (const isolation of [["--no-isolation"], []]) {
      const r = await deno([
        "run",
        "-A",
        MAIN,
        "load",
        "echo",
        formatAddress(server.address),
        "--vus",
        "1",
        "--duration",
        "2s",
        "--hdr-log",
        "/dev/full",
        ...isolation,
      ], { timeoutMs: 60_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr.trim(),
        'error: Cannot write --hdr-log "/dev/full": No space left on device (os error 28)',
      );
    }
  } finally {
    await server.close();
  }
});
