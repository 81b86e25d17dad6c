// Runs the wiretest CLI's main() on every file and address argument of every
// command with hostile values (in this process, in a temporary working
// directory that cli_arguments_test.ts made). Every target is a loopback
// server this process started, a refused loopback port, or text that must be
// refused before any lookup: nothing leaves the machine.
//
// Usage: deno run -A cli_arguments_child.ts
// Prints one JSON line: { cases, byCode, failures, slowest }.
import { main } from "../../../lib/cli/main.ts";
import { startEchoServer } from "../../../plugins/echo/mod.ts";
import { startFileReceiver } from "../../../plugins/file_send/mod.ts";
import { startHttpServer } from "../../../plugins/http_probe/mod.ts";

/** A case still running after this long hangs: it gets SIGINT and fails. */
const HANG_MS = 15_000;

// Files of every kind a path can name.
await Deno.writeFile("payload.bin", crypto.getRandomValues(new Uint8Array(4096)));
await Deno.mkdir("incoming");
await Deno.writeTextFile("exporter.yaml", "modules:\n  http:\n    plugin: http-probe\n");
await Deno.writeTextFile(
  "ok.wire.yaml",
  'name: ok\nsteps:\n  - plugin: echo\n    with: { target: "127.0.0.1:1" }\n',
);
await Deno.writeTextFile("events.jsonl", "");
await Deno.symlink("loop", "loop");
const mkfifo = await new Deno.Command("mkfifo", { args: ["fifo"] }).output();
if (!mkfifo.success) throw new Error("Cannot make a FIFO with mkfifo");
await Deno.writeTextFile("unreadable.bin", "secret");
await Deno.chmod("unreadable.bin", 0o000);

const servers = await Promise.all([
  startEchoServer({}),
  startHttpServer({ body: "ok" }),
  startFileReceiver({ dir: "incoming", overwrite: true }),
]);
const [echoPort, httpPort, filePort] = servers.map((s) => (s.address as Deno.NetAddr).port);
const closed = (() => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
})();

const LONG_NAME = "a".repeat(300);
const LONG_PATH = `${"d".repeat(200)}/`.repeat(25) + "x";
const ROOT = Deno.uid() === 0;

/** A hostile value and the exit code it must give (2: usage; 1: the network's). */
type Value = [value: string, code: 1 | 2];

/** Paths that name nothing readable as a regular file. */
const BAD_FILES: Value[] = [
  ["", 2],
  ["\0", 2],
  ["pay\0load.bin", 2],
  ["missing.bin", 2],
  [".", 2],
  ["incoming", 2],
  ["fifo", 2],
  ["/dev/zero", 2],
  ["/dev/null", 2],
  ["loop", 2],
  ["payload.bin/x", 2],
  [LONG_NAME, 2],
  [LONG_PATH, 2],
  // root reads any file whatever its mode: not hostile then.
  ...(ROOT ? [] : [["unreadable.bin", 2] as Value]),
];
/** Paths that name no usable directory. */
const BAD_DIRS: Value[] = [
  ["", 2],
  ["\0", 2],
  ["missing-dir", 2],
  ["payload.bin", 2],
  ["fifo", 2],
  ["/dev/zero", 2],
  ["loop", 2],
  [LONG_NAME, 2],
  [LONG_PATH, 2],
];
/** Paths where no file can be written. */
const BAD_OUTPUTS: Value[] = [
  ["", 2],
  ["\0", 2],
  [".", 2],
  ["incoming", 2],
  ["payload.bin/x", 2],
  ["loop", 2],
  [LONG_NAME, 2],
  [LONG_PATH, 2],
];
/** host:port targets to connect to. */
const BAD_TARGETS: Value[] = [
  ["", 2],
  ["\0", 2],
  ["127.0.0.1\0:7", 2],
  [`${"x".repeat(5000)}:7`, 2],
  [`${"x".repeat(64)}.example:7`, 2],
  ["127.0.0.1:0", 2],
  ["[::1]:0", 2],
  ["127.0.0.1:65536", 2],
  ["127.0.0.1:-1", 2],
  ["127.0.0.1:99999999999999999999", 2],
  ["::1:7", 2],
  ["::1", 2],
  ["127.0.0.1", 2],
  ["host name:7", 2],
  ["127.0.0.1:7:7", 2],
  [`127.0.0.1:${closed}`, 1],
  [`[::1]:${closed}`, 1],
  [`localhost:${closed}`, 1],
];
/** Unix socket addresses to connect to (echo). */
const BAD_UNIX: Value[] = [
  ["unix:", 2],
  [`unix:/tmp/${"a".repeat(120)}`, 2],
  [`unix:${"é".repeat(60)}`, 2],
  ["unix:/tmp/a\0b", 2],
  ["unix:missing.sock", 1],
];
/** URLs to probe. */
const BAD_URLS: Value[] = [
  ["", 2],
  ["\0", 2],
  ["http://127.0.0.1:0/", 2],
  ["http://127.0.0.1:65536/", 2],
  ["http://::1:80/", 2],
  ["http://[::1/", 2],
  [`http://${"x".repeat(5000)}/`, 2],
  [`http://${"x".repeat(64)}.example/`, 2],
  ["ftp://127.0.0.1/", 2],
  [`http://localhost:${closed}/`, 1],
  [`http://alice:hunter2@127.0.0.1:${closed}/`, 1],
];
/** Listen addresses (host:port); port 0 is fine there, so not listed. */
const BAD_LISTEN: Value[] = [
  ["", 2],
  ["\0", 2],
  ["127.0.0.1:65536", 2],
  ["127.0.0.1:-1", 2],
  ["::1:9115", 2],
  [`${"x".repeat(5000)}:1`, 2],
  ["host name:1", 2],
];
const BAD_HOSTS: Value[] = [
  ["", 2],
  ["\0", 2],
  ["127.0.0.1\0", 2],
  ["x".repeat(5000), 2],
  ["host name", 2],
  ["::1:80", 2],
];
const BAD_PORTS: Value[] = [["-1", 2], ["65536", 2], ["1.5", 2], ["abc", 2], ["", 2]];
const BAD_SOCKET_PATHS: Value[] = [
  ["", 2],
  ["\0", 2],
  [`/tmp/${"a".repeat(120)}`, 2],
  ["incoming", 2],
  ["missing-dir/echo.sock", 2],
];
const BAD_PLUGIN_NAMES: Value[] = [["", 2], ["\0", 2], [LONG_NAME, 2], ["a/b", 2], ["..", 2]];

