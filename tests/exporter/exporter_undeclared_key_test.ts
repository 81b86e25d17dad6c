// An exporter module's `expect:` key must name a metric or fact its plugin
// declares, as a fixture's must: `metrics.stauts: 200..299` was accepted and
// every scrape then answered `probe_success 0`. It is refused at start, located,
// with a suggestion, together with the config's other problems.
import assert from "node:assert/strict";
import { deno, MAIN } from "../_support/deno_process.ts";

const CONFIG = `modules:
  http_2xx:
    plugin: http-probe
    expect:
      metrics.stauts: 200..299
      metrics.status: 200..299
  udp_echo:
    plugin: udp-ping
    with: { cout: 20 }
    expect:
      facts.rtt_by_sq: exists
`;

Deno.test("wiretest exporter refuses expect keys its plugins never report, located, with the other problems", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_keys_" });
  try {
    const file = `${dir}/exporter.yaml`;
    await Deno.writeTextFile(file, CONFIG);
    const run = await deno([
      "run",
      "-A",
      MAIN,
      "exporter",
      "--config",
      file,
      "--listen",
      "127.0.0.1:0",
    ]);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(
      run.stderr,
      /exporter\.yaml:5:7: "modules\.http_2xx\.expect\.metrics\.stauts" names metric "stauts" \(did you mean "metrics\.status"\?\), which plugin "http-probe" never reports/,
    );
    assert.match(
      run.stderr,
      /exporter\.yaml:11:7: "modules\.udp_echo\.expect\.facts\.rtt_by_sq" names fact "rtt_by_sq" \(did you mean "facts\.rtt_by_seq"\?\)/,
    );
    assert.match(
      run.stderr,
      /exporter\.yaml:9:13: "modules\.udp_echo\.with\.cout" is not a param of plugin "udp-ping"/,
    );
    assert.doesNotMatch(run.stderr, /expect\.metrics\.status"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
