// deno-lint-ignore-file no-control-regex -- these tests are about control characters
import assert from "node:assert/strict";
import { consoleReporter, type ConsoleReporterOptions } from "./console_reporter.ts";
import { BROKEN, ECHO, feed, FILE_SEND, HTTP, runEvents, sink, UDP } from "./_test_utils.ts";
import { ignoreWithout } from "../../tests/_support/peer.ts";
import { commandOutput } from "../../tests/_support/command.ts";

const SGR = /\x1b\[[0-9;]*m/g; // colour and weight codes
const CLEAR = "\r\x1b[K";

async function render(options: ConsoleReporterOptions = {}): Promise<string> {
  const out = sink();
  await feed(consoleReporter({ color: false, ...options, write: out.write }), runEvents());
  return out.text();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** What a terminal shows after `text`: `\r` returns to column 0, ESC[K clears to the end. */
function screen(text: string): string[] {
  const lines: string[] = [];
  let line = "";
  let column = 0;
  for (let i = 0; i < text.length;) {
    if (text.startsWith("\x1b[K", i)) {
      line = line.slice(0, column);
      i += 3;
    } else if (text[i] === "\r") {
      column = 0;
      i++;
    } else if (text[i] === "\n") {
      lines.push(line);
      line = "";
      column = 0;
      i++;
    } else {
      line = line.slice(0, column) + text[i] + line.slice(column + 1);
      column++;
      i++;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** Runs `fn` with NO_COLOR set to `value` (or unset), then restores it. */
async function withNoColor<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = Deno.env.get("NO_COLOR");
  if (value === undefined) Deno.env.delete("NO_COLOR");
  else Deno.env.set("NO_COLOR", value);
  try {
    return await fn();
  } finally {
    if (saved === undefined) Deno.env.delete("NO_COLOR");
    else Deno.env.set("NO_COLOR", saved);
  }
}

Deno.test("consoleReporter() writes one line per fixture with status, name, file and duration", async () => {
  const lines = (await render()).split("\n");
  const expected: [string, { name: string; file: string }, string][] = [
    ["ok", ECHO, " 123 ms"],
    ["FAIL", HTTP, " 780 ms"],
    ["ERROR", UDP, " 2.0 s"],
    ["INVALID", BROKEN, ""], // nothing ran: no duration
  ];
  for (const [status, fixture, duration] of expected) {
    const line = new RegExp(
      `^${status} +${escapeRegExp(fixture.name)} \\(${escapeRegExp(fixture.file)}\\)${duration}$`,
    );
    assert.equal(lines.filter((l) => line.test(l)).length, 1, `one line for ${fixture.name}`);
  }
  assert.equal(lines.filter((l) => l.startsWith("skip ")).length, 1);
  assert.ok(lines.indexOf(lines.find((l) => l.startsWith("ok      tcp echo 64KiB"))!) > 0);
});

Deno.test("consoleReporter() shows each failing expectation: key, expected vs actual, file:line:column", async () => {
  const text = await render();
  assert.match(
    text,
    /^ {6}facts\.status: expected 200, actual 503\n {8}at tests\/fixtures\/http\.wire\.yaml:9:21$/m,
  );
  assert.match(
    text,
    /^ {6}facts\.server: expected matches \/\^caddy <&>\/, actual "nginx.*"\n {8}at tests\/fixtures\/http\.wire\.yaml:11:21$/m,
  );
  assert.doesNotMatch(text, /latency_ms/, "passing expectations are not listed");
  assert.match(text, /^ {2}FAIL +step "get \/" \(http-probe\), attempt 2 260 ms$/m);
  assert.doesNotMatch(text, /retrying/, "the retried attempt is only shown in verbose mode");
});

Deno.test("consoleReporter() shows step errors and invalid-fixture problems with their located messages", async () => {
  const text = await render();
  assert.match(text, /^ {2}ERROR step "ping" \(udp-ping\) 2\.0 s$/m);
  assert.match(
    text,
    /^ {6}Cannot run fixture "tests\/fixtures\/udp\.wire\.yaml:6:5": step "ping" timed out/m,
  );
  assert.match(text, /^ {6}TimeoutError: Cannot receive from 127\.0\.0\.1:40000/m);
  assert.match(
    text,
    /^ {2}Cannot run fixture "tests\/fixtures\/udp\.wire\.yaml:3:3": service "pong"/m,
  );
  assert.match(
    text,
    /^ {2}Cannot load fixture "tests\/fixtures\/broken\.wire\.yaml:4:13": unknown plugin "ecko"$/m,
  );
  assert.match(
    text,
    /^ {2}Cannot load fixture "tests\/fixtures\/broken\.wire\.yaml:7:20": .*malformed/m,
  );
});

Deno.test("consoleReporter() ends with a summary line of counts and run time", async () => {
  const lines = (await render()).trimEnd().split("\n");
  assert.equal(lines.at(-1), "2 passed, 1 failed, 1 error, 1 invalid, 1 skipped (3.2 s)");
  assert.equal(lines.at(-2), "", "a blank line before it");
});

Deno.test("consoleReporter() escapes control characters that come from fixture data", async () => {
  const text = await render();
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, "only line breaks, no raw controls");
  assert.match(
    text,
    /^skip +file send\\u0000\\u0007\\u001b\[2J\\nnext \(tests\/fixtures\/file\.wire\.yaml\)$/m,
  );
  assert.ok(FILE_SEND.name.includes("\x1b[2J"));
});

Deno.test("consoleReporter() colours statuses only when color is true", async () => {
  const plain = await render({ color: false });
  const colored = await render({ color: true });
  assert.doesNotMatch(plain, /\x1b/);
  assert.match(colored, /\x1b\[32mok/, "ok in green");
  assert.match(colored, /\x1b\[31m\x1b\[1mFAIL/, "FAIL in bold red");
  assert.equal(colored.replace(SGR, ""), plain, "same text underneath");
});

Deno.test("consoleReporter() writes no colour and no progress line to a sink that is not a terminal", async () => {
  const out = sink();
  await withNoColor(undefined, () => feed(consoleReporter({ write: out.write }), runEvents()));
  assert.doesNotMatch(out.text(), /[\x1b\r]/);
});

Deno.test("consoleReporter() respects NO_COLOR on a terminal: any non-empty value turns colours off", async () => {
  for (
    const [value, colored] of [[undefined, true], ["", true], ["1", false], [
      "false",
      false,
    ]] as const
  ) {
    const text = await withNoColor(value, () => render({ tty: true, color: undefined }));
    assert.equal(SGR.test(text), colored, `NO_COLOR=${JSON.stringify(value)}`);
    SGR.lastIndex = 0;
  }
});

Deno.test("consoleReporter() shows a progress line on a terminal and clears it before each line", async () => {
  const out = sink();
  const reporter = consoleReporter({ write: out.write, tty: true, color: false });
  const events = runEvents();
  for (const event of events.slice(0, 3)) await reporter.onEvent(event); // run-start, 2 fixture-start
  const during = screen(out.text());
  assert.match(
    during.at(-1)!,
    /^\[0\/6\] \d+ s {2}running: tcp echo round trip, http <probe>/,
    "the progress line is the last on screen",
  );
  assert.equal(during.length, 1, "and the only one: each redraw replaced the last");

  for (const event of events.slice(3)) await reporter.onEvent(event);
  await reporter.close?.();
  assert.ok(out.text().includes(CLEAR));
  const plain = await render();
  assert.deepEqual(screen(out.text()), screen(plain), "what stays on screen is the plain report");
});

Deno.test("consoleReporter() counts finished fixtures in the progress line", async () => {
  const out = sink();
  const reporter = consoleReporter({ write: out.write, tty: true, color: false });
  for (const event of runEvents().slice(0, 7)) await reporter.onEvent(event); // ECHO ended
  const shown = screen(out.text());
  await reporter.close?.();
  assert.match(shown[0], /^ok +tcp echo round trip/);
  assert.match(shown.at(-1)!, /^\[1\/6\] \d+ s {2}running: http <probe>/);
  assert.doesNotMatch(shown.at(-1)!, /tcp echo round trip/, "an ended fixture is not running");
});

Deno.test("consoleReporter() redraws the progress line while fixtures run, until close()", async () => {
  const out = sink();
  const reporter = consoleReporter({ write: out.write, tty: true, color: false });
  for (const event of runEvents().slice(0, 2)) await reporter.onEvent(event);
  const before = out.calls.length;
  const deadline = Date.now() + 10_000;
  while (out.calls.length === before && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await reporter.close?.();
  assert.ok(out.calls.length > before, "a redraw with no event in between");
  assert.match(out.calls[before], /^\r\x1b\[K\[0\/6\] \d+ s {2}running: tcp echo round trip$/);
  assert.equal(out.calls.at(-1), CLEAR, "close() clears the progress line");
});

Deno.test("consoleReporter() cuts the progress line to the terminal width", async () => {
  const out = sink();
  const reporter = consoleReporter({ write: out.write, tty: true, color: false });
  await reporter.onEvent(runEvents()[0]);
  for (let i = 0; i < 20; i++) {
    await reporter.onEvent({
      type: "fixture-start",
      fixture: { file: `f${i}.wire.yaml`, name: `a long fixture name number ${i}` },
    });
  }
  const last = screen(out.text()).at(-1)!;
  await reporter.close?.();
  assert.ok(last.endsWith("…"));
  assert.ok([...last].length < 200, "one terminal row wide (80 without a terminal to ask)");
});

Deno.test("consoleReporter() in verbose mode lists every step attempt, retried ones included", async () => {
  const text = await render({ verbose: true });
  assert.match(text, /^running 6 fixtures \(concurrency 2\)$/m);
  assert.match(text, /^ {2}ok +step "round trip" \(echo\) 101 ms$/m);
  assert.match(text, /^ {2}FAIL +step "get \/" \(http-probe\) 260 ms \(retrying\)$/m);
  assert.match(text, /^ {2}FAIL +step "get \/" \(http-probe\), attempt 2 260 ms$/m);
});

const SCRIPT = `
import { consoleReporter } from ${JSON.stringify(import.meta.resolve("./console_reporter.ts"))};
import { feed, runEvents } from ${JSON.stringify(import.meta.resolve("./_test_utils.ts"))};
await feed(consoleReporter(), runEvents());
`;

async function runDefault(terminal: boolean): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, SCRIPT);
    const deno = `'${Deno.execPath()}' run --no-lock --allow-env '${file}'`;
    // `script` runs the command on a new pseudo-terminal.
    const { code, stdout, stderr } = terminal
      ? await commandOutput("script", { args: ["-qec", deno, "/dev/null"] })
      : await commandOutput("sh", { args: ["-c", deno] });
    const text = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr) + text);
    return text.replace(/\r\n/g, "\n"); // the terminal's line discipline adds \r
  } finally {
    await Deno.remove(file);
  }
}

Deno.test({
  name: "consoleReporter() on a real terminal colours and draws progress, unless NO_COLOR",
  ignore: ignoreWithout("script"),
  async fn() {
    const colored = await withNoColor("", () => runDefault(true));
    assert.match(colored, SGR);
    SGR.lastIndex = 0;
    assert.ok(colored.includes(CLEAR), "progress line drawn and cleared");
    assert.match(colored.replace(SGR, ""), /^2 passed, 1 failed, 1 error, 1 invalid, 1 skipped/m);

    const noColor = await withNoColor("1", () => runDefault(true));
    assert.doesNotMatch(noColor, SGR);
    assert.ok(noColor.includes(CLEAR), "NO_COLOR keeps the progress line");
  },
});

Deno.test("consoleReporter() writes plain text to standard output when it is a pipe", async () => {
  const text = await withNoColor("", () => runDefault(false));
  assert.doesNotMatch(text, /[\x1b\r]/);
  assert.match(text, /^ok +tcp echo round trip \(tests\/fixtures\/echo\.wire\.yaml\) 123 ms$/m);
});
