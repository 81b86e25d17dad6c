// The exposition makes a family's header and a frozen label set's text
// once: what it renders must still follow the families it is given.
import assert from "node:assert/strict";
import { type MetricFamily, renderMetrics } from "./exposition.ts";

Deno.test("renderMetrics() renders each call's own help, type, labels and format", () => {
  const family = (help: string, labels?: Record<string, string>): MetricFamily => ({
    name: "probe_things_total",
    help,
    type: "counter",
    samples: [{ value: 1, ...(labels ? { labels } : {}) }],
  });
  assert.equal(
    renderMetrics([family("One")]),
    "# HELP probe_things_total One\n# TYPE probe_things_total counter\nprobe_things_total 1\n",
  );
  assert.match(renderMetrics([family("Two")]), /^# HELP probe_things_total Two\n/);
  // OpenMetrics names the counter family without `_total`: not text format's header.
  assert.match(
    renderMetrics([family("Two")], true),
    /^# HELP probe_things Two\n# TYPE probe_things counter\n/,
  );
  assert.match(renderMetrics([family("Two")]), /^# HELP probe_things_total Two\n/);
  // A label set changed between two renders is shown as it is now.
  const mutable: Record<string, string> = { phase: "connect" };
  assert.match(renderMetrics([family("Two", mutable)]), /probe_things_total\{phase="connect"\} 1/);
  mutable.phase = "tls";
  assert.match(renderMetrics([family("Two", mutable)]), /probe_things_total\{phase="tls"\} 1/);
  const frozen = Object.freeze({ quantile: "0.99", path: 'a"b\\c' });
  for (let i = 0; i < 2; i++) {
    assert.match(
      renderMetrics([family("Two", frozen)]),
      /probe_things_total\{quantile="0\.99",path="a\\"b\\\\c"\} 1/,
    );
  }
});

Deno.test("renderMetrics() refuses a bad name or label name every time", () => {
  for (let i = 0; i < 2; i++) {
    assert.throws(
      () =>
        renderMetrics([{ name: "bad-name", help: "x", type: "gauge", samples: [{ value: 1 }] }]),
      { name: "TypeError", message: 'Cannot render metric: "bad-name" is not a metric name' },
    );
    assert.throws(
      () =>
        renderMetrics([{
          name: "good",
          help: "x",
          type: "gauge",
          samples: [{ value: 1, labels: Object.freeze({ "bad-label": "v" }) }],
        }]),
      { name: "TypeError", message: 'Cannot render metric: "bad-label" is not a label name' },
    );
  }
});

Deno.test("renderMetrics() escapes a HELP's double quotes in OpenMetrics only (its escaped-string)", () => {
  const family: MetricFamily = {
    name: "probe_x_wait_seconds",
    help: 'The outcome\'s metric (plugin metric "wait_ms") \\ end',
    type: "gauge",
    samples: [{ value: 1 }],
  };
  assert.match(
    renderMetrics([family], true),
    /^# HELP probe_x_wait_seconds The outcome's metric \(plugin metric \\"wait_ms\\"\) \\\\ end\n/,
  );
  assert.match(
    renderMetrics([family]),
    /^# HELP probe_x_wait_seconds The outcome's metric \(plugin metric "wait_ms"\) \\\\ end\n/,
  );
});
