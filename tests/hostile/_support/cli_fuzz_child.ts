// Runs the wiretest CLI's main() on seeded random argument lists, in this
// process (started by cli_fuzz_test.ts in a temporary working directory, so
// whatever a command writes stays there). Every target is a loopback server
// this process started, a refused loopback port, or text that fails before
// any lookup: nothing leaves the machine.
//
// Usage: deno run -A cli_fuzz_child.ts <seed> <cases> <scaffold dir>
// Prints one JSON line: the summary and up to 10 failures.
import { main } from "../../../lib/cli/main.ts";
import { flagSpecs } from "../../../lib/cli/_flags.ts";
import type { AnyPlugin } from "../../../lib/plugin/types.ts";
import echo, { startEchoServer } from "../../../plugins/echo/mod.ts";
import fileSend, { startFileReceiver } from "../../../plugins/file_send/mod.ts";
import httpProbe, { startHttpServer } from "../../../plugins/http_probe/mod.ts";
import udpPing, { startUdpPingServer } from "../../../plugins/udp_ping/mod.ts";
import { Random } from "./random.ts";

const [seedText, casesText] = Deno.args;
const random = new Random(Number(seedText));
const CASES = Number(casesText);
/** A command still running after this long is sent SIGINT, as a user would. */
const INTERRUPT_MS = 300;
/** A command still running this long after SIGINT hangs. */
const HANG_MS = 10_000;

const FIXTURES = new URL("../../fixtures/manifests/", import.meta.url).pathname;
// `new plugin` writes its folders here, outside the working directory, so
// that `test` (which runs every fixture below it) does not run them all.
const SCAFFOLDS = Deno.args[2];

await Deno.writeFile("payload.bin", crypto.getRandomValues(new Uint8Array(4096)));
await Deno.writeFile("empty.bin", new Uint8Array());
await Deno.mkdir("incoming");
const servers = await Promise.all([
  startEchoServer({}),
  startHttpServer({ body: "fuzz" }),
  startUdpPingServer({}),
  startFileReceiver({ dir: "incoming", overwrite: true }),
]);
const [echoPort, httpPort, udpPort, filePort] = servers.map((s) =>
  (s.address as Deno.NetAddr).port
);

const JUNK_CHARS = "abcXYZ019 -_.=,;!?*'\"\\%$#é🙂\t\u0000\u0007\n";
function junk(): string {
  if (random.chance(0.05)) return "x".repeat(1 + random.int(100_000));
  let text = "";
  for (let n = random.int(12); n > 0; n--) text += random.pick([...JUNK_CHARS]);
  return text;
}

const COMMANDS = [
  "serve",
  "echo",
  "probe",
  "ping",
  "send",
  "run",
  "plugins",
  "new",
  "help",
  "test",
  "schema",
  "-h",
  "--help",
  "-V",
  "--version",
  "--debug",
  "--json",
  "",
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "ECHO",
  "echo ",
];
const PLUGINS = [
  "echo",
  "http-probe",
  "udp-ping",
  "file-send",
  "greet",
  "missing-module",
  "no-plugin",
  "nope",
  "",
  "constructor",
  "__proto__",
  "../echo",
  "plugin",
];
const TARGETS = [
  `127.0.0.1:${echoPort}`,
  `localhost:${echoPort}`,
  `127.0.0.1:${udpPort}`,
  `127.0.0.1:${filePort}`,
  `127.0.0.1:${httpPort}`,
  `[::1]:${echoPort}`,
  "127.0.0.1:1",
  "127.0.0.1:0",
  "127.0.0.1:65536",
  "127.0.0.1:-1",
  "127.0.0.1",
  ":1",
  "[::1",
  "unix:missing.sock",
  "unix:",
  "",
];
const URLS = [
  `http://127.0.0.1:${httpPort}/`,
  `http://localhost:${httpPort}/a?b=c`,
  `https://127.0.0.1:${httpPort}/`,
  `http://127.0.0.1:${echoPort}/`,
  "http://127.0.0.1:1/",
  "http://[::1]:1/",
  "http://127.0.0.1:99999/",
  "ftp://127.0.0.1/",
  "http://",
  "http://[::1",
  "notaurl",
  "",
];
const PATHS = ["payload.bin", "empty.bin", "missing.bin", ".", "incoming", "/etc/hostname", ""];
const DIRS = ["incoming", "new-dir", ".", "", "missing/deeper", "payload.bin"];
const MANIFESTS = [
  "missing.json",
  "payload.bin",
  `${FIXTURES}good/manifest.json`,
  `${FIXTURES}broken/manifest.json`,
  `${FIXTURES}duplicate/manifest.json`,
  `${FIXTURES}invalid/bad_json.txt`,
  `${FIXTURES}invalid/bad_scheme.json`,
  "http://127.0.0.1:1/manifest.json",
  `http://127.0.0.1:${httpPort}/manifest.json`,
];
const NUMBERS = [
  "0",
  "1",
  "2",
  "3",
  "10",
  "-1",
  "1.5",
  "1e3",
  "1e309",
  "NaN",
  "Infinity",
  "-Infinity",
  "0x10",
  "1_000",
  "9007199254740993",
  " 5 ",
  "",
  "abc",
];
const HOSTS = ["127.0.0.1", "localhost", "::1", ""];
const PORTS = ["0", "-1", "65536", "99999", "1.5", "abc", ""];
const BOOLEANS = ["true", "false", "yes", "0", "1", ""];

