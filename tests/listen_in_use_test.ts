// Every command that listens on an address the user gives, against a port a
// Python process already holds: one line naming the address and why, exit 2
// (a usage error), as `serve echo` does; not the runtime's bare "Address
// already in use (os error 98)" with exit 1.
import assert from "node:assert/strict";
import { deno, errorLines, MAIN } from "./_support/deno_process.ts";

const HOLD = `
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(float(sys.argv[1]))
`;

/** Runs `use` while a Python process holds a loopback port. */
async function withHeldPort(use: (port: number) => Promise<void>): Promise<void> {
  const holder = new Deno.Command("python3", {
    args: ["-c", HOLD, "120"],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const timer = setTimeout(() => holder.kill("SIGKILL"), 10_000);
    const { value } = await reader.read();
    clearTimeout(timer);
    const port = Number(value?.trim());
    assert.ok(port > 0, `holder printed ${value}`);
    await use(port);
  } finally {
    holder.kill("SIGKILL");
    await reader.cancel();
    await holder.status;
  }
}

async function usageError(args: string[], expected: RegExp): Promise<void> {
  const ran = await deno(["run", "-A", MAIN, ...args], { timeoutMs: 60_000 });
  // The proxy's notice that its control API is loopback only comes first.
  const lines = errorLines(ran.stderr).filter((line) => !line.startsWith("proxy: control API"));
  assert.equal(ran.code, 2, `${args.join(" ")}: exit ${ran.code}\n${ran.stderr}`);
  assert.equal(lines.length, 1, ran.stderr);
  assert.match(lines[0], expected);
}

Deno.test("wiretest proxy, exporter and test --metrics-listen on a port in use: one line naming it, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/exporter.yaml`;
    await Deno.writeTextFile(config, "modules:\n  http_2xx:\n    plugin: http-probe\n");
    const fixture = `${dir}/t.wire.yaml`;
    await Deno.writeTextFile(
      fixture,
      'name: t\nsteps:\n  - name: probe\n    plugin: http-probe\n    with: { url: "http://127.0.0.1:9/" }\n',
    );
    await withHeldPort(async (port) => {
      const inUse = new RegExp(
        `^error: Cannot listen on 127\\.0\\.0\\.1:${port}: address already in use$`,
      );
      await usageError(["proxy", "--port", String(port)], inUse);
      await usageError(["proxy", "--port", String(port), "--no-isolation"], inUse);
      // A proxy's own listen address, given on the command line.
      await usageError(
        ["proxy", "--upstream", "127.0.0.1:9", "--listen", `127.0.0.1:${port}`],
        inUse,
      );
      await usageError(
        ["exporter", "--config", config, "--listen", `127.0.0.1:${port}`],
        inUse,
      );
      await usageError(
        ["test", fixture, "--every", "30s", "--metrics-listen", `127.0.0.1:${port}`],
        inUse,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
