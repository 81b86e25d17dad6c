// `wiretest proxy` as a subprocess: toxiproxy-server's --config file, the
// loopback notice, the control API answering, a clean stop on SIGINT.
import assert from "node:assert/strict";

const MAIN = new URL("../lib/cli/main.ts", import.meta.url).pathname;

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
    assert.match(stderr, /control API on loopback only/);
    assert.equal((await child.status).code, 0);
  } finally {
    clearTimeout(kill);
    await Deno.remove(dir, { recursive: true });
  }
});
