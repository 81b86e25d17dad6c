import assert from "node:assert/strict";
import { baseUnitMetric, outcomeMetrics, probeMetrics } from "./probe_metrics.ts";
import { probeTimeoutSeconds } from "./server.ts";

Deno.test("baseUnitMetric() converts units to Prometheus base units", () => {
  assert.deepEqual(baseUnitMetric("rtt_p99_ms", "ms"), {
    name: "rtt_seconds",
    scale: 1e-3,
    quantile: "0.99",
  });
  assert.deepEqual(baseUnitMetric("rtt_p999_ms", "ms").quantile, "0.999");
  assert.deepEqual(baseUnitMetric("rtt_p50_ms").quantile, "0.5");
  assert.deepEqual(baseUnitMetric("jitter_ms", "ms"), { name: "jitter_seconds", scale: 1e-3 });
  assert.deepEqual(baseUnitMetric("loss_pct", "%"), { name: "loss_ratio", scale: 0.01 });
  assert.deepEqual(baseUnitMetric("throughput_mib_s", "MiB/s"), {
    name: "throughput_bytes_per_second",
    scale: 1048576,
  });
  assert.deepEqual(baseUnitMetric("bytes_sent", "bytes"), { name: "sent_bytes", scale: 1 });
  assert.deepEqual(baseUnitMetric("buffer_kib", "KiB"), { name: "buffer_bytes", scale: 1024 });
  assert.deepEqual(baseUnitMetric("round_trips_per_s", "1/s"), {
    name: "round_trips_per_second",
    scale: 1,
  });
  assert.deepEqual(baseUnitMetric("hops", "count"), { name: "hops", scale: 1 });
});

Deno.test("probeTimeoutSeconds() follows blackbox's getTimeout: header minus offset, module when shorter", () => {
  assert.equal(probeTimeoutSeconds("10", undefined, 0.5), 9.5);
  assert.equal(probeTimeoutSeconds("10", 5000, 0.5), 5);
  assert.equal(probeTimeoutSeconds("3", 5000, 0.5), 2.5);
  assert.equal(probeTimeoutSeconds(null, undefined, 0.5), 119.5);
  assert.equal(probeTimeoutSeconds("0", undefined, 0.5), 119.5);
  // An offset larger than the scrape timeout: the module's timeout (blackbox's `maxTimeoutSeconds < 0`).
  assert.equal(probeTimeoutSeconds("0.2", 4000, 0.5), 4);
  assert.throws(() => probeTimeoutSeconds("soon", undefined, 0.5), SyntaxError);
});

Deno.test("probeMetrics() names a third-party plugin's metrics from its declarations, in base units", () => {
  const families = probeMetrics({
    plugin: "dns-query",
    outcome: { ok: true, metrics: { answer_ms: 12, answers: 2, "bad name": 1 }, facts: {} },
    success: true,
    failedDueToRegex: false,
    durationSeconds: 0.02,
    timeoutSeconds: 9.5,
    declarations: [{ name: "answer_ms", unit: "ms", description: "Time to the answer." }],
  });
  const byName = new Map(families.map((f) => [f.name, f]));
  assert.equal(byName.get("probe_dns_query_answer_seconds")?.samples[0].value, 0.012);
  assert.equal(
    byName.get("probe_dns_query_answer_seconds")?.help,
    'Time to the answer. (plugin metric "answer_ms")',
  );
  assert.equal(byName.get("probe_dns_query_answers")?.samples[0].value, 2);
  assert.equal(families.some((f) => f.name.includes("bad")), false);
  assert.equal(byName.get("probe_success")?.samples[0].value, 1);
});

Deno.test("probeMetrics() gives blackbox's TLS metrics from http-probe's certificate facts", () => {
  const families = probeMetrics({
    plugin: "http-probe",
    outcome: {
      ok: true,
      metrics: { status: 200, dns_ms: 1, connect_ms: 2, tls_ms: 3, ttfb_ms: 4, transfer_ms: 5 },
      facts: {
        url: "https://localhost:8443/",
        method: "GET",
        status: 200,
        http_version: "1.1",
        remote_address: "[::1]:8443",
        headers: {},
        redirects: [{ dns_ms: 1, connect_ms: 1, tls_ms: 1, ttfb_ms: 1, transfer_ms: 1 }],
        tls: {
          protocol: "TLSv1.3",
          certificate: {
            subject: "CN=localhost",
            issuer: "CN=wiretest CA",
            subject_alt_names: ["DNS:localhost", "IP Address:127.0.0.1"],
            not_after: "2027-01-06T10:00:00.000Z",
            fingerprint256: "AB:CD",
          },
        },
      },
    },
    success: true,
    failedDueToRegex: false,
    durationSeconds: 0.02,
    timeoutSeconds: 9.5,
  });
  const value = (name: string, labels?: Record<string, string>) =>
    families.find((f) => f.name === name)?.samples.find((s) =>
      JSON.stringify(s.labels ?? {}) === JSON.stringify(labels ?? {})
    )?.value;
  assert.equal(value("probe_ssl_earliest_cert_expiry"), Date.parse("2027-01-06T10:00:00Z") / 1000);
  assert.equal(value("probe_tls_version_info", { version: "TLS 1.3" }), 1);
  assert.equal(value("probe_http_ssl"), 1);
  assert.equal(value("probe_ip_protocol"), 6);
  // Summed over the redirects, as blackbox does.
  assert.equal(value("probe_http_duration_seconds", { phase: "processing" }), 0.005);
  assert.equal(
    value("probe_ssl_last_chain_info", {
      fingerprint_sha256: "abcd",
      subject: "CN=localhost",
      issuer: "CN=wiretest CA",
      subjectalternative: "localhost",
    }),
    1,
  );
  assert.equal(value("probe_http_content_length"), -1);
});

