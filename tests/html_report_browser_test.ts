// The HTML report in a real browser: Debian's chromium, driven by
// playwright-core (nothing downloaded), opening reports of real runs of
// tests/fixtures/html_report (all-pass, failures, invalid, retries), shards
// merged by `wiretest report html`, and 1,000 fixtures. One browser launch
// for the file. Screenshots go to reports/html-report/ for review.
import assert from "node:assert/strict";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";
import { ignoreWithout } from "./_support/peer.ts";
import { outputWithin } from "./_support/command.ts";
import type { RunEvent } from "../lib/runner/events.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURES = "tests/fixtures/html_report";
const SHOTS = `${ROOT}reports/html-report`;
const SECRET = "s3cr3t-t0ken-for-the-report";
const CHROMIUM = "chromium";

async function wiretest(args: string[]) {
  return await outputWithin(Deno.execPath(), {
    args: ["run", "-A", "--config", `${ROOT}deno.json`, `${ROOT}lib/cli/main.ts`, ...args],
    cwd: ROOT,
    env: { HTML_REPORT_TOKEN: SECRET, NO_COLOR: "1" },
  }, 90_000);
}

/** Every problem a page reports: console errors, uncaught exceptions, requests. */
function watch(page: Page, url: string) {
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  return { errors, requests };
}

/** Non-transparent pixels of each chart's canvas: 0 when nothing was drawn. */
function inkedPixels(page: Page): Promise<number[]> {
  return page.$$eval("figure.chart canvas", (canvases) =>
    canvases.map((canvas) => {
      // No DOM types in Deno: the canvas API as used here.
      const c = canvas as unknown as {
        width: number;
        height: number;
        getContext(kind: "2d"): { getImageData(...a: number[]): { data: Uint8ClampedArray } };
      };
      const pixels = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) inked++;
      return inked;
    }));
}

/**
 * Scrolls every chart into view, each in turn, and waits until it is drawn:
 * charts are drawn when they come near the screen.
 */
async function drawAllCharts(page: Page, expected?: number): Promise<void> {
  const figures = page.locator("figure.chart");
  // An opened fixture builds its steps' charts after the click returns.
  if (expected !== undefined) {
    await figures.nth(expected - 1).waitFor({ state: "attached", timeout: 10_000 });
  }
  const n = await figures.count();
  for (let i = 0; i < n; i++) {
    await figures.nth(i).scrollIntoViewIfNeeded();
    await page.locator(`figure.chart >> nth=${i}`).and(page.locator('[data-drawn="true"]'))
      .waitFor({ state: "attached", timeout: 10_000 });
  }
}

