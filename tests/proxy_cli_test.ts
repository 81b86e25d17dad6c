// `wiretest proxy` as a subprocess: toxiproxy-server's --config file, the
// loopback notice, the control API answering, a clean stop on SIGINT.
import assert from "node:assert/strict";
import { bindUdp } from "../lib/transport/unstable_udp.ts";
import { commandOutput } from "./_support/command.ts";

const MAIN = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const README = new URL("../README.md", import.meta.url);

Deno.test("wiretest proxy --config populates proxies and says the API is on loopback", async () => {
  const dir = await Deno.makeTempDir();
  const config = `${dir}/toxiproxy.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify([{ name: "web", listen: "127.0.0.1:0", upstream: "127.0.0.1:9" }]),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "proxy", "--port", "0", "--config", config, "--json"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    const line = async (): Promise<string> => {
      while (!buffered.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stdout ended: ${JSON.stringify(buffered)}`);
        buffered += value;
      }
      const at = buffered.indexOf("\n");
      const text = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      return text;
    };
    const listening = JSON.parse(await line());
    assert.equal(listening.event, "listening");
    const res = await fetch(`http://${listening.address}/proxies`, {
      signal: AbortSignal.timeout(5000),
    });
    const proxies = await res.json();
    assert.equal(proxies.web.upstream, "127.0.0.1:9");
    assert.match(proxies.web.listen, /^127\.0\.0\.1:\d+$/);
    child.kill("SIGINT");
    const closed = JSON.parse(await line());
    assert.equal(closed.event, "closed");
    await reader.cancel();
    const stderr = await new Response(child.stderr).text();
    const notice = stderr.split("\n")[0];
    assert.equal(
      notice,
      "proxy: control API on loopback only (127.0.0.1); --host 0.0.0.0 exposes it",
    );
    // README quotes it as printed.
    assert.ok(
      (await Deno.readTextFile(README)).includes(`\`${notice}\``),
      "README lacks the notice",
    );
    assert.equal((await child.status).code, 0);
  } finally {
    clearTimeout(kill);
    await Deno.remove(dir, { recursive: true });
  }
});

// On libc sockets (FFI granted), and on the runtime's when --no-ffi revokes it (io auto).
for (
  const [flags, what, io] of [
    [["--io", "libc"], "on libc sockets", "libc"],
    [["--no-ffi"], "on the runtime's sockets under --no-ffi", "deno"],
  ] as const
) {
  Deno.test(`wiretest proxy relays UDP ${what} in its isolated process`, async () => {
    const dir = await Deno.makeTempDir();
    using echo = bindUdp();
    const echoing = (async () => {
      while (true) {
        try {
          const { data, from } = await echo.receive({ timeout: 20_000 });
          await echo.send(data, from);
        } catch {
          return;
        }
      }
    })();
    const config = `${dir}/toxiproxy.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify([{
        name: "dns",
        protocol: "udp",
        listen: "127.0.0.1:0",
        upstream: `127.0.0.1:${echo.addr.port}`,
      }]),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "proxy", "--port", "0", ...flags, "--config", config, "--json"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      const { value } = await reader.read();
      const listening = JSON.parse(value!.split("\n")[0]);
      assert.equal(listening.event, "listening", value);
      const api = `http://${listening.address}`;
      const proxies = await (await fetch(`${api}/proxies`, { signal: AbortSignal.timeout(5000) }))
        .json();
      assert.equal(proxies.dns.io, io);
      const [hostname, port] = proxies.dns.listen.split(":");
      using client = bindUdp();
      await client.send(new Uint8Array([1, 2, 3]), { hostname, port: Number(port) });
      const back = await client.receive({ timeout: 5000 });
      assert.deepEqual(back.data, new Uint8Array([1, 2, 3]));
      const stats = await (await fetch(`${api}/proxies/dns/stats`, {
        signal: AbortSignal.timeout(5000),
      })).json();
      assert.equal(stats.datagrams_upstream, 1);
      assert.equal(stats.datagrams_downstream, 1);
    } finally {
      child.kill("SIGINT");
      clearTimeout(kill);
      await reader.cancel();
      await child.stderr.cancel();
      await child.status;
      echo.close();
      await echoing;
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("wiretest proxy --help tells its own usage: --config, and the control API on port 8474", async () => {
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "proxy", "--help"],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder().decode(help.stdout);
  assert.equal(help.code, 0, new TextDecoder().decode(help.stderr));
  assert.match(text, /^wiretest proxy \[--config <file>\] \[flags\]\n/);
  assert.match(text, /^ {2}--config <file> +proxies to create at start: a JSON array/m);
  assert.match(text, /^ {2}--port <n> .*\(default: 8474\)$/m);
  // `serve proxy` keeps the plugin's own default: a free port.
  const serve = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "proxy", "--help"],
    stdout: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const served = new TextDecoder().decode(serve.stdout);
  assert.match(served, /^wiretest serve proxy \[flags\]\n/);
  assert.match(served, /^ {2}--port <n> .*\(default: 0\)$/m);
  assert.doesNotMatch(served, /--config/);
});

Deno.test("wiretest proxy --host beyond loopback warns as README says, before it binds", async () => {
  // 192.0.2.1 (TEST-NET-1) is no address of this machine: the bind fails after the notice.
  const out = await commandOutput(Deno.execPath(), {
    args: ["run", "-A", MAIN, "proxy", "--host", "192.0.2.1", "--port", "0"],
  });
  const lines = new TextDecoder().decode(out.stderr).split("\n");
  assert.equal(
    lines[0],
    "proxy: control API reachable on 192.0.2.1: anyone who reaches it can change your proxies",
  );
  assert.match(lines[1], /^error: /);
  assert.equal(out.code, 2);
  const readme = (await Deno.readTextFile(README)).replaceAll(/\s+/g, " ");
  assert.ok(
    readme.includes(`\`${lines[0].replace("192.0.2.1", "<host>")}\``),
    "README lacks the notice",
  );
});
