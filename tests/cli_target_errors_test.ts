// Malformed targets given to the CLI's client commands: each ends with one
// line on stderr that quotes the target and says what is wrong with it, exit
// 2, and no control character of it reaches the terminal raw. IPv6 zone ids
// (`[fe80::1%lo]:7`) are refused before anything is sent: these tests never
// reach beyond loopback, whatever the code does.
import assert from "node:assert/strict";
import { deno, errorLines, MAIN } from "./_support/deno_process.ts";

const ZONE = /has an IPv6 zone id \("%(?:25)?lo"\), which wiretest does not support/;

async function usageError(args: string[], expected: RegExp): Promise<string> {
  const ran = await deno(["run", "-A", MAIN, ...args], { timeoutMs: 60_000 });
  const lines = errorLines(ran.stderr);
  assert.equal(ran.code, 2, `${JSON.stringify(args)}: exit ${ran.code}\n${ran.stderr}`);
  assert.equal(lines.length, 1, ran.stderr);
  assert.match(lines[0], expected);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(ran.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, ran.stderr);
  return lines[0];
}

// Four processes at a time: each case is a CLI start and a plugin process.
async function each(cases: [string[], RegExp][]): Promise<void> {
  for (let i = 0; i < cases.length; i += 4) {
    await Promise.all(cases.slice(i, i + 4).map(([args, expected]) => usageError(args, expected)));
  }
}

Deno.test("wiretest echo/ping/send/probe [fe80::1%lo]: the zone id is refused by name, exit 2", async () => {
  await each([
    [["echo", "[fe80::1%lo]:7"], /"\[fe80::1%lo\]:7" has an IPv6 zone id \("%lo"\)/],
    [["ping", "[fe80::1%lo]:7", "--count", "1"], /"\[fe80::1%lo\]:7" has an IPv6 zone id/],
    [["ping", "[fe80::1%25lo]:7", "--count", "1"], ZONE],
    [["send", "/etc/hostname", "[fe80::1%lo]:7"], ZONE],
    [["probe", "http://[fe80::1%25lo]/"], /host "fe80::1%25lo": it has an IPv6 zone id/],
    [["probe", "http://[fe80::1%lo]:7/"], /host "fe80::1%lo": it has an IPv6 zone id/],
    [["serve", "echo", "--host", "fe80::1%lo"], /host "fe80::1%lo": it has an IPv6 zone id/],
  ]);
});

Deno.test("wiretest echo/ping/probe with a malformed target: one line quoting it and why, exit 2", async () => {
  await each([
    [["echo", "[::1"], /"\[::1" is not host:port \(its "\[" is not closed\)/],
    [["echo", "127.0.0.1:65536"], /port 65536 in "127\.0\.0\.1:65536" is out of range/],
    [["echo", "127.0.0.1:abc"], /"127\.0\.0\.1:abc" is not host:port/],
    [["echo", "user@127.0.0.1:7"], /host "user@127\.0\.0\.1".*user info/],
    [["echo", "127.0.0.1 :7"], /host "127\.0\.0\.1 ": it is not an IP address or a host name/],
    // Read as an IPv4 address by resolvers and URL parsers: never looked up.
    [["ping", "1.2.3.999:7", "--count", "1"], /host "1\.2\.3\.999": it is not an IPv4 address/],
    [["probe", "http://[::1"], /Cannot parse URL "http:\/\/\[::1": its "\[" is not closed/],
    [["probe", "http://127.0.0.1:65536/"], /its port "65536" is out of range 1-65535/],
    [["probe", "http://127.0.0.1:abc/"], /its port "abc" is not a number/],
    [["probe", "http://:7/"], /Cannot parse URL "http:\/\/:7\/": it has no host/],
    [
      ["probe", "127.0.0.1:7"],
      /Cannot parse URL "127\.0\.0\.1:7": it is not an http:\/\/ or https/,
    ],
    [["probe", "http://1.2.3.999/"], /host "1\.2\.3\.999": it is not an IPv4 address/],
  ]);
});

Deno.test("wiretest echo/probe with control characters in the target: escaped, never raw, exit 2", async () => {
  await each([
    [["echo", "127.0.0.1\u001b[31m:7"], /"127\.0\.0\.1\\u001b\[31m:7" is not host:port/],
    [["ping", "127.0.0.1\u009b31m:7"], /host "127\.0\.0\.1\\u009b31m": it is not an IP address/],
    // The URL parser drops a tab without a word: "http://127.0.0.1:7/" would be requested.
    [["probe", "http://127.0.0.1\t:7/"], /"http:\/\/127\.0\.0\.1\\t:7\/": it contains a control/],
    [["probe", "http://127.0.0.1\u001b[31m:7/"], /\\u001b\[31m:7\/": it contains a control/],
  ]);
});