Deno.test({
  name: "the HTML report works in chromium: counts, failures, filter, search, charts, deep links",
  ignore: ignoreWithout(CHROMIUM),
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-html-" });
    await Deno.mkdir(SHOTS, { recursive: true });
    const html = `${dir}/report.html`;
    const jsonl = `${dir}/events.jsonl`;
    // console on the terminal, html and jsonl to files, in one run.
    const run = await wiretest([
      "test",
      FIXTURES,
      "--allow-env",
      "HTML_REPORT_TOKEN",
      "--reporter",
      "console",
      "--reporter",
      "html",
      "--output",
      html,
      "--reporter",
      "jsonl",
      "--output",
      jsonl,
    ]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stdout, /^2 passed, 2 failed, 1 invalid/m);
    const page0 = await Deno.readTextFile(html);
    assert.ok(!page0.includes(SECRET), "the secret from the environment is masked");
    const events: RunEvent[] = (await Deno.readTextFile(jsonl)).trimEnd().split("\n")
      .map((line) => JSON.parse(line));

    const browser = await chromium.launch({
      executablePath: (await outputWithin("sh", { args: ["-c", `command -v ${CHROMIUM}`] }))
        .stdout.trim(),
      args: ["--no-sandbox"],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      // Anything not the report itself would be a network request: count them all.
      await context.route("**/*", (route) => route.continue());

      await t.step(
        "summary, failures in place, invalid problems, no script from the run",
        async () => {
          const page = await context.newPage();
          const url = pathToFileURL(html).href;
          const seen = watch(page, url);
          await page.goto(url);
          await page.locator('html[data-rendered="true"]').waitFor({ state: "attached" });
          const count = (status: string) =>
            page.locator(`#wt--counts button[data-status="${status}"] b`).innerText();
          assert.deepEqual(
            await Promise.all(["failed", "error", "invalid", "passed", "skipped"].map(count)),
            ["2", "0", "1", "2", "0"],
          );
          await page.getByText("wiretest test tests/fixtures/html_report").waitFor();
          await page.screenshot({ path: `${SHOTS}/failures.png` });
          // Failures come first and open; the passed fixture is closed.
          const order = await page.$$eval(
            "details.fixture",
            (ds) => ds.map((d) => [d.className, (d as unknown as { open: boolean }).open]),
          );
          assert.deepEqual(order, [
            ["fixture st-failed", true],
            ["fixture st-failed", true],
            ["fixture st-invalid", true],
            ["fixture st-passed", false],
            ["fixture st-passed", false],
          ]);
          const hostile = `status </script><img src=x onerror="window.__pwned='name'"> check`;
          const failed = page.locator("details.fixture", { hasText: "check" }).first();
          assert.equal(await failed.locator("summary .name").innerText(), hostile);
          const row = failed.locator("tr.fail");
          assert.equal(await row.count(), 1);
          assert.ok(await row.isVisible());
          const cells = await row.locator("td").allInnerTexts();
          assert.deepEqual(cells.slice(1), [
            "metrics.status",
            "404",
            "200",
            `${FIXTURES}/fail.wire.yaml:14:7`,
          ]);
          assert.ok(
            await failed.getByText("Bearer ***").isVisible(),
            "params shown, secret masked",
          );
          const invalid = page.locator("details.st-invalid");
          assert.ok(
            await invalid.getByText(`${FIXTURES}/invalid.wire.yaml:5:43`, { exact: true })
              .isVisible(),
          );
          assert.ok(
            await invalid.getByText(`${FIXTURES}/invalid.wire.yaml:6:5`, { exact: true })
              .isVisible(),
          );
          // The peer's body and the hostile name stayed text: nothing ran, no element was made.
          await page.locator("#echo-ping-and-a-hostile-page-pass summary").click();
          await page.getByText("window.__pwned = 'body'", { exact: false }).first().waitFor();
          assert.equal(await page.evaluate<boolean>('"__pwned" in window'), false);
          assert.equal(await page.locator("img").count(), 0);
          assert.equal(await page.locator("script").count(), 3);
          await page.screenshot({ path: `${SHOTS}/all.png`, fullPage: true });
          assert.deepEqual(seen.errors, []);
          assert.deepEqual(seen.requests, []);
          await page.close();
        },
      );

      await t.step("filter by status and search change what is shown", async () => {
        const page = await context.newPage();
        const url = pathToFileURL(html).href;
        const seen = watch(page, url);
        await page.goto(url);
        const visible = () =>
          page.$$eval(
            "details.fixture",
            (ds) =>
              ds.filter((d) => !(d as unknown as { hidden: boolean }).hidden).map((d) =>
                d.className
              ),
          );
        assert.equal((await visible()).length, 5);
        await page.locator('#wt--counts button[data-status="failed"]').click();
        assert.deepEqual(await visible(), [
          "fixture st-invalid",
          "fixture st-passed",
          "fixture st-passed",
        ]);
        assert.equal(await page.locator("#wt--shown").innerText(), "3 of 5 fixtures shown");
        await page.locator('#wt--counts button[data-status="failed"]').click();
        await page.locator("#wt--search").fill("RETRIED");
        assert.deepEqual(await visible(), ["fixture st-failed"]);
        assert.match(
          await page.locator("details.fixture:not([hidden]) .name").innerText(),
          /retried/,
        );
        await page.locator("#wt--search").fill("no such fixture");
        assert.deepEqual(await visible(), []);
        await page.screenshot({ path: `${SHOTS}/search.png` });
        // Printing hides the controls.
        await page.emulateMedia({ media: "print" });
        assert.equal(await page.locator(".controls").isVisible(), false);
        assert.deepEqual(seen.errors, []);
        assert.deepEqual(seen.requests, []);
        await page.close();
      });

      await t.step(
        "charts draw one series per attempt; a deep link opens and scrolls",
        async () => {
          const page = await context.newPage();
          const url = `${pathToFileURL(html).href}#echo-ping-and-a-hostile-page-pass`;
          const seen = watch(page, url.replace(/#.*/, ""));
          await page.goto(url);
          // The linked fixture opens at the top, and its first chart, on
          // screen, is drawn; the others wait until they come near the screen.
          // (A function: a string would be eval, which the page's CSP forbids.)
          const target = page.locator("#echo-ping-and-a-hostile-page-pass");
          await target.locator("figure.chart").first().and(page.locator('[data-drawn="true"]'))
            .waitFor({ state: "attached" });
          assert.equal(
            await target.evaluate((d) => (d as unknown as { open: boolean }).open),
            true,
          );
          const top = await target.evaluate((d) => d.getBoundingClientRect().top);
          assert.ok(top >= 0 && top < 120, `the linked fixture is at the top (at ${top} px)`);
          assert.ok(await page.evaluate<number>("scrollY") > 0);
          const drawnAtFirst = await page.evaluate<number>("wiretestReport.charts");
          assert.ok(drawnAtFirst < 5, `${drawnAtFirst} of 5 charts drawn before scrolling`);
          // The retried step (3 attempts, open as a failure) and the passed
          // fixture's echo and ping, opened by the link.
          await drawAllCharts(page);
          assert.equal(await page.evaluate<number>("wiretestReport.charts"), 5);
          // And the fixture whose pings were all lost: its losses are marked.
          await page.locator("#ping-with-losses summary").click();
          await drawAllCharts(page);
          assert.equal(await page.evaluate<number>("wiretestReport.charts"), 6);
          const series = await page.$$eval(
            "figure.chart",
            (fs) =>
              fs.map((f) => [
                f.closest("details")!.id,
                f.getAttribute("data-kind"),
                f.getAttribute("data-series"),
                // What uPlot drew: its legend has a row per series, x included.
                String(f.querySelectorAll(".u-legend .u-series").length - 1),
              ]),
          );
          // Percentile curves: a series per attempt; by sequence: rtt and losses.
          const pass = "echo-ping-and-a-hostile-page-pass";
          assert.deepEqual(series, [
            ["ping-retried", "percentile", "3", "3"],
            ["ping-retried", "sequence", "2", "2"],
            ["ping-with-losses", "sequence", "2", "2"],
            [pass, "percentile", "1", "1"],
            [pass, "percentile", "1", "1"],
            [pass, "sequence", "2", "2"],
          ]);
          const inked = await inkedPixels(page);
          assert.equal(inked.length, 6);
          assert.ok(
            inked.every((n) => n > 500),
            `every chart drew: ${inked} pixels`,
          );
          // Vermillion (#D55E00) marks: 5 lost pings, and no RTT line.
          const marks = await page.$eval("#ping-with-losses figure.chart canvas", (canvas) => {
            const c = canvas as unknown as {
              width: number;
              height: number;
              getContext(kind: "2d"): { getImageData(...a: number[]): { data: Uint8ClampedArray } };
            };
            const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < px.length; i += 4) {
              if (Math.abs(px[i] - 213) < 8 && Math.abs(px[i + 1] - 94) < 8 && px[i + 2] < 8) n++;
            }
            return n;
          });
          assert.ok(marks > 5 * 20, `loss marks drawn: ${marks} pixels`);
          await target.locator("figure.chart").first().screenshot({ path: `${SHOTS}/chart.png` });
          assert.deepEqual(seen.errors, []);
          assert.deepEqual(seen.requests, []);
          await page.close();
        },
      );

      await t.step("shards' JSON lines merge into one page", async () => {
        const shards = [`${dir}/shard1.jsonl`, `${dir}/shard2.jsonl`];
        for (const [i, out] of shards.entries()) {
          const shard = await wiretest([
            "test",
            FIXTURES,
            "--shard",
            `${i + 1}/2`,
            "--allow-env",
            "HTML_REPORT_TOKEN",
            "--reporter",
            "jsonl",
            "--output",
            out,
          ]);
          assert.ok(shard.code === 1 || shard.code === 2, shard.stderr);
        }
        const merged = `${dir}/merged.html`;
        const report = await wiretest(["report", "html", ...shards, "--output", merged]);
        assert.equal(report.code, 0, report.stderr);
        const page = await context.newPage();
        const url = pathToFileURL(merged).href;
        const seen = watch(page, url);
        await page.goto(url);
        assert.equal(await page.locator("details.fixture").count(), 5);
        assert.equal(await page.locator('#wt--meta dt:text-is("command (run 2)")').count(), 1);
        assert.equal(
          await page.locator('#wt--counts button[data-status="failed"] b').innerText(),
          "2",
        );
        assert.deepEqual(seen.errors, []);
        assert.deepEqual(seen.requests, []);
        await page.close();
      });

      await t.step(
        "a load run's charts: rate, errors and p50/p90/p99 per second, the same from JSON lines, light and dark",
        async () => {
          const fixtures = `${dir}/load`;
          await Deno.mkdir(fixtures);
          await Deno.writeTextFile(
            `${fixtures}/load.wire.yaml`,
            `name: echo under load
services:
  echo: { plugin: echo }
steps:
  - name: ramp
    plugin: echo
    with: { target: "\${services.echo.addr}" }
    load: { stages: [{ duration: 1s, target: 3 }, { duration: 1s, target: 3 }] }
    expect: { metrics.errors: 0 }
  - name: rate
    plugin: echo
    with: { target: "\${services.echo.addr}" }
    load: { rate: 30, duration: 2s, maxVus: 4 }
    expect: { metrics.rate: ">= 1" }
`,
          );
          const direct = `${dir}/load.html`;
          const lines = `${dir}/load.jsonl`;
          const ran = await wiretest([
            "test",
            fixtures,
            "--reporter",
            "html",
            "--output",
            direct,
            "--reporter",
            "jsonl",
            "--output",
            lines,
          ]);
          assert.equal(ran.code, 0, ran.stdout + ran.stderr);
          const rendered = `${dir}/load-from-jsonl.html`;
          const report = await wiretest(["report", "html", lines, "--output", rendered]);
          assert.equal(report.code, 0, report.stderr);
          const drawn: string[][][] = [];
          const loads: unknown[] = [];
          for (const [file, scheme] of [[direct, "light"], [rendered, "dark"]] as const) {
            const page = await context.newPage();
            await page.emulateMedia({ colorScheme: scheme });
            const url = pathToFileURL(file).href;
            const seen = watch(page, url);
            await page.goto(url);
            await page.locator("#echo-under-load summary").click();
            await drawAllCharts(page, 4);
            drawn.push(
              await page.$$eval("figure.chart", (fs) =>
                fs.map((f) => [
                  f.getAttribute("data-kind")!,
                  f.getAttribute("data-series")!,
                  // What uPlot drew: its legend has a row per series, x included.
                  String(f.querySelectorAll(".u-legend .u-series").length - 1),
                  f.querySelector("figcaption")!.textContent!,
                ])),
            );
            const inked = await inkedPixels(page);
            assert.equal(inked.length, 4);
            assert.ok(inked.every((n) => n > 500), `every chart drew: ${inked} pixels`);
            // The axes are in the page's ink: dark text on light, light on dark.
            const ink = await page.$eval("figure.chart canvas", (canvas, dark) => {
              const c = canvas as unknown as {
                width: number;
                height: number;
                getContext(kind: "2d"): {
                  getImageData(...a: number[]): { data: Uint8ClampedArray };
                };
              };
              const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
              let n = 0;
              for (let i = 0; i < px.length; i += 4) {
                const grey = px[i] === px[i + 1] && Math.abs(px[i + 1] - px[i + 2]) < 4;
                if (px[i + 3] > 200 && grey && (dark ? px[i] > 200 : px[i] < 60)) n++;
              }
              return n;
            }, scheme === "dark");
            assert.ok(ink > 50, `${scheme}: axis ink pixels ${ink}`);
            loads.push(
              await page.$eval(
                "#wt--data",
                (s) =>
                  JSON.parse(s.textContent!).fixtures[0].steps.map((
                    step: { attempts: { load: unknown }[] },
                  ) => step.attempts.map((a) => a.load)),
              ),
            );
            await page.locator("#echo-under-load").screenshot({
              path: `${SHOTS}/load-${scheme}.png`,
            });
            assert.deepEqual(seen.errors, []);
            assert.deepEqual(seen.requests, []);
            await page.close();
          }
          // Closed model: iterations and errors; open: and the rate asked.
          // Latency: p50, p90 and p99.
          assert.deepEqual(drawn[0].map((d) => d.slice(0, 3)), [
            ["load-rate", "2", "2"],
            ["load-latency", "3", "3"],
            ["load-rate", "3", "3"],
            ["load-latency", "3", "3"],
          ]);
          // The page from the JSON lines draws the same data.
          assert.deepEqual(drawn[1], drawn[0]);
          assert.deepEqual(loads[1], loads[0]);
        },
      );

      await t.step("1,000 fixtures: under 5 MiB, and how fast it is ready", async () => {
        // The real run's events, each fixture's repeated under 200 names.
        const many: RunEvent[] = [];
        const perFixture = events.filter((e) => e.type !== "run-start" && e.type !== "summary");
        for (let copy = 0; copy < 200; copy++) {
          for (const event of perFixture) {
            if (!("fixture" in event)) continue;
            const fixture = {
              file: event.fixture.file.replace(".wire.", `_${copy}.wire.`),
              name: `${event.fixture.name} #${copy}`,
            };
            many.push({ ...event, fixture } as RunEvent);
          }
        }
        const summary = events.at(-1)!;
        assert.equal(summary.type, "summary");
        if (summary.type !== "summary") return;
        const counts = {
          passed: 400,
          failed: 400,
          errors: 0,
          invalid: 200,
          skipped: 0,
          total: 1000,
        };
        const file = `${dir}/many.jsonl`;
        await Deno.writeTextFile(
          file,
          [events[0], ...many, { ...summary, ...counts }].map((e) => JSON.stringify(e)).join("\n"),
        );
        const big = `${dir}/many.html`;
        const report = await wiretest(["report", "html", file, "--output", big]);
        assert.equal(report.code, 0, report.stderr);
        const size = (await Deno.stat(big)).size;
        assert.ok(size < 5 * 1024 * 1024, `${size} bytes`);
        const url = pathToFileURL(big).href;
        // Interactive: from navigation to the end of the last long task (over
        // 50 ms, when input waits) before the page settles, as Lighthouse's
        // time to interactive; the script's own end when there is none. The
        // median of three loads, asserted under the 1 s target: typical is
        // 0.2-0.4 s here, and the margin is for a machine loaded by other
        // tests (it measured 1.4 s under load before rows were made in slices).
        const interactive: number[] = [];
        for (let i = 0; i < 3; i++) {
          const probe = await context.newPage();
          await probe.addInitScript(() => {
            const g = globalThis as unknown as { longTaskEnds: number[] };
            g.longTaskEnds = [];
            new PerformanceObserver((list) => {
              for (const e of list.getEntries()) g.longTaskEnds.push(e.startTime + e.duration);
            }).observe({ type: "longtask", buffered: true });
          });
          await probe.goto(url);
          await probe.locator('html[data-rendered="true"]').waitFor({ state: "attached" });
          await probe.waitForTimeout(500);
          interactive.push(
            await probe.evaluate<number>(
              "Math.max(wiretestReport.readyMs, ...longTaskEnds.filter((t) => t < 5000))",
            ),
          );
          await probe.close();
        }
        interactive.sort((a, b) => a - b);
        assert.ok(interactive[1] < 1000, `interactive after ${interactive.join(", ")} ms`);
        const page = await context.newPage();
        const seen = watch(page, url);
        await page.goto(url);
        await page.locator('html[data-ready="true"]').waitFor({ state: "attached" });
        // Rows after the first screenful are made in slices after it.
        assert.equal(await page.evaluate<number>("wiretestReport.rowsAtReady"), 60);
        await page.locator('html[data-rendered="true"]').waitFor({ state: "attached" });
        assert.equal(await page.locator("details.fixture").count(), 1000);
        const readyMs = await page.evaluate<number>("wiretestReport.readyMs");
        // A search timed in the page, layout included.
        const searchMs = await page.evaluate<number>(`(() => {
          const started = performance.now();
          const input = document.getElementById("wt--search");
          input.value = "retried #199";
          input.dispatchEvent(new Event("input"));
          void document.body.offsetHeight;
          return performance.now() - started;
        })()`);
        assert.equal(await page.locator("details.fixture:not([hidden])").count(), 1);
        // A product target, reported, not asserted (timing depends on the machine).
        console.log(
          `1,000-fixture report: ${(size / 1024 / 1024).toFixed(2)} MiB, script done ${
            readyMs.toFixed(0)
          } ms after navigation, interactive after ${
            interactive.map((n) => n.toFixed(0)).join(", ")
          } ms, a search answered in ${searchMs.toFixed(0)} ms`,
        );
        await page.screenshot({ path: `${SHOTS}/many.png` });
        assert.deepEqual(seen.errors, []);
        assert.deepEqual(seen.requests, []);
        await page.close();
      });
      await context.close();
    } finally {
      await browser.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
