// How wiretest's exporter reads a scrape's request next to Debian's
// blackbox_exporter: a header or a query param given twice, a malformed
// header. Requests are written byte by byte on a raw socket: fetch would
// join a repeated header into one line.
import assert from "node:assert/strict";
import { freePort, ignoreWithout } from "../_support/peer.ts";
import { get, samples, testExporter } from "./_exporter.ts";
import { startBlackbox } from "./_peers.ts";

/** Sends one HTTP/1.1 GET with `headers` (in order, repeats kept): status and body (bounded: 20 s). */
async function rawGet(
  base: string,
  path: string,
  headers: readonly (readonly [string, string])[] = [],
): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const timer = setTimeout(() => conn.close(), 20_000);
  try {
    const head = [
      `GET ${path} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      "Connection: close",
      ...headers.map(([name, value]) => `${name}: ${value}`),
    ].join("\r\n");
    await conn.write(new TextEncoder().encode(`${head}\r\n\r\n`));
    const answer = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
    if (!status) throw new SyntaxError(`Cannot read the answer: "${answer.slice(0, 200)}"`);
    let body = answer.slice(answer.indexOf("\r\n\r\n") + 4);
    // Deno's server answers chunked; blackbox with a length.
    if (
      /\r\ntransfer-encoding: chunked(\r\n|$)/i.test(answer.slice(0, answer.indexOf("\r\n\r\n")))
    ) {
      let text = "";
      for (;;) {
        const end = body.indexOf("\r\n");
        const size = parseInt(body.slice(0, end), 16);
        if (!(size > 0)) break;
        text += body.slice(end + 2, end + 2 + size);
        body = body.slice(end + 4 + size);
      }
      body = text;
    }
    return { status: Number(status[1]), text: body };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the read's end */ }
  }
}

// The probe timeout each exporter took: blackbox logs it with debug=true,
// wiretest has probe_timeout_seconds.
async function timeouts(
  blackbox: string,
  wiretest: string,
  target: string,
  headers: readonly (readonly [string, string])[],
) {
  const path = `/probe?module=http_2xx&target=${encodeURIComponent(target)}`;
  const b = await rawGet(blackbox, `${path}&debug=true`, headers);
  const w = await rawGet(wiretest, path, headers);
  const logged = /msg="Beginning probe" .*timeout_seconds=([\d.]+)/.exec(b.text);
  return {
    blackbox: { status: b.status, timeout: logged ? Number(logged[1]) : undefined, text: b.text },
    wiretest: {
      status: w.status,
      timeout: w.status === 200 ? samples(w.text).get("probe_timeout_seconds") : undefined,
      text: w.text,
    },
  };
}

const BLACKBOX = `modules:
  http_2xx:
    prober: http
    timeout: 5s
    http: { preferred_ip_protocol: ip4 }
`;
const WIRETEST = `modules:
  http_2xx:
    plugin: http-probe
    timeout: 5s
`;
const TIMEOUT = "X-Prometheus-Scrape-Timeout-Seconds";

Deno.test({
  name:
    "exporter side by side with blackbox_exporter: a scrape timeout header given twice counts its first value",
  ignore: ignoreWithout("prometheus-blackbox-exporter"),
}, async () => {
  await using blackbox = await startBlackbox(BLACKBOX);
  await using wiretest = await testExporter(WIRETEST);
  const target = `http://127.0.0.1:${freePort()}/`;
  // 3 s minus the 0.5 s offset is shorter than the module's 5 s; 10 s is not.
  for (
    const [values, expected] of [
      [["3", "10"], 2.5],
      [["10", "3"], 5],
      [["3", "soon"], 2.5],
      [["3", "3"], 2.5],
      // Go's ParseFloat takes infinity: the module's timeout is shorter.
      [["Inf"], 5],
      // And Go's float literals: underscores between digits, hex floats.
      [["1_000"], 5],
      [["0_3"], 2.5],
      [["0x1p2"], 3.5],
      [["0x1.8p1"], 2.5],
      [["0X1P-1"], 0],
    ] as const
  ) {
    const answer = await timeouts(
      blackbox.base,
      wiretest.base,
      target,
      values.map((v) => [TIMEOUT, v]),
    );
    assert.equal(answer.blackbox.status, 200, `blackbox, ${values}: ${answer.blackbox.text}`);
    assert.equal(answer.blackbox.timeout, expected, `blackbox, ${values}`);
    assert.equal(answer.wiretest.status, 200, `wiretest, ${values}: ${answer.wiretest.text}`);
    assert.equal(answer.wiretest.timeout, expected, `wiretest, ${values}`);
  }
});