Deno.test("probeMetrics() keeps percentiles apart from a plain metric of the same base name", () => {
  const families = probeMetrics({
    plugin: "echo",
    outcome: { ok: true, metrics: { connect_ms: 2, connect_p99_ms: 5, rtt_p50_ms: 1 }, facts: {} },
    success: true,
    failedDueToRegex: false,
    durationSeconds: 0.02,
    timeoutSeconds: 9.5,
  });
  const byName = new Map(families.map((f) => [f.name, f]));
  assert.equal(byName.get("probe_echo_connect_seconds")?.type, "gauge");
  assert.deepEqual(byName.get("probe_echo_connect_seconds")?.samples, [{
    value: 0.002,
    labels: {},
  }]);
  assert.equal(byName.get("probe_echo_connect_quantiles_seconds")?.type, "summary");
  assert.deepEqual(byName.get("probe_echo_connect_quantiles_seconds")?.samples, [
    { value: 0.005, labels: { quantile: "0.99" } },
  ]);
  assert.equal(byName.get("probe_echo_rtt_seconds")?.type, "summary");
});

Deno.test("probeMetrics() writes http-probe's metrics that a blackbox family carries once, under blackbox's name only", () => {
  const families = probeMetrics({
    plugin: "http-probe",
    outcome: {
      ok: true,
      metrics: {
        status: 200,
        dns_ms: 1,
        connect_ms: 2,
        tls_ms: 0,
        ttfb_ms: 4,
        transfer_ms: 5,
        total_ms: 12,
        redirect_ms: 0,
        body_bytes: 5,
        header_bytes: 90,
        redirects: 0,
        requests: 1,
      },
      facts: { url: "http://127.0.0.1:8080/", headers: {} },
    },
    success: true,
    failedDueToRegex: false,
    durationSeconds: 0.02,
    timeoutSeconds: 9.5,
  });
  const names = families.map((f) => f.name);
  assert.deepEqual(names.filter((n) => n.startsWith("probe_http_probe_")).sort(), [
    "probe_http_probe_header_bytes",
    "probe_http_probe_redirect_seconds",
    "probe_http_probe_requests",
    "probe_http_probe_total_seconds",
  ]);
  assert.equal(
    families.find((f) => f.name === "probe_http_uncompressed_body_length")?.samples[0].value,
    5,
  );
  assert.equal(families.find((f) => f.name === "probe_http_status_code")?.samples[0].value, 200);
  // Other plugins keep every metric under its generic name.
  const echo = probeMetrics({
    plugin: "echo",
    outcome: { ok: true, metrics: { status: 1, redirects: 2 }, facts: {} },
    success: true,
    failedDueToRegex: false,
    durationSeconds: 0.02,
    timeoutSeconds: 9.5,
  });
  assert.deepEqual(echo.map((f) => f.name).filter((n) => n.startsWith("probe_echo_")), [
    "probe_echo_status",
    "probe_echo_redirects",
  ]);
});

Deno.test("outcomeMetrics() keeps a plugin's HELP to 1024 characters, however long its description", () => {
  const [family] = outcomeMetrics(
    "probe_x_",
    { ok: true, metrics: { hops: 3 }, facts: {} },
    [{ name: "hops", unit: "count", description: `Hops\n${"h".repeat(100_000)}` }],
  );
  assert.equal(family.help.length, 1024);
  assert.match(family.help, /^Hops h+…$/);
});

Deno.test("probeMetrics() counts an IPv4-mapped IPv6 address as IPv4, as blackbox's Go (To4) does", () => {
  const base = {
    plugin: "http-probe",
    success: false,
    failedDueToRegex: false,
    durationSeconds: 0.01,
    timeoutSeconds: 5,
  };
  const answered = probeMetrics({
    ...base,
    outcome: {
      ok: true,
      metrics: { status: 200 },
      facts: { remote_address: "[::ffff:127.0.0.1]:80" },
    },
  });
  // Refused: no peer address, the URL's literal (the URL parser writes it ::ffff:7f00:1).
  const refused = probeMetrics({
    ...base,
    target: "http://[::ffff:127.0.0.1]:1/",
    outcome: {
      ok: false,
      metrics: {},
      facts: {},
      error: { name: "ConnectionRefused", message: "refused", code: "refused" },
    },
  });
  for (const families of [answered, refused]) {
    const value = (name: string) => families.find((f) => f.name === name)?.samples[0].value;
    assert.equal(value("probe_ip_protocol"), 4);
    assert.equal(value("probe_ip_addr_hash"), 3668918509);
  }
});