const NI = "--no-isolation";
const http = `http://127.0.0.1:${httpPort}/`;
/** Command lines, `{}` where the hostile value goes, and the values for it. */
const SLOTS: [args: string[], values: Value[]][] = [
  [["send", "{}", `127.0.0.1:${filePort}`, NI], BAD_FILES],
  [["send", "{}", `127.0.0.1:${filePort}`], BAD_FILES.slice(0, 5)],
  [["probe", http, "--method", "POST", "--body-file", "{}", NI], BAD_FILES],
  [["probe", http, "--method", "POST", "--body-file", "{}"], BAD_FILES.slice(0, 5)],
  [["probe", http, "--ca-file", "{}", NI], BAD_FILES],
  [["echo", `127.0.0.1:${echoPort}`, "--transport", "tls", "--ca-file", "{}", NI], BAD_FILES],
  [["serve", "echo", "--transport", "tls", "--cert", "{}", "--key", "payload.bin", NI], BAD_FILES],
  [["serve", "http-probe", "--cert-file", "{}", "--key-file", "payload.bin", NI], BAD_FILES],
  [["serve", "file-send", "--dir", "{}", NI], BAD_DIRS],
  // "." is a folder of fixtures (which fail: exit 1), not a hostile path here.
  [["test", "{}"], BAD_FILES.filter(([v]) => v !== ".")],
  [["plugins", "--plugins", "{}"], BAD_FILES],
  [["exporter", "--config", "{}", NI], BAD_FILES],
  [["proxy", "--config", "{}", NI], BAD_FILES],
  [["report", "html", "{}", "--output", "out.html"], BAD_FILES],
  [["report", "merge", "{}"], BAD_FILES],
  [["test", "ok.wire.yaml", "--plugins-lock", "{}"], BAD_FILES],
  [["schema", "--output", "{}"], BAD_OUTPUTS],
  [["reference", "--output", "{}"], BAD_OUTPUTS],
  [["report", "html", "events.jsonl", "--output", "{}"], BAD_OUTPUTS],
  [["test", "ok.wire.yaml", "--reporter", "jsonl", "--output", "{}", NI], BAD_OUTPUTS],
  // An empty existing folder ("incoming") is a fine place for a plugin.
  [["new", "plugin", "fine-name", "--dir", "{}"], BAD_OUTPUTS.filter(([v]) => v !== "incoming")],
  [["new", "plugin", "{}", "--dir", "scaffolds"], BAD_PLUGIN_NAMES],
  [["echo", "{}", NI], [...BAD_TARGETS, ...BAD_UNIX]],
  [["echo", "{}", "--transport", "udp", "--timeout-ms", "300", NI], BAD_TARGETS],
  [["echo", "{}"], BAD_TARGETS.slice(0, 8)],
  [["ping", "{}", "--count", "1", "--timeout-ms", "300", NI], BAD_TARGETS],
  [["send", "payload.bin", "{}", NI], BAD_TARGETS],
  [["probe", "{}", NI], BAD_URLS],
  [["probe", "{}"], BAD_URLS.slice(0, 5)],
  [["serve", "echo", "--host", "{}", NI], BAD_HOSTS],
  [["serve", "echo", "--port", "{}", NI], BAD_PORTS],
  [["serve", "echo", "--transport", "unix", "--path", "{}", NI], BAD_SOCKET_PATHS],
  [["serve", "http-probe", "--host", "{}", NI], BAD_HOSTS],
  [["serve", "udp-ping", "--host", "{}", NI], BAD_HOSTS],
  [["exporter", "--config", "exporter.yaml", "--listen", "{}", NI], BAD_LISTEN],
  [["proxy", "--listen", "{}", "--upstream", `127.0.0.1:${echoPort}`, NI], BAD_LISTEN],
  [["proxy", "--upstream", "{}", NI], BAD_TARGETS.slice(0, 15)],
  [["test", "ok.wire.yaml", "--every", "1s", "--metrics-listen", "{}", NI], BAD_LISTEN],
];

