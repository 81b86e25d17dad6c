// `compressed` (curl's --compressed): Accept-Encoding, decoding of gzip,
// deflate and br bodies, the decoded size bound (bombs), against nginx with
// gzip on and a Python server sending pre-encoded bodies.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  brotliCompressSync,
  constants,
  createBrotliCompress,
  deflateSync,
  gzipSync,
} from "node:zlib";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { nginxConfig } from "../../tests/_support/nginx.ts";
import { freePort, hasProgram, spawnPeer, waitForTcp } from "../../tests/_support/peer.ts";
import { runHttpProbe } from "./mod.ts";

const hasPython = hasProgram("python3");
const hasNginx = hasProgram("nginx");
const MIB = 1024 * 1024;
const MAIN = new URL("../../lib/cli/main.ts", import.meta.url).pathname;

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Text that compresses well but not absurdly: numbered lines. */
function sampleText(lines: number): Uint8Array {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(`line ${i}: the quick brown fox ${i * 7919 % 1000}\n`);
  return new TextEncoder().encode(out.join(""));
}

// Serves `<dir>/<name>.body` at `/<name>` with the Content-Encoding in
// `<dir>/<name>.enc` (if any), and echoes the request's Accept-Encoding in
// `X-Accept-Encoding`. HTTP/1.1 with Content-Length, or chunked for names
// starting with "chunked-". Prints its port.
const PY_ENCODED = `
import http.server, os, sys
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        name = self.path.lstrip("/")
        path = os.path.join(root, name + ".body")
        if "/" in name or not os.path.exists(path):
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        body = open(path, "rb").read()
        self.send_response(200)
        enc = os.path.join(root, name + ".enc")
        if os.path.exists(enc):
            self.send_header("Content-Encoding", open(enc).read())
        self.send_header("X-Accept-Encoding", self.headers.get("Accept-Encoding", "(none)"))
        if name.startswith("chunked-"):
            self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            for i in range(0, len(body), 1000):
                part = body[i:i + 1000]
                self.wfile.write(b"%x\\r\\n%s\\r\\n" % (len(part), part))
            self.wfile.write(b"0\\r\\n\\r\\n")
        else:
            self.send_header("Content-Length", str(len(body))); self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print(srv.server_address[1], flush=True)
srv.serve_forever()
`;

interface Encoded {
  name: string;
  body: Uint8Array;
  encoding?: string;
}