Deno.test({
  name:
    "exporter side by side with blackbox_exporter: a malformed first scrape timeout value is refused, with 400 where blackbox answers 500",
  ignore: ignoreWithout("prometheus-blackbox-exporter"),
}, async () => {
  await using blackbox = await startBlackbox(BLACKBOX);
  await using wiretest = await testExporter(WIRETEST);
  const target = `http://127.0.0.1:${freePort()}/`;
  for (
    const values of [
      ["soon"],
      ["soon", "3"],
      ["1e400"],
      ["0x10"],
      ["1__0"],
      ["1_.5"],
      ["0x1p2000"],
      // One header line: one value to Go's Header.Get, not 3 then 5.
      ["3,5"],
    ]
  ) {
    const answer = await timeouts(
      blackbox.base,
      wiretest.base,
      target,
      values.map((v) => [TIMEOUT, v]),
    );
    assert.equal(answer.blackbox.status, 500, `blackbox, ${values}: ${answer.blackbox.text}`);
    // The scraper's mistake, not the exporter's: README, "Monitoring".
    assert.equal(answer.wiretest.status, 400, `wiretest, ${values}: ${answer.wiretest.text}`);
    assert.equal(
      answer.wiretest.text,
      `Failed to parse timeout from Prometheus header: strconv.ParseFloat: parsing ${
        JSON.stringify(values[0])
      }: ${/^(1e400|0x1p2000)$/.test(values[0]) ? "value out of range" : "invalid syntax"}\n`,
    );
    assert.ok(
      answer.blackbox.text.startsWith(answer.wiretest.text.trimEnd()),
      answer.blackbox.text,
    );
  }
  const own = samples(await (await fetch(`${wiretest.base}/metrics`)).text());
  assert.equal(own.get('wiretest_exporter_bad_requests_total{reason="malformed_timeout"}'), 8);
  // NaN is a float to Go: blackbox probes with its deadline already past
  // (probe_success 0); no scraper means it, and wiretest says so.
  const nan = await timeouts(blackbox.base, wiretest.base, target, [[TIMEOUT, "NaN"]]);
  assert.equal(nan.blackbox.status, 200, nan.blackbox.text);
  assert.match(nan.blackbox.text, /timeout_seconds=NaN/);
  assert.equal(nan.wiretest.status, 400);
  assert.equal(
    nan.wiretest.text,
    'Failed to parse timeout from Prometheus header: "NaN" is not a number of seconds (blackbox_exporter takes it as NaN and fails the probe at once)\n',
  );
});

Deno.test({
  name:
    "exporter side by side with blackbox_exporter: a repeated module, target or debug param counts its first value",
  ignore: ignoreWithout("prometheus-blackbox-exporter"),
}, async () => {
  await using blackbox = await startBlackbox(BLACKBOX);
  await using wiretest = await testExporter(WIRETEST);
  const target = encodeURIComponent(`http://127.0.0.1:${freePort()}/`);
  const cases = [
    `module=http_2xx&module=nope&target=${target}`,
    `module=nope&module=http_2xx&target=${target}`,
    `module=&module=nope&target=${target}`,
    `target=&target=${target}`,
    `target=${target}&target=`,
    `target=${target}&debug=true&debug=false`,
    `target=${target}&debug=false&debug=true`,
  ];
  for (const query of cases) {
    const b = await rawGet(blackbox.base, `/probe?${query}`);
    const w = await rawGet(wiretest.base, `/probe?${query}`);
    assert.equal(w.status, b.status, `${query}: ${w.text} / ${b.text}`);
    const kind = (text: string) =>
      text.startsWith("Logs for the probe:")
        ? "debug"
        : /^probe_success 0$/m.test(text)
        ? "metrics"
        : text.trim();
    assert.equal(kind(w.text), kind(b.text), query);
  }
});

