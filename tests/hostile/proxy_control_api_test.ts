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

Deno.test("proxy control API: concurrent creates of one name make one proxy, the rest 409, none left behind", async () => {
  const service = await startProxyServer({ seed: 1 });
  try {
    const base = `http://${formatAddress(service.address)}`;
    const answers = await Promise.all(Array.from({ length: 20 }, async () => {
      const res = await fetch(`${base}/proxies`, {
        method: "POST",
        body: JSON.stringify({ name: "dup", upstream: "127.0.0.1:9" }),
        signal: AbortSignal.timeout(5000),
      });
      return { status: res.status, body: await res.json() };
    }));
    const created = answers.filter((a) => a.status === 201);
    assert.equal(created.length, 1);
    assert.equal(answers.filter((a) => a.status === 409).length, 19);
    const deleted = await fetch(`${base}/proxies/dup`, {
      method: "DELETE",
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(deleted.status, 204);
    // Every listen address an answer named is closed now: none was orphaned.
    for (const { body } of answers.filter((a) => a.status === 201)) {
      const port = Number(body.listen.slice(body.listen.lastIndexOf(":") + 1));
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port });
        socket.once("connect", () => {
          socket.destroy();
          resolve(false);
        });
        socket.once("error", () => resolve(true));
      });
      assert.ok(refused, `port ${port} still listens`);
    }
  } finally {
    await service.close();
  }
});

function refused(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

Deno.test("proxy control API: concurrent enables, resets and disables leave no relay behind a deleted proxy", async () => {
  const service = await startProxyServer({ seed: 1 });
  try {
    const base = `http://${formatAddress(service.address)}`;
    const call = async (path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method: "POST",
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      return { status: res.status, text: await res.text() };
    };
    assert.equal(
      (await call("/proxies", { name: "r", upstream: "127.0.0.1:9", enabled: false })).status,
      201,
    );
    const answers = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) =>
          i % 3 === 2 ? call("/reset") : call("/proxies/r", { enabled: i % 3 === 0 || i === 1 }),
      ),
    );
    assert.deepEqual(answers.filter((a) => a.status >= 300), []);
    const ports = answers.filter((a) => a.text !== "").map((a) => {
      const listen: string = JSON.parse(a.text).listen;
      return Number(listen.slice(listen.lastIndexOf(":") + 1));
    }).filter((port) => port !== 0);
    assert.ok(ports.length > 0);
    const deleted = await fetch(`${base}/proxies/r`, {
      method: "DELETE",
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(deleted.status, 204);
    for (const port of new Set(ports)) assert.ok(await refused(port), `port ${port} still listens`);
  } finally {
    await service.close();
  }
});
