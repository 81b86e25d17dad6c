// Malformed targets through the library, as code calls the plugins
// (runEchoClient, runUdpPingClient, runFileSender, runHttpProbe): a
// ParamsError (a TypeError) naming the field, quoting the target and saying
// why, before anything is sent. IPv6 zone ids are refused: nothing here
// reaches beyond loopback.
import assert from "node:assert/strict";
import { ParamsError, validateParams } from "../lib/plugin/mod.ts";
import { runEchoClient } from "../plugins/echo/mod.ts";
import { runUdpPingClient } from "../plugins/udp_ping/mod.ts";
import { runFileSender } from "../plugins/file_send/mod.ts";
import { httpProbeClientParams, runHttpProbe } from "../plugins/http_probe/mod.ts";

async function refused(run: () => Promise<unknown>, field: string, expected: RegExp) {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof ParamsError, String(error));
    assert.ok(error instanceof TypeError);
    assert.equal(error.issues.length, 1, error.message);
    assert.equal(error.issues[0].path.join("."), field);
    assert.match(error.issues[0].message, expected);
    return true;
  });
}

const ZONE = (zone: string) =>
  `has an IPv6 zone id ("${zone}"), which wiretest does not support (give a global or loopback address)`;

Deno.test("runEchoClient(), runUdpPingClient() and runFileSender() refuse a zone id with a ParamsError", async () => {
  const quoted = /^Cannot parse address: "\[fe80::1%lo\]:7" has an IPv6 zone id \("%lo"\)/;
  await refused(() => runEchoClient({ target: "[fe80::1%lo]:7" }), "target", quoted);
  // Was an untyped "Invalid URL" in the outcome.
  await refused(() => runUdpPingClient({ target: "[fe80::1%lo]:7", count: 1 }), "target", quoted);
  await refused(
    () => runFileSender({ target: "[fe80::1%lo]:7", file: "/etc/hostname" }),
    "target",
    quoted,
  );
  await refused(
    () => runUdpPingClient({ target: "1.2.3.999:7", count: 1 }),
    "target",
    /^Cannot use host "1\.2\.3\.999": it is not an IPv4 address/,
  );
});

Deno.test("runHttpProbe() says why a url cannot be requested, quoting it", async () => {
  const cases: [string, string][] = [
    [
      "http://[fe80::1%25lo]:7/",
      `Cannot use host "fe80::1%25lo": it ${ZONE("%25lo")}`,
    ],
    ["http://[fe80::1%lo]/", `Cannot use host "fe80::1%lo": it ${ZONE("%lo")}`],
    ["http://[::1", 'Cannot parse URL "http://[::1": its "[" is not closed'],
    [
      "http://[::1]:65536/",
      'Cannot parse URL "http://[::1]:65536/": its port "65536" is out of range 1-65535',
    ],
    ["http://127.0.0.1:x/", 'Cannot parse URL "http://127.0.0.1:x/": its port "x" is not a number'],
    ["http://u:p@:7/", 'Cannot parse URL "http://u:p@:7/": it has no host'],
    ["", 'Cannot parse URL "": it is empty'],
    [
      "ftp://127.0.0.1/",
      'Cannot parse URL "ftp://127.0.0.1/": it is not an http:// or https:// URL',
    ],
    ["http:127.0.0.1", 'Cannot parse URL "http:127.0.0.1": it has no "//" before the host'],
    [
      "http://127.0.0.1 x/",
      'Cannot use host "127.0.0.1 x": it is not an IP address or a host name (letters, digits, "-", "_" and dots)',
    ],
    // Parsed by the URL parser with the tab dropped: refused instead.
    [
      "http://127.0.0.1\t:7/",
      'Cannot parse URL "http://127.0.0.1\\t:7/": it contains a control character',
    ],
    [
      "http://127.0.0.1/\u009b",
      'Cannot parse URL "http://127.0.0.1/\\u009b": it contains a control character',
    ],
  ];
  for (const [url, message] of cases) {
    await refused(() => runHttpProbe({ url }), "url", new RegExp(`^${RegExp.escape(message)}$`));
  }
});

// The URL standard reads a host ending in a number as an IPv4 address in
// any of its old forms ("127.1", "2130706433", "0177.0.0.1", "0x7f.1"): the
// probe would connect to an address the user never wrote. Refused, as the
// same host is in echo/ping targets (checkHost), naming what it would be.
// Each of these is loopback, so the test sends nothing elsewhere even when
// the check is missing.
Deno.test("runHttpProbe() refuses a url whose host the URL standard rewrites to another IPv4 address", async () => {
  const cases: [string, string][] = [
    ["http://127.1:1/", "127.1"],
    ["http://2130706433:1/", "2130706433"],
    ["http://0177.0.0.1:1/", "0177.0.0.1"],
    ["http://0x7f.1:1/", "0x7f.1"],
    ["http://127.0.0.01:1/", "127.0.0.01"],
  ];
  for (const [url, host] of cases) {
    await refused(
      () => runHttpProbe({ url }),
      "url",
      new RegExp(
        `^Cannot use host ${
          RegExp.escape(JSON.stringify(host))
        }: the URL standard reads it as IPv4 address 127\\.0\\.0\\.1 \\(write that\\)$`,
      ),
    );
  }
});

Deno.test("http-probe's params refuse numeric hosts the URL standard would send elsewhere, and take the written forms it keeps", () => {
  // Validation only: nothing is sent, whatever the check says.
  for (const [url, address] of [["http://12345/", "0.0.48.57"], ["http://10.1/", "10.0.0.1"]]) {
    assert.throws(() => validateParams(httpProbeClientParams, { url }), (error: unknown) => {
      assert.ok(error instanceof ParamsError, String(error));
      assert.deepEqual(error.issues.map((issue) => issue.message), [
        `Cannot use host "${
          url.slice(7, -1)
        }": the URL standard reads it as IPv4 address ${address} (write that)`,
      ]);
      return true;
    });
  }
  for (
    const url of [
      "http://127.0.0.1/",
      "http://127.0.0.1./",
      "HTTP://127.0.0.1:8080/",
      "http://user:pw@127.0.0.1:80/x?y#z",
      "http://[::ffff:127.0.0.1]/",
      "http://[::1]:080/",
      "http://localhost./",
      "http://srv1/",
      "http://host-01.internal:8080/",
      "http://xn--bcher-kva.example/",
      "http://LocalHost/",
      // Percent-encoded, it is still the address written.
      "http://%31%32%37.0.0.1/",
    ]
  ) {
    validateParams(httpProbeClientParams, { url });
  }
});
