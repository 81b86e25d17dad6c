import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { outcomeProblems, runClient } from "@wiretest/wiretest/plugin";
import { startDnsmasq, withoutDnsmasq } from "./_test_utils.ts";
import dns from "./mod.ts";
import { commandOutput } from "../../../tests/_support/command.ts";
import { builtinRegistry } from "../../../plugins/manifest.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

Deno.test({
  name: "dns client gets the A record dnsmasq serves, for every query",
  ignore: withoutDnsmasq(),
  async fn() {
    await using dnsmasq = await startDnsmasq();
    const outcome = await runClient(dns, { target: dnsmasq.target, name: "test.local", count: 20 });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.queries, 20);
    assert.equal(outcome.metrics.responses, 20);
    assert.equal(outcome.metrics.timeouts, 0);
    assert.equal(outcome.metrics.answers, 1);
    assert.ok(outcome.metrics.rtt_p99_ms >= outcome.metrics.rtt_p50_ms);
    assert.equal(outcome.facts.rcode, "NOERROR");
    assert.deepEqual(outcome.facts.answers, [
      { name: "test.local", type: "A", class: 1, ttl: 0, data: "10.1.2.3" },
    ]);
    // What it reports is what it declares (REFERENCE-style tables come from it).
    assert.deepEqual(outcomeProblems(dns.client!.outcome!, outcome), []);
    assert.match(
      dns.client!.summary!(outcome),
      /^20 queries to 127\.0\.0\.1:\d+: 20 NOERROR responses, 1 answer \(A 10\.1\.2\.3\)/,
    );
  },
});

Deno.test({
  name: "dns client reads AAAA, TXT and MX records from dnsmasq",
  ignore: withoutDnsmasq(),
  async fn() {
    await using dnsmasq = await startDnsmasq();
    const cases = [
      ["v6.test.local", "AAAA", "fd00::5"],
      ["txt.test.local", "TXT", '"hello world" "second"'],
      ["mail.test.local", "MX", "10 mx.test.local"],
    ];
    for (const [name, type, data] of cases) {
      const outcome = await runClient(dns, { target: dnsmasq.target, name, type, count: 1 });
      assert.equal(outcome.ok, true, outcome.error?.message);
      const answers = outcome.facts.answers as { type: string; data: string }[];
      assert.deepEqual(answers.map((a) => [a.type, a.data]), [[type, data]]);
    }
  },
});

Deno.test({
  name: "dns client reports REFUSED as a fact, not a failure, for a name dnsmasq does not serve",
  ignore: withoutDnsmasq(),
  async fn() {
    await using dnsmasq = await startDnsmasq();
    const outcome = await runClient(dns, {
      target: dnsmasq.target,
      name: "nope.invalid",
      count: 2,
    });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.facts.rcode, "REFUSED");
    assert.equal(outcome.metrics.answers, 0);
  },
});

Deno.test({
  name: "dns loads from its own manifest and runs through the registry and the CLI",
  ignore: withoutDnsmasq(),
  async fn() {
    await using dnsmasq = await startDnsmasq();
    const registry = await builtinRegistry().withManifests(
      new URL("./manifest.json", import.meta.url),
    );
    const plugin = await registry.load("dns");
    const direct = await runClient(plugin, { target: dnsmasq.target, name: "test.local" });
    assert.equal(direct.ok, true, direct.error?.message);

    const out = await commandOutput(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "lib/cli/main.ts",
        "run",
        "dns",
        dnsmasq.target,
        "--name",
        "test.local",
        "--count",
        "3",
        "--plugins",
        "examples/plugins/dns/manifest.json",
        "--json",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    });
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const outcome = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(outcome.metrics.responses, 3);
    assert.equal(outcome.facts.answers[0].data, "10.1.2.3");
  },
});

Deno.test("dns client refuses an unknown record type before anything is sent", async () => {
  await assert.rejects(
    runClient(dns, { target: "127.0.0.1:53", name: "x", type: "BOGUS" }),
    /"type"/,
  );
});
