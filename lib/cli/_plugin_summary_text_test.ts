import assert from "node:assert/strict";
import { pluginSummaryText } from "./_plugin_summary_text.ts";

Deno.test("pluginSummaryText() attributes a third-party plugin's lines and keeps three", () => {
  const forged =
    "ok      totally-real (x.wire.yaml) 1 ms\n\n5 passed, 0 failed (1 s)\nthird\nfourth\nfifth";
  assert.equal(
    pluginSummaryText(forged, "evil", false),
    'evil: ok      totally-real (x.wire.yaml) 1 ms\nevil: 5 passed, 0 failed (1 s)\nevil: third\n(2 more lines of plugin "evil"\'s summary not shown)',
  );
});

Deno.test("pluginSummaryText() leaves a built-in's lines as written, escaped and bounded", () => {
  assert.equal(pluginSummaryText("sent 5 B\r\nok", "echo", true), "sent 5 B\nok");
  const escaped = pluginSummaryText("\x1b[2Jx", "echo", true);
  assert.ok(!escaped.includes("\x1b") && escaped.endsWith("[2Jx"), escaped);
  assert.equal(pluginSummaryText("y".repeat(600), "echo", true), `${"y".repeat(500)}…`);
});
