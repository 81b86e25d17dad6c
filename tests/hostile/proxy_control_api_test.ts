// Hostile clients of the proxy's control API: over real sockets on loopback.
import assert from "node:assert/strict";
import net from "node:net";
import { formatAddress } from "../../lib/transport/mod.ts";
import { startProxyServer } from "../../plugins/proxy/mod.ts";

// Sends POST /proxies with an endless chunked body (at most 64 MiB, 10 s) and
// returns the status line and how many body bytes were written before it came.
function endlessChunkedPost(port: number): Promise<{ status: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const chunk = Buffer.alloc(65_536, 32);
    const frame = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from("\r\n"),
    ]);
    let sent = 0;
    let answered = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in 10 s, ${sent} body bytes sent`));
    }, 10_000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: answered.split("\r\n")[0], sent });
    };
    socket.on("error", () => answered ? finish() : undefined);
    socket.on("data", (data) => {
      answered += data.toString("latin1");
      if (answered.includes("\r\n")) finish();
    });
    socket.on("connect", async () => {
      socket.write("POST /proxies HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n");
      while (!answered && !socket.destroyed && sent < 64 << 20) {
        sent += chunk.length;
        if (!socket.write(frame)) {
          await new Promise<void>((done) => {
            socket.once("drain", done);
            socket.once("close", done);
          });
        }
      }
    });
  });
}

Deno.test("proxy control API answers 413 to an endless chunked body without reading it all", async () => {
  const service = await startProxyServer({ seed: 1 });
  try {
    const { status, sent } = await endlessChunkedPost((service.address as Deno.NetAddr).port);
    assert.equal(status, "HTTP/1.1 413 Payload Too Large");
    // The body is cut at 1 MiB: the answer comes long before 64 MiB were sent.
    assert.ok(sent < 16 << 20, `${sent} body bytes sent before the answer`);
    const res = await fetch(`http://${formatAddress(service.address)}/version`, {
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await service.close();
  }
});

Deno.test("proxy control API answers 400 to a path with a malformed escape, and keeps serving", async () => {
  const service = await startProxyServer({ seed: 1 });
  try {
    const base = `http://${formatAddress(service.address)}`;
    const bad = await fetch(`${base}/proxies/%E0%A4%A`, { signal: AbortSignal.timeout(5000) });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      error: `bad request path: "/proxies/%E0%A4%A" has a malformed escape`,
      status: 400,
    });
    const res = await fetch(`${base}/proxies`, { signal: AbortSignal.timeout(5000) });
    assert.deepEqual(await res.json(), {});
  } finally {
    await service.close();
  }
});
