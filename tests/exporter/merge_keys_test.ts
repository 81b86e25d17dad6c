// Exporter configs that share module defaults with YAML merge keys, as
// blackbox exporter configs do (`http_post: { <<: *http, … }`): they load
// and probe, and their problems are located where written, named where used.
import assert from "node:assert/strict";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { inProcessExecutor } from "../../lib/executor/in_process_executor.ts";
import { formatAddress } from "../../lib/transport/address.ts";
import { deno, MAIN } from "../_support/deno_process.ts";
import { get, samples, testExporter } from "./_exporter.ts";

const CONFIG = `modules:
  http_2xx: &http
    plugin: http-probe
    timeout: 5s
    with: { method: GET }
    expect:
      metrics.status: 200
  http_404:
    <<: *http
    timeout: 2s
    expect: { metrics.status: 404 }
  http_head:
    <<: [{ with: { method: HEAD } }, *http]
`;

Deno.test("exporter: modules merging defaults with `<<` probe a loopback server with the merged settings", async () => {
  await using ex = await testExporter(CONFIG);
  const service = await (await inProcessExecutor(builtinRegistry()).prepare(
    "http-probe",
    "server",
    { body: "hello" },
  )).serve();
  try {
    const target = encodeURIComponent(`http://${formatAddress(service.address)}/`);
    const probe = async (module: string) => {
      const answer = await get(`${ex.base}/probe?module=${module}&target=${target}`);
      assert.equal(answer.status, 200, answer.text);
      return samples(answer.text);
    };
    const ok = await probe("http_2xx");
    assert.equal(ok.get("probe_success"), 1);
    assert.equal(ok.get("probe_timeout_seconds"), 5);
    assert.equal(ok.get("probe_http_content_length"), 5);
    // Its own timeout and expectation, the merged plugin and method.
    const notFound = await probe("http_404");
    assert.equal(notFound.get("probe_success"), 0);
    assert.equal(notFound.get("probe_http_status_code"), 200);
    assert.equal(notFound.get("probe_timeout_seconds"), 2);
    // The first map merged wins: HEAD, so no body comes back.
    const head = await probe("http_head");
    assert.equal(head.get("probe_success"), 1);
    assert.equal(head.get("probe_timeout_seconds"), 5);
    assert.equal(head.get("probe_http_uncompressed_body_length"), 0);
  } finally {
    await service.close();
  }
});

Deno.test("wiretest exporter: problems in merged defaults are located where written, named in each module using them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wiretest_exporter_merge_" });
  try {
    const config = `${dir}/exporter.yaml`;
    await Deno.writeTextFile(
      config,
      CONFIG.replace("with: { method: GET }", 'with: { method: GET, timeoutMs: "x" }')
        .replace("metrics.status: 200\n", "metrics.stauts: 200\n")
        .replace("    timeout: 2s\n", "    timeout: -2s\n"),
    );
    const ran = await deno(["run", "-A", MAIN, "exporter", "--config", config], {
      timeoutMs: 60_000,
    });
    assert.equal(ran.code, 2, ran.stderr);
    const lines = ran.stderr.trimEnd().split("\n");
    assert.equal(lines[0], `error: Cannot load exporter config "${config}": 5 problems`);
    assert.deepEqual(lines.slice(1).map((line) => line.replace(`${config}:`, "")), [
      '  5:37: "modules.http_2xx.with.timeoutMs" is invalid for plugin "http-probe": invalid input: expected number, received string',
      // http_head merges a "with" of its own first: a merge is shallow, so it has no timeoutMs.
      '  5:37: "modules.http_404.with.timeoutMs" is invalid for plugin "http-probe": invalid input: expected number, received string',
      '  7:7: "modules.http_2xx.expect.metrics.stauts" names metric "stauts" (did you mean "metrics.status"?), which plugin "http-probe" never reports: the expectation could never hold except as "absent"',
      // http_404 writes an expect of its own.
      '  7:7: "modules.http_head.expect.metrics.stauts" names metric "stauts" (did you mean "metrics.status"?), which plugin "http-probe" never reports: the expectation could never hold except as "absent"',
      '  10:14: "modules.http_404.timeout" must be a duration such as "500ms", "1.5s" or "2m", or a number of milliseconds',
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