// Output capture: main() prints with console.* and writes to Deno.stdout/stderr.
let err: string[] = [];
let out: string[] = [];
const text = (parts: unknown[]) =>
  parts.map((p) => typeof p === "string" ? p : Deno.inspect(p)).join(" ");
console.log = (...parts: unknown[]) => void out.push(text(parts));
console.info = console.log;
console.error = (...parts: unknown[]) => void err.push(text(parts) + "\n");
console.warn = console.error;
console.debug = console.error;
const decoder = new TextDecoder();
const writeOut = Deno.stdout.writeSync.bind(Deno.stdout);
Object.assign(Deno.stdout, {
  writeSync: (bytes: Uint8Array) => (out.push(decoder.decode(bytes)), bytes.length),
  write: (bytes: Uint8Array) => Promise.resolve((out.push(decoder.decode(bytes)), bytes.length)),
});
Object.assign(Deno.stderr, {
  writeSync: (bytes: Uint8Array) => (err.push(decoder.decode(bytes)), bytes.length),
  write: (bytes: Uint8Array) => Promise.resolve((err.push(decoder.decode(bytes)), bytes.length)),
});
Deno.addSignalListener("SIGINT", () => {});

const show = (args: string[]) =>
  args.map((a) => JSON.stringify(a.length > 60 ? `${a.slice(0, 60)}…(${a.length})` : a)).join(" ");
const failures: { args: string; problem: string; stderr: string }[] = [];
const byCode: Record<string, number> = {};
const slowest: { ms: number; args: string }[] = [];
let cases = 0;

for (const [template, values] of SLOTS) {
  for (const [value, expected] of values) {
    const args = template.map((a) => a === "{}" ? value : a);
    err = [];
    out = [];
    cases++;
    const started = performance.now();
    let code: number | undefined;
    let problem: string | undefined;
    let hang: ReturnType<typeof setTimeout> | undefined;
    let again: ReturnType<typeof setInterval> | undefined;
    try {
      code = await new Promise<number>((resolve, reject) => {
        hang = setTimeout(() => {
          problem = `still running after ${HANG_MS} ms`;
          Deno.kill(Deno.pid, "SIGINT");
          again = setInterval(() => Deno.kill(Deno.pid, "SIGINT"), 500);
          hang = setTimeout(() => reject(new Error("did not stop on SIGINT")), 10_000);
        }, HANG_MS);
        main(args).then(resolve, reject);
      });
    } catch (error) {
      problem = `main() threw: ${(error as Error)?.stack ?? error}`;
    } finally {
      clearTimeout(hang);
      clearInterval(again);
    }
    const ms = Math.round(performance.now() - started);
    slowest.push({ ms, args: show(args) });
    slowest.sort((a, b) => b.ms - a.ms).splice(5);
    byCode[String(code)] = (byCode[String(code)] ?? 0) + 1;
    const lines = err.join("").split("\n").filter((l) => l !== "");
    if (problem === undefined) {
      // `test` reports a fixture it cannot read as invalid, on stdout, and exits 2.
      const reported = args[0] === "test" && code === 2 && lines.length === 0 &&
        /invalid/i.test(out.join(""));
      if (code !== expected) problem = `exit ${code}, expected ${expected}`;
      else if (reported) problem = undefined;
      else if (lines.filter((l) => l.startsWith("error: ")).length !== 1) {
        problem = `${lines.length} lines on stderr, expected one error line`;
      } else if (lines.some((l) => /^\s+at /.test(l))) problem = "a stack trace";
      else {
        const line = lines.find((l) => l.startsWith("error: "))!;
        if (line.length > 400) problem = `the error line is ${line.length} characters`;
        else if (/hunter2/.test(lines.join("\n") + out.join(""))) {
          problem = "the URL's password is shown";
        }
      }
    }
    if (problem) {
      failures.push({ args: show(args), problem, stderr: lines.join("\n").slice(0, 400) });
    }
    if (problem?.startsWith("main() threw: Error: did not stop")) break;
  }
}

await Promise.all(servers.map((s) => s.close()));
writeOut(new TextEncoder().encode(JSON.stringify({ cases, byCode, failures, slowest }) + "\n"));
Deno.exit(0);