const specs = [echo, httpProbe, udpPing, fileSend].flatMap((plugin: AnyPlugin) => [
  ...(plugin.client ? flagSpecs(plugin.client.params) : []),
  ...(plugin.server ? flagSpecs(plugin.server.params) : []),
]);
const FLAGS = [
  ...new Set([
    ...specs.flatMap((s) => s.kind === "boolean" ? [s.flag, `no-${s.flag}`] : [s.flag]),
    "json",
    "debug",
    "help",
    "plugins",
    "no-isolation",
    "dir",
    "roles",
    "wiretest",
  ]),
];

function valueFor(flag: string): string {
  if (flag === "port") return random.pick(PORTS);
  if (flag === "host") return random.pick(HOSTS);
  if (flag === "dir" || flag === "wiretest") return random.pick(DIRS);
  if (flag === "plugins") return random.pick(MANIFESTS);
  if (flag === "url") return random.pick(URLS);
  if (flag === "target") return random.pick(TARGETS);
  if (/file|cert|key|path/.test(flag)) return random.pick(PATHS);
  return anyValue();
}

function anyValue(): string {
  switch (random.int(7)) {
    case 0:
    case 1:
      return random.pick(NUMBERS);
    case 2:
      return random.pick(TARGETS);
    case 3:
      return random.pick(URLS);
    case 4:
      return random.pick(BOOLEANS);
    case 5:
      return random.pick(PATHS);
    default:
      return junk();
  }
}

function token(): string[] {
  const r = random.next();
  if (r < 0.5) {
    const flag = random.chance(0.9) ? random.pick(FLAGS) : junk();
    const dashes = random.pick(["--", "--", "--", "-", "---"]);
    if (random.chance(0.2)) return [`${dashes}${flag}=${valueFor(flag)}`];
    return random.chance(0.8) ? [`${dashes}${flag}`, valueFor(flag)] : [`${dashes}${flag}`];
  }
  if (r < 0.6) return [random.pick(["--", "-", "-h", "--json", "--debug", "-V"])];
  return [anyValue()];
}

function generate(): string[] {
  const command = random.chance(0.05) ? junk() : random.pick(COMMANDS);
  const args = [command];
  if (command === "serve" || command === "run") args.push(random.pick(PLUGINS));
  if (command === "new") args.push(random.pick(["plugin", "plugin", "fixture", ""]));
  if (command === "new" && random.chance(0.7)) {
    args.push(random.pick(["my-plugin", "echo", "Bad Name", "a--b", "../escape", ""]));
  }
  if (command === "echo" || command === "ping") args.push(random.pick(TARGETS));
  if (command === "probe") args.push(random.pick(URLS));
  if (command === "send") args.push(random.pick(PATHS), random.pick(TARGETS));
  for (let n = random.int(7); n > 0; n--) args.push(...token());
  // A Worker per isolated run costs ~100 ms: most runs stay in this process
  // (the argument handling under test is the same either way).
  if (["echo", "probe", "ping", "send", "run"].includes(command) && random.chance(0.8)) {
    args.splice(1 + random.int(args.length), 0, "--no-isolation");
  }
  // The last --dir wins: scaffolds go where `test` does not look.
  if (command === "new") args.push("--dir", `${SCAFFOLDS}/${random.int(1000)}`);
  // Prototype-pollution keys and odd spacing also as any argument.
  if (random.chance(0.05)) args.splice(random.int(args.length + 1), 0, random.pick(COMMANDS));
  return args;
}

// Output capture: main() prints with console.*; each case's text is checked.
let out: string[] = [];
let err: string[] = [];
const text = (parts: unknown[]) =>
  parts.map((p) => typeof p === "string" ? p : Deno.inspect(p)).join(" ");
console.log = (...parts: unknown[]) => void out.push(text(parts));
console.info = console.log;
console.error = (...parts: unknown[]) => void err.push(text(parts));
console.warn = console.error;
console.debug = console.error;
// Reporters and `schema` write to Deno.stdout themselves.
const decoder = new TextDecoder();
const writeOut = Deno.stdout.writeSync.bind(Deno.stdout);
const capture = (sink: () => string[]) => ({
  writeSync: (bytes: Uint8Array) => (sink().push(decoder.decode(bytes)), bytes.length),
  write: (bytes: Uint8Array) => Promise.resolve((sink().push(decoder.decode(bytes)), bytes.length)),
});
Object.assign(Deno.stdout, capture(() => out));
Object.assign(Deno.stderr, capture(() => err));