Deno.test({
  name:
    "exporter side by side with blackbox_exporter: an unknown module's name is quoted back as Go's %q quotes it",
  ignore: ignoreWithout("prometheus-blackbox-exporter"),
}, async () => {
  await using blackbox = await startBlackbox(BLACKBOX);
  await using wiretest = await testExporter(WIRETEST);
  // An escape sequence that recolours a terminal, a bidi override, a
  // no-break space, a quote, a backslash, a line break.
  const module = encodeURIComponent('\x1b[31m\u202eab\u00a0c"\\\n');
  const b = await rawGet(blackbox.base, `/probe?module=${module}&target=x`);
  const w = await rawGet(wiretest.base, `/probe?module=${module}&target=x`);
  assert.equal(b.status, 400);
  assert.equal(w.status, 400);
  assert.equal(w.text, b.text);
  assert.equal(w.text, 'Unknown module "\\x1b[31m\\u202eab\\u00a0c\\"\\\\\\n"\n');
});

Deno.test("exporter: a target its module does not allow is refused with the module's patterns, bounded and escaped", async () => {
  const patterns = [
    "http://127\\.0\\.0\\.1:[0-9]+/.*",
    // From the config, with a terminal escape and a bidi override in it.
    "https://a\x1b\\[2J\u202e\\.internal/.*",
    `https://${"x".repeat(500)}/`,
    ...Array.from({ length: 10 }, (_, i) => `http://host${i}/`),
  ];
  // JSON strings are YAML's double-quoted ones: the escape reaches the config.
  await using ex = await testExporter(`modules:
  local:
    plugin: http-probe
    targets: ${JSON.stringify(patterns)}
  echo:
    plugin: echo
`);
  // Sets a terminal's title, then rings its bell.
  const head = "http://10.0.0.1/\x1b]0;title\x07";
  const target = `${head}${"y".repeat(300)}`;
  const answer = await get(`${ex.base}/probe?module=local&target=${encodeURIComponent(target)}`);
  assert.equal(answer.status, 400);
  assert.equal(
    answer.text,
    `Target "http://10.0.0.1/\\x1b]0;title\\a${"y".repeat(200 - head.length)}…" (${
      head.length + 300
    } characters) ` +
      'is not allowed by module "local": a target must match one of its patterns ' +
      '"http://127\\\\.0\\\\.0\\\\.1:[0-9]+/.*", ' +
      '"https://a\\x1b\\\\[2J\\u202e\\\\.internal/.*", ' +
      `"https://${"x".repeat(120 - 8)}…" (509 characters), ` +
      Array.from({ length: 7 }, (_, i) => `"http://host${i}/"`).join(", ") +
      " and 3 more\n",
  );
  // Nothing unprintable reaches whoever reads it.
  assert.doesNotMatch(answer.text.trimEnd(), /[\p{Cc}\p{Cf}]/u);
  // A target that matches is probed.
  const allowed = await get(`${ex.base}/probe?module=local&target=http://host9/`);
  assert.equal(allowed.status, 200);
  // The plugin's own words on a malformed target are made printable too.
  const malformed = await get(
    `${ex.base}/probe?module=echo&target=${encodeURIComponent("a\x1b[2J\u202eb")}`,
  );
  assert.equal(malformed.status, 400);
  assert.match(malformed.text, /^Cannot probe target "a\\x1b\[2J\\u202eb" with module "echo": /);
  assert.doesNotMatch(malformed.text.trimEnd(), /[\p{Cc}\p{Cf}]/u);
});