/** Writes the bodies, starts the Python server, returns its base URL. */
async function pythonServer(files: Encoded[]) {
  const dir = await Deno.makeTempDir({ prefix: "wiretest-compressed-" });
  for (const f of files) {
    await Deno.writeFile(`${dir}/${f.name}.body`, f.body);
    if (f.encoding) await Deno.writeTextFile(`${dir}/${f.name}.enc`, f.encoding);
  }
  const child = new Deno.Command("python3", {
    args: ["-c", PY_ENCODED, dir],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const { value } = await reader.read();
  clearTimeout(timer);
  return {
    base: `http://127.0.0.1:${Number(value?.trim())}`,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await reader.cancel().catch(() => {});
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** gzip of `size` zero bytes, as concatenated members of 64 MiB each (RFC 1952 allows it). */
function gzipZeros(size: number): Uint8Array {
  const member = gzipSync(new Uint8Array(64 * MIB), { level: 9 });
  const count = size / (64 * MIB);
  const out = new Uint8Array(member.length * count);
  for (let i = 0; i < count; i++) out.set(member, i * member.length);
  return out;
}

/** brotli of `size` zero bytes, compressed as it streams. */
async function brotliZeros(size: number): Promise<Uint8Array> {
  const z = createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 5 } });
  const parts: Uint8Array[] = [];
  z.on("data", (c: Uint8Array) => parts.push(c));
  const done = new Promise((resolve) => z.on("end", resolve));
  const mib = new Uint8Array(MIB);
  for (let i = 0; i < size / MIB; i++) {
    if (!z.write(mib)) await new Promise((resolve) => z.once("drain", resolve));
  }
  z.end();
  await done;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Runs `fn` while sampling this process's RSS; returns its result and the peak growth. */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 2);
  try {
    const result = await fn();
    peak = Math.max(peak, Deno.memoryUsage().rss);
    return { result, growth: peak - before };
  } finally {
    clearInterval(timer);
  }
}

Deno.test({
  name: "probeHttp() with compressed decodes gzip, deflate and br bodies from a Python server",
  ignore: !hasPython,
  async fn() {
    const text = sampleText(20_000);
    const br = brotliCompressSync(text);
    await using server = await pythonServer([
      { name: "gzip", body: gzipSync(text), encoding: "gzip" },
      { name: "deflate", body: deflateSync(text), encoding: "deflate" },
      { name: "br", body: br, encoding: "br" },
      { name: "chunked-br", body: br, encoding: "br" },
      { name: "twice", body: brotliCompressSync(gzipSync(text)), encoding: "gzip, br" },
      { name: "plain", body: text },
    ]);
    for (const name of ["gzip", "deflate", "br", "chunked-br", "twice", "plain"]) {
      const outcome = await runHttpProbe({ url: `${server.base}/${name}`, compressed: true });
      assert.equal(outcome.ok, true, `${name}: ${outcome.error?.message}`);
      const headers = outcome.facts.headers as Record<string, string>;
      assert.equal(headers["x-accept-encoding"], "gzip, deflate, br");
      assert.equal(outcome.facts.body_sha256, sha256(text), name);
      assert.equal(outcome.metrics.body_bytes, text.length, name);
      assert.equal(outcome.facts.body_truncated, true);
      assert.ok((outcome.facts.body_text as string).startsWith("line 0: the quick brown fox 0\n"));
      const encoded = outcome.metrics.encoded_body_bytes;
      if (name === "plain") assert.equal(encoded, text.length);
      else assert.ok(encoded < text.length / 3, `${name}: ${encoded} encoded bytes`);
    }
    // The CLI's --compressed is the same param.
    const cli = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "probe", `${server.base}/br`, "--compressed"],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(30_000),
    }).output();
    const printed = new TextDecoder().decode(cli.stdout);
    assert.equal(cli.code, 0, new TextDecoder().decode(cli.stderr));
    assert.match(
      printed,
      new RegExp(` 200 OK: ${(text.length / 1024).toFixed(1)} KiB \\([\\d.]+ KiB encoded\\) in `),
    );
    // Without compressed: no Accept-Encoding, and the body is reported as it came.
    const raw = await runHttpProbe({ url: `${server.base}/gzip` });
    assert.equal(raw.ok, true, raw.error?.message);
    assert.equal((raw.facts.headers as Record<string, string>)["x-accept-encoding"], "(none)");
    assert.equal(raw.facts.body_sha256, sha256(gzipSync(text)));
    assert.equal(raw.metrics.encoded_body_bytes, undefined);
  },
});

Deno.test({
  name: "probeHttp() with compressed fails with HttpParseError on a corrupt or unknown coding",
  ignore: !hasPython,
  async fn() {
    const text = sampleText(2000);
    const gz = gzipSync(text);
    const corrupt = gz.slice();
    corrupt[gz.length >> 1] ^= 0xff;
    await using server = await pythonServer([
      { name: "corrupt", body: corrupt, encoding: "gzip" },
      { name: "cut", body: gz.subarray(0, gz.length - 100), encoding: "gzip" },
      { name: "zstd", body: text, encoding: "zstd" },
    ]);
    for (const name of ["corrupt", "cut", "zstd"]) {
      const outcome = await runHttpProbe({ url: `${server.base}/${name}`, compressed: true });
      assert.equal(outcome.ok, false, name);
      assert.equal(outcome.error?.name, "HttpParseError", `${name}: ${outcome.error?.message}`);
      assert.equal(outcome.error?.code, "content-encoding");
    }
  },
});