// SIGINT for a long run must reach the command, never end this process.
Deno.addSignalListener("SIGINT", () => {});

const LOG_LINE = /^(error|warn|info|debug): /;

/** With --json, a failed exchange is told in the outcome printed on stdout. */
function jsonError(stdout: string): boolean {
  try {
    const outcome = JSON.parse(stdout);
    return outcome.ok === false && typeof outcome.error?.message === "string";
  } catch {
    return false;
  }
}
const failures: { case: number; args: string[]; problem: string; stderr: string }[] = [];
const byCode: Record<string, number> = {};
// No prototype: "constructor" and "__proto__" are commands here like any other.
const msByCommand: Record<string, number> = Object.create(null);
const NOT_COMMANDS = [
  "",
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "ECHO",
  "echo ",
];
let interrupted = 0;
const slowest: { ms: number; args: string[]; code?: number }[] = [];
const started = performance.now();

for (let i = 0; i < CASES; i++) {
  const args = generate();
  out = [];
  err = [];
  Deno.writeTextFileSync("current.json", JSON.stringify({ case: i, args }));
  const t0 = performance.now();
  let interrupt: ReturnType<typeof setTimeout> | undefined;
  let hang: ReturnType<typeof setTimeout> | undefined;
  let problem: string | undefined;
  let code: number | undefined;
  try {
    code = await new Promise<number>((resolve, reject) => {
      interrupt = setTimeout(() => {
        interrupted++;
        // Again every half second, as a user would press Ctrl-C again: a
        // command still starting up has not listened for it yet.
        Deno.kill(Deno.pid, "SIGINT");
        const again = setInterval(() => Deno.kill(Deno.pid, "SIGINT"), 500);
        hang = setTimeout(() => {
          clearInterval(again);
          reject(new Error(`still running ${HANG_MS} ms after SIGINT`));
        }, HANG_MS);
        interrupt = again;
      }, INTERRUPT_MS);
      main(args).then(resolve, reject);
    });
  } catch (error) {
    problem = `main() threw: ${(error as Error)?.stack ?? error}`;
  } finally {
    clearTimeout(interrupt);
    clearInterval(interrupt);
    clearTimeout(hang);
  }
  const ms = performance.now() - t0;
  slowest.push({ ms: Math.round(ms), args: args.map((a) => a.slice(0, 80)), code });
  slowest.sort((a, b) => b.ms - a.ms).splice(5);
  byCode[String(code)] = (byCode[String(code)] ?? 0) + 1;
  const known = COMMANDS.includes(args[0]) ? args[0] : "(other)";
  msByCommand[known] = Math.round((msByCommand[known] ?? 0) + ms);
  const lines = err.join("\n").split("\n").filter((l) => l !== "");
  const debug = args.includes("--debug");
  if (problem === undefined) {
    if (code !== 0 && code !== 1 && code !== 2) problem = `exit code ${code}`;
    else if (NOT_COMMANDS.includes(args[0]) && code !== 2) {
      problem = `the unknown command ${JSON.stringify(args[0])} exited ${code}, not 2`;
    } else if (!debug && lines.some((l) => !LOG_LINE.test(l))) {
      problem =
        "stderr has a line that is not a log or error line (a stack trace or a broken line)";
    } else if (
      code !== 0 && lines.filter((l) => l.startsWith("error: ")).length !== 1 &&
      // With --json the outcome on stdout carries the error: the exchange's
      // (exit 1) or a file named in params that cannot be read (exit 2).
      !((code === 1 || code === 2) && args.includes("--json") && jsonError(out.join("\n"))) &&
      // Failed fixtures are told by the test reporter, not as an error, and
      // so are invalid ones (exit 2, each listed with its problems).
      !(code === 1 && args[0] === "test" && out.length > 0) &&
      !(code === 2 && args[0] === "test" && / \d+ invalid \(/.test(out.join("\n")))
    ) {
      problem = `exit ${code} with ${
        lines.filter((l) => l.startsWith("error: ")).length
      } error lines`;
    } else if (code === 0 && lines.some((l) => l.startsWith("error: "))) {
      problem = "exit 0 with an error line";
    }
  }
  if (problem && failures.length < 10) {
    failures.push({
      case: i,
      args: args.map((a) => a.slice(0, 200)),
      problem,
      stderr: lines.join("\n").slice(0, 500),
    });
  }
  if (problem?.startsWith("main() threw: still running")) break;
}

await Promise.all(servers.map((s) => s.close()));
const summary = {
  seed: Number(seedText),
  cases: CASES,
  byCode,
  interrupted,
  slowestMs: slowest[0]?.ms ?? 0,
  slowest,
  msByCommand,
  seconds: Math.round((performance.now() - started) / 100) / 10,
  failures,
};
writeOut(new TextEncoder().encode(JSON.stringify(summary) + "\n"));
Deno.exit(0);
