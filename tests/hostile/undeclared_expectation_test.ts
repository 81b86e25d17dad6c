// Hostile fixture (a pull request in CI): an expectation on a metric or fact
// the built-in plugin never reports. `absent` (or `{ exists: false }`) on a
// misspelt key holds for ever, so `metrics.erors: absent` — meant as "no
// errors" — passed against a real echo server whatever happened. The key
// must be refused when the fixture loads, with its place and a did-you-mean,
// through the CLI and through the runner.
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandOutput } from "../_support/command.ts";
import { prepareFixture } from "../../lib/runner/prepare_fixture.ts";

const CLI = new URL("../../lib/cli/main.ts", import.meta.url).pathname;

const TYPOS = `name: typo absent
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}", count: 3 }
    expect:
      metrics.erors: absent
      facts.nothere: { exists: false }
`;

const DECLARED = `name: declared absent
services:
  web: { plugin: http-probe }
steps:
  - plugin: http-probe
    with: { url: "http://\${services.web.addr}/" }
    expect:
      facts.tls: absent
      facts.headers.x-not-sent: absent
      facts.redirects[0].status: absent
      metrics.status: 200
`;

Deno.test("wiretest test refuses an expectation on a metric or fact the built-in never reports", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "typo.wire.yaml"), TYPOS);
    const out = await commandOutput(Deno.execPath(), {
      args: ["run", "-A", CLI, "test", "typo.wire.yaml"],
      cwd: dir,
      env: { NO_COLOR: "1" },
    }, 60_000);
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 2, stdout);
    assert.match(stdout, /^INVALID +typo absent/m);
    assert.match(
      stdout,
      /typo\.wire\.yaml:8:7": "steps\[0\]\.expect\.metrics\.erors" names metric "erors" \(did you mean "metrics\.errors"\?\), which plugin "echo" never reports/,
    );
    assert.match(
      stdout,
      /typo\.wire\.yaml:9:7": "steps\[0\]\.expect\.facts\.nothere" names fact "nothere"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the runner refuses undeclared keys but keeps declared ones, peer-named headers and list elements", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "typo.wire.yaml"), TYPOS);
    await Deno.writeTextFile(join(dir, "declared.wire.yaml"), DECLARED);
    const typo = await prepareFixture(join(dir, "typo.wire.yaml"));
    assert.equal(typo.status, "invalid");
    if (typo.status === "invalid") {
      assert.deepEqual(typo.problems.map((p) => [p.line, p.path]), [
        [8, "steps[0].expect.metrics.erors"],
        [9, "steps[0].expect.facts.nothere"],
      ]);
    }
    const declared = await prepareFixture(join(dir, "declared.wire.yaml"));
    assert.equal(
      declared.status,
      "ready",
      declared.status === "invalid" ? JSON.stringify(declared.problems) : "",
    );
    if (declared.status === "ready") {
      for (const role of [...declared.roles.services.values(), ...declared.roles.steps.values()]) {
        await role.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