Deno.test({
  name:
    "probeHttp() with compressed stops a gzip bomb (1 GiB of zeros) at maxDecodedBytes in bounded memory",
  ignore: !hasPython,
  async fn() {
    const bomb = gzipZeros(1024 * MIB);
    assert.ok(bomb.length < 2 * MIB);
    await using server = await pythonServer([{ name: "bomb", body: bomb, encoding: "gzip" }]);
    const url = `${server.base}/bomb`;
    const { result: outcome, growth } = await peakRssGrowth(() =>
      runHttpProbe({ url, compressed: true, maxDecodedBytes: 512 * MIB, timeoutMs: 60_000 })
    );
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, "RangeError");
    assert.match(outcome.error!.message, /exceeds maxDecodedBytes 536870912$/);
    // Held whole, the 512 MiB decoded would show; 256 MiB leaves room for
    // the other test files `deno test --parallel` runs in this process.
    assert.ok(growth < 256 * MIB, `RSS grew ${(growth / MIB).toFixed(0)} MiB`);
    // The default bound (100 MiB) applies without asking.
    const byDefault = await runHttpProbe({ url, compressed: true, timeoutMs: 60_000 });
    assert.match(byDefault.error!.message, /exceeds maxDecodedBytes 104857600$/);
  },
});

Deno.test({
  name:
    "probeHttp() with compressed stops a brotli bomb (1 GiB of zeros in 2 KB) in bounded memory",
  ignore: !hasPython,
  async fn() {
    const bomb = await brotliZeros(1024 * MIB);
    assert.ok(bomb.length < 4096, `${bomb.length} bytes`);
    await using server = await pythonServer([{ name: "bomb", body: bomb, encoding: "br" }]);
    const { result: outcome, growth } = await peakRssGrowth(() =>
      runHttpProbe({
        url: `${server.base}/bomb`,
        compressed: true,
        maxDecodedBytes: 512 * MIB,
        timeoutMs: 60_000,
      })
    );
    assert.equal(outcome.ok, false);
    assert.match(outcome.error!.message, /exceeds maxDecodedBytes 536870912$/);
    // Held whole, the 512 MiB decoded would show; 256 MiB leaves room for
    // the other test files `deno test --parallel` runs in this process.
    assert.ok(growth < 256 * MIB, `RSS grew ${(growth / MIB).toFixed(0)} MiB`);
    // Decoding is inside the probe's deadline, though no read is pending.
    const late = await runHttpProbe({
      url: `${server.base}/bomb`,
      compressed: true,
      maxDecodedBytes: 2048 * MIB,
      timeoutMs: 200,
    });
    assert.equal(late.ok, false);
    assert.equal(late.error?.name, "TimeoutError", late.error?.message);
  },
});

Deno.test({
  name: "probeHttp() with compressed decodes what nginx gzips, over http and https",
  ignore: !hasNginx,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-nginx-gzip-" });
    await using certs = await makeCertificates();
    try {
      const text = sampleText(10_000);
      await Deno.mkdir(`${dir}/www`);
      await Deno.writeFile(`${dir}/www/page.txt`, text);
      const httpPort = freePort();
      const httpsPort = freePort();
      await Deno.writeTextFile(
        `${dir}/nginx.conf`,
        nginxConfig({
          dir,
          httpPort,
          httpsPort,
          certFile: certs.certFile,
          keyFile: certs.keyFile,
          httpExtra: "gzip on; gzip_types text/plain; gzip_min_length 1; types { text/plain txt; }",
        }),
      );
      await using _nginx = spawnPeer("nginx", ["-p", dir, "-c", `${dir}/nginx.conf`]);
      await waitForTcp(httpPort);
      await waitForTcp(httpsPort);
      for (
        const [url, extra] of [
          [`http://127.0.0.1:${httpPort}/page.txt`, {}],
          [`https://localhost:${httpsPort}/page.txt`, { caFile: certs.caCertFile }],
        ] as const
      ) {
        const outcome = await runHttpProbe({ url, compressed: true, repeat: 2, ...extra });
        assert.equal(outcome.ok, true, outcome.error?.message);
        const headers = outcome.facts.headers as Record<string, string>;
        assert.equal(headers["content-encoding"], "gzip");
        assert.equal(headers["transfer-encoding"], "chunked");
        assert.equal(outcome.facts.body_sha256, sha256(text));
        assert.equal(outcome.metrics.body_bytes, text.length);
        assert.ok(outcome.metrics.encoded_body_bytes < text.length / 3);
        // Without it nginx sends the file as it is.
        const plain = await runHttpProbe({ url, ...extra });
        assert.equal(
          (plain.facts.headers as Record<string, string>)["content-encoding"],
          undefined,
        );
        assert.equal(plain.facts.body_sha256, sha256(text));
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
