// `wiretest exporter` as a subprocess: it listens, reloads on SIGHUP, stops
// on SIGTERM, and refuses bad configs and flags with exit 2.
import assert from "node:assert/strict";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { inProcessExecutor } from "../../lib/executor/in_process_executor.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import { deno, MAIN } from "../_support/deno_process.ts";
import { freePort } from "../_support/peer.ts";
import { get, samples } from "./_exporter.ts";

Deno.test("wiretest exporter: listens on loopback, reloads on SIGHUP, stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_cli_" });
  const config = `${dir}/exporter.yaml`;
  await Deno.writeTextFile(config, "modules:\n  echo:\n    plugin: echo\n");
  const service = await (await inProcessExecutor(builtinRegistry()).prepare("echo", "server", {}))
    .serve();
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "exporter", "--config", config, "--listen", `127.0.0.1:${port}`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const output = child.output();
  try {
    const base = `http://127.0.0.1:${port}`;
    const target = formatAddress(service.address);
    await eventually(async () => (await get(`${base}/-/healthy`)).status === 200);
    const first = samples((await get(`${base}/probe?module=echo&target=${target}`)).text);
    assert.equal(first.get("probe_echo_round_trips"), 1);
    // A broken config on SIGHUP keeps the old one.
    await Deno.writeTextFile(
      config,
      "modules:\n  echo:\n    plugn: echo\n  other:\n    plugin: ech\n",
    );
    child.kill("SIGHUP");
    await eventually(async () =>
      samples((await get(`${base}/metrics`)).text)
        .get("wiretest_exporter_config_last_reload_successful") === 0
    );
    assert.equal((await get(`${base}/probe?module=echo&target=${target}`)).status, 200);
    await Deno.writeTextFile(
      config,
      "modules:\n  echo2:\n    plugin: echo\n    with: { count: 2 }\n",
    );
    child.kill("SIGHUP");
    await eventually(async () =>
      (await get(`${base}/probe?module=echo2&target=${target}`)).status === 200
    );
    const second = samples((await get(`${base}/probe?module=echo2&target=${target}`)).text);
    assert.equal(second.get("probe_echo_round_trips"), 2);
    child.kill("SIGTERM");
    const done = await output;
    const stdout = new TextDecoder().decode(done.stdout);
    const stderr = new TextDecoder().decode(done.stderr);
    assert.equal(done.code, 0, stderr);
    assert.match(
      stdout,
      new RegExp(`^wiretest exporter listening on http://127\\.0\\.0\\.1:${port} `),
    );
    assert.match(stdout, /wiretest exporter stopped \(SIGTERM\)\n$/);
    assert.match(stderr, /exporter\.yaml:3:5: "modules\.echo\.plugn" is not a known field/);
    // Only the exporter's own log lines: no runtime warning (a probe reads
    // its scrape's request.signal, which Deno's legacy abort warns about).
    for (const line of stderr.trimEnd().split("\n")) {
      assert.match(line, /^(debug|info|warn|error): /, stderr);
    }
    // The log says the refused reload left the exporter on its old config.
    // Its problems one a line under a first line that says what happened.
    const refused = stderr.split("\n");
    const at = refused.findIndex((line) => line.startsWith("error: Reload refused"));
    assert.equal(
      refused[at],
      `error: Reload refused, the previous config stays: Cannot load exporter config "${config}": 3 problems`,
      stderr,
    );
    assert.deepEqual(
      refused.slice(at + 1, at + 4).map((line) =>
        /^error: {3}\S*exporter\.yaml:(\d+:\d+): "modules\.([a-z.]+)"/.exec(line)?.slice(1)
      ),
      [["2:3", "echo.plugin"], ["3:5", "echo.plugn"], ["5:13", "other.plugin"]],
      stderr,
    );
    assert.ok(!stderr.includes("\\n"), stderr);
  } finally {
    clearTimeout(killer);
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
    await output.catch(() => {});
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest exporter: a config with mistakes or no --config exits 2 with a located message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_cli_" });
  try {
    await Deno.writeTextFile(`${dir}/bad.yaml`, "modules:\n  web:\n    plugin: no-such-plugin\n");
    const bad = await deno(["run", "-A", MAIN, "exporter", "--config", `${dir}/bad.yaml`]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^error: Cannot load exporter config ".*bad\.yaml:3:13": "modules\.web\.plugin" cannot be used: /,
    );
    // A file that is not there: its name once, then why (not nested quotes).
    const missing = await deno(["run", "-A", MAIN, "exporter", "--config", `${dir}/none.yaml`]);
    assert.equal(missing.code, 2);
    assert.equal(
      missing.stderr,
      `error: Cannot load exporter config "${dir}/none.yaml": it does not exist\n`,
    );
    const none = await deno(["run", "-A", MAIN, "exporter"]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr, "error: Cannot start the exporter: --config is required\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Polls `check` every 100 ms until it holds (at most 20 s).
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (await check()) return;
    } catch { /* not yet listening */ }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error("Timed out after 20 s waiting for the exporter");
}

Deno.test("wiretest exporter: a config's structural, plugin and param problems come in one pass, one line each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_cli_" });
  try {
    const config = `${dir}/exporter.yaml`;
    await Deno.writeTextFile(
      config,
      [
        "modules:",
        "  web:",
        "    plugin: http-probe",
        '    with: {timeoutMs: "x", bogus: 1}',
        "  udp:",
        "    plugin: udp-pingg",
        "  third:",
        "    prober: http",
        "",
      ].join("\n"),
    );
    const ran = await deno(["run", "-A", MAIN, "exporter", "--config", config], {
      timeoutMs: 60_000,
    });
    assert.equal(ran.code, 2, ran.stderr);
    const lines = ran.stderr.trimEnd().split("\n");
    assert.equal(lines[0], `error: Cannot load exporter config "${config}": 5 problems`);
    assert.deepEqual(
      lines.slice(1).map((line) => /^ {2}[^ ]+:(\d+:\d+): (.{0,30})/.exec(line)?.slice(1)),
      [
        ["4:23", '"modules.web.with.timeoutMs" i'],
        ["4:28", '"modules.web.with.bogus" is no'],
        ["6:13", '"modules.udp.plugin" cannot be'],
        ["7:3", '"modules.third.plugin" must na'],
        ["8:5", '"modules.third.prober" is not '],
      ],
    );
    assert.ok(!ran.stderr.includes("\\n"), ran.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest exporter: a module whose target goes into a param its plugin does not have is refused at load, located", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_cli_" });
  try {
    const config = `${dir}/exporter.yaml`;
    // proxy's client has no "target" param; "tagret" is echo's misspelt.
    await Deno.writeTextFile(
      config,
      [
        "modules:",
        "  faults:",
        "    plugin: proxy",
        '    with: { api: "127.0.0.1:8474" }',
        "  echo:",
        "    plugin: echo",
        "    target: tagret",
        "    with: { target: 127.0.0.1:7 }",
        "",
      ].join("\n"),
    );
    const ran = await deno(["run", "-A", MAIN, "exporter", "--config", config], {
      timeoutMs: 60_000,
    });
    assert.equal(ran.code, 2, ran.stdout + ran.stderr);
    const lines = ran.stderr.trimEnd().split("\n");
    assert.match(lines[0], /^error: Cannot load exporter config ".*exporter\.yaml": 2 problems$/);
    assert.equal(
      lines[1],
      `  ${config}:2:3: "modules.faults" puts the scrape's target in param "target", which plugin "proxy" does not have: name one of its params with "target:"`,
    );
    assert.equal(
      lines[2],
      `  ${config}:7:13: "modules.echo" puts the scrape's target in param "tagret", which plugin "echo" does not have (did you mean "target"?): name one of its params with "target:"`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wiretest exporter: a misspelt target param or module field is one located problem with a did-you-mean", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_cli_" });
  try {
    const config = `${dir}/exporter.yaml`;
    // "tagret" leaves echo's required "target" empty: that is the same
    // mistake, not a second problem.
    await Deno.writeTextFile(
      config,
      [
        "modules:",
        "  echo:",
        "    plugin: echo",
        "    target: tagret",
        "  other:",
        "    plugin: echo",
        "    targt: target",
        "",
      ].join("\n"),
    );
    const ran = await deno(["run", "-A", MAIN, "exporter", "--config", config], {
      timeoutMs: 60_000,
    });
    assert.equal(ran.code, 2, ran.stdout + ran.stderr);
    assert.deepEqual(ran.stderr.trimEnd().split("\n"), [
      `error: Cannot load exporter config "${config}": 2 problems`,
      `  ${config}:4:13: "modules.echo" puts the scrape's target in param "tagret", which plugin "echo" does not have (did you mean "target"?): name one of its params with "target:"`,
      `  ${config}:7:5: "modules.other.targt" is not a known field (did you mean "target"?)`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
