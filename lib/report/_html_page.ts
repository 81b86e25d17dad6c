// Renders the HTML report: one self-contained page (styles, script, the
// uPlot chart library and the run's data inlined), no request to anything.
import { createRequire } from "node:module";
import type { RunEvent } from "../runner/events.ts";
import { reportData } from "./_html_data.ts";
import { stringifyRounded } from "../_internal/round_float.ts";

interface Assets {
  script: string;
  uplotScript: string;
  uplotStyle: string;
}

let assets: Promise<Assets> | undefined;

/** The page for these events (one run, or several shards' in a row). */
export async function renderHtmlPage(events: Iterable<RunEvent>): Promise<string> {
  const data = reportData(events);
  const { script, uplotScript, uplotStyle } = await (assets ??= loadAssets());
  // In a <script> element only "</script" (and "<!--") could end it early:
  // escaping every "<" in the JSON leaves nothing to break out with.
  const json = stringifyRounded(data).replace(/</g, "\\u003c");
  const scripts = [uplotScript, script];
  const hashes = await Promise.all(scripts.map(sha256Base64));
  // Defence in depth: only these two scripts may run, nothing may be fetched.
  const policy = [
    "default-src 'none'",
    `script-src ${hashes.map((h) => `'sha256-${h}'`).join(" ")}`,
    "style-src 'unsafe-inline'",
    "img-src data:",
  ].join("; ");
  const failing = data.summary.failed + data.summary.errors + data.summary.invalid;
  const title = `wiretest: ${
    failing === 0 ? "all passed" : `${failing} not passed`
  } (${data.summary.passed} of ${data.summary.total} passed)`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<style>${uplotStyle}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1>wiretest report</h1>
<div id="wt--counts" class="counts" role="group" aria-label="Show fixtures by status"></div>
<dl id="wt--meta" class="meta"></dl>
</header>
<nav class="controls">
<input id="wt--search" type="search" placeholder="Search fixture names and files" aria-label="Search fixtures">
<span id="wt--shown" class="muted"></span>
</nav>
<main id="wt--fixtures"></main>
<noscript><p>This report needs JavaScript to show its fixtures.</p></noscript>
<script type="application/json" id="wt--data">${json}</script>
<script>${uplotScript}</script>
<script>${script}</script>
</body>
</html>
`;
}

async function loadAssets(): Promise<Assets> {
  const script = await readText(new URL("./_html_client.js", import.meta.url));
  let dist: string;
  try {
    dist = uplotDist();
  } catch {
    // Not in Deno's npm cache yet (a fresh machine): importing fetches it.
    await import("uplot");
    dist = uplotDist();
  }
  const [uplotScript, uplotStyle] = await Promise.all([
    Deno.readTextFile(`${dist}/uPlot.iife.min.js`),
    Deno.readTextFile(`${dist}/uPlot.min.css`),
  ]);
  return { script, uplotScript: uplotScript.replace(/<\/script/gi, "<\\/script"), uplotStyle };
}

/** The folder of uPlot's built files in Deno's npm cache (or a node_modules). */
function uplotDist(): string {
  const path = createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js");
  return path.slice(0, path.lastIndexOf("/"));
}

async function readText(url: URL): Promise<string> {
  if (url.protocol === "file:") return await Deno.readTextFile(url);
  // Run from a registry (https:): the script is published next to this module.
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`Cannot read the report script: ${url.href} answered ${response.status}`);
  }
  return await response.text();
}

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Okabe–Ito colours for statuses (with a mark and a word, never colour alone);
// light and dark themes from the reader's setting; print shows everything plain.
const PAGE_STYLE = `
:root { --bg: #fff; --ink: #1d1d1f; --muted: #5f6368; --line: #d9d9de; --grid: #e4e4e8;
  --panel: #f6f6f8; --passed: #007a5a; --failed: #c04000; --error: #a0457c; --invalid: #9a6a00;
  --skipped: #6b6b73; --target: #fff3c4; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #16171a; --ink: #e8e8ea; --muted: #a0a3a8; --line: #34363c; --grid: #2c2e33;
    --panel: #1f2125; --passed: #3fc19a; --failed: #ff8a4c; --error: #e39acb; --invalid: #f0c04a;
    --skipped: #a0a3a8; --target: #3b3420; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 20px 48px; background: var(--bg);
  color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 20px; margin: 0 0 12px; }
code, pre { font: 12.5px/1.4 ui-monospace, "SF Mono", Menlo, Consolas, monospace; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; background: var(--panel);
  padding: 8px; border-radius: 4px; max-height: 320px; overflow: auto; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 12px; }
.count { font: inherit; color: inherit; background: var(--panel); border: 2px solid var(--line);
  border-radius: 6px; padding: 6px 12px; cursor: pointer; }
.count b { font-size: 18px; margin-left: 6px; }
.count[aria-pressed="false"] { opacity: .45; text-decoration: line-through; }
.st-passed { --st: var(--passed); } .st-failed { --st: var(--failed); }
.st-error { --st: var(--error); } .st-invalid { --st: var(--invalid); }
.st-skipped { --st: var(--skipped); }
.count { border-left: 6px solid var(--st); }
.count .mark, .badge { color: var(--st); font-weight: 600; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 12px; }
.meta dt { color: var(--muted); } .meta dd { margin: 0; font-family: ui-monospace, monospace;
  word-break: break-all; }
.controls { position: sticky; top: 0; z-index: 2; background: var(--bg); display: flex; gap: 12px;
  align-items: center; padding: 8px 0; border-bottom: 1px solid var(--line); margin-bottom: 12px; }
#wt--search { flex: 1; max-width: 480px; font: inherit; padding: 6px 10px; color: inherit;
  background: var(--panel); border: 1px solid var(--line); border-radius: 4px; }
.muted { color: var(--muted); }
.fixture { border: 1px solid var(--line); border-left: 6px solid var(--st); border-radius: 4px;
  margin: 6px 0; background: var(--bg); scroll-margin-top: 56px;
  content-visibility: auto; contain-intrinsic-size: auto 40px; }
.fixture.target { box-shadow: 0 0 0 3px var(--target); }
.fixture > summary { display: flex; gap: 12px; align-items: baseline; padding: 8px 12px;
  cursor: pointer; list-style-position: outside; }
.fixture > summary .name { font-weight: 600; overflow-wrap: anywhere; }
.fixture > summary .file { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.fixture > summary .duration { margin-left: auto; color: var(--muted); white-space: nowrap; }
.anchor { color: var(--muted); text-decoration: none; }
.badge { white-space: nowrap; min-width: 72px; }
.body { padding: 0 12px 12px; }
.step { border-top: 1px solid var(--line); padding-top: 8px; margin-top: 8px; }
.step h3 { font-size: 15px; margin: 4px 0 8px; display: flex; gap: 8px; align-items: baseline;
  flex-wrap: wrap; }
h3 { font-size: 15px; } h4 { font-size: 13px; margin: 8px 0 6px; }
h5 { font-size: 12px; margin: 0 0 4px; color: var(--muted); font-weight: 600; }
.plugin { font-size: 12px; color: var(--muted); border: 1px solid var(--line); border-radius: 3px;
  padding: 0 4px; }
.location { color: var(--muted); }
.attempt { border-left: 3px solid var(--st); padding-left: 10px; margin: 8px 0 12px; }
table { border-collapse: collapse; margin: 4px 0 8px; }
th, td { text-align: left; vertical-align: top; padding: 3px 10px 3px 0; }
.expectations { width: 100%; } .expectations thead th { color: var(--muted); font-weight: 600;
  border-bottom: 1px solid var(--line); }
.expectations tr.fail td { color: var(--failed); } .expectations tr.fail .mark { font-weight: 700; }
.expectations tr.pass .mark { color: var(--passed); }
.expectations td code { white-space: pre-wrap; word-break: break-word; }
.metrics th { font-weight: 400; color: var(--muted); } .metrics td { font-family: ui-monospace, monospace; }
.outcome { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
.error { color: var(--failed); } .problems { margin: 4px 0 8px; padding-left: 20px; }
.problems li { margin: 2px 0; }
.chart { margin: 4px 0 8px; } .chart figcaption { font-size: 12px; color: var(--muted); }
.uplot, .u-legend { color: var(--ink); font-family: inherit; }
@media print {
  :root { --bg: #fff; --ink: #000; --panel: #fff; --line: #999; }
  .controls, .anchor, .count[aria-pressed="false"] { display: none; }
  .count { cursor: default; }
  .fixture { break-inside: avoid-page; }
  pre { max-height: none; overflow: visible; border: 1px solid var(--line); }
}
`;
