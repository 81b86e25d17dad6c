// The HTML report's load charts when a run's last interval closes within the
// rounding of the second before it (a run's tail under 5 ms, as README's
// 1 s strict.wire.yaml often has): the series then has two rows at the same
// second, and the iterations line used to be drawn as nothing at all.
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";
import { ignoreWithout } from "./_support/peer.ts";
import { outputWithin } from "./_support/command.ts";
import { deno, MAIN } from "./_support/deno_process.ts";
import type { RunEvent } from "../lib/runner/events.ts";
import type { LoadSecond } from "../lib/load/types.ts";

const CHROMIUM = "chromium";

/** Pixels of one colour (within a few steps) on the canvas of the figure of `kind`. */
function pixelsOf(page: Page, kind: string, rgb: [number, number, number]): Promise<number> {
  return page.$eval(`figure[data-kind="${kind}"] canvas`, (canvas, rgb) => {
    // No DOM types in Deno: the canvas API as used here.
    const c = canvas as unknown as {
      width: number;
      height: number;
      getContext(kind: "2d"): { getImageData(...a: number[]): { data: Uint8ClampedArray } };
    };
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      const near = [0, 1, 2].every((k) => Math.abs(px[i + k] - rgb[k]) < 24);
      if (px[i + 3] > 200 && near) n++;
    }
    return n;
  }, rgb);
}

Deno.test({
  name:
    "the HTML report draws a 1 s load's iterations and latencies when its tail row shares the second",
  ignore: ignoreWithout(CHROMIUM),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wiretest-html-tail-" });
    try {
      await Deno.writeTextFile(
        `${dir}/short.wire.yaml`,
        `name: short load
services:
  echo: { plugin: echo }
steps:
  - plugin: echo
    with: { target: "\${services.echo.addr}" }
    load: { vus: 2, duration: 1s }
`,
      );
      const ran = await deno(
        ["run", "-A", MAIN, "test", dir, "--reporter", "jsonl", "--output", `${dir}/run.jsonl`],
        { timeoutMs: 90_000 },
      );
      assert.equal(ran.code, 0, ran.stdout + ran.stderr);
      const events: RunEvent[] = (await Deno.readTextFile(`${dir}/run.jsonl`)).trimEnd()
        .split("\n").map((line) => JSON.parse(line));
      const step = events.find((e) => e.type === "step-result") as unknown as {
        load: { series: LoadSecond[] };
      };
      const series = step.load.series;
      assert.ok(series[0].iterations > 0, JSON.stringify(series));
      // The tail row as the recorder writes it when it closes within 5 ms of
      // the first second (rounded to 10 ms: the same second).
      const tail = { ...series[0], iterations: 2, bytes: 20, errors: 0 };
      step.load.series = [series[0], { ...tail, second: series[0].second }];
      await Deno.writeTextFile(
        `${dir}/tail.jsonl`,
        events.map((e) => JSON.stringify(e)).join("\n") + "\n",
      );
      const made = await deno(
        ["run", "-A", MAIN, "report", "html", `${dir}/tail.jsonl`, "--output", `${dir}/r.html`],
        { timeoutMs: 60_000 },
      );
      assert.equal(made.code, 0, made.stderr);

      const browser = await chromium.launch({
        executablePath: (await outputWithin("sh", { args: ["-c", `command -v ${CHROMIUM}`] }))
          .stdout.trim(),
        args: ["--no-sandbox"],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        await page.emulateMedia({ colorScheme: "light" });
        await page.goto(pathToFileURL(`${dir}/r.html`).href);
        await page.locator("#short-load summary").click();
        for (const kind of ["load-rate", "load-latency"]) {
          const figure = page.locator(`figure[data-kind="${kind}"]`);
          await figure.scrollIntoViewIfNeeded();
          await page.locator(`figure[data-kind="${kind}"][data-drawn="true"]`)
            .waitFor({ state: "attached", timeout: 10_000 });
        }
        // Iterations in Okabe–Ito bluish green, p99 in reddish purple (p50
        // and p90 may lie under each other: a loopback echo's are close).
        const iterations = await pixelsOf(page, "load-rate", [0, 158, 115]);
        const p99 = await pixelsOf(page, "load-latency", [204, 121, 167]);
        assert.ok(iterations > 10, `iterations drawn: ${iterations} pixels`);
        assert.ok(p99 > 10, `p99 drawn: ${p99} pixels`);
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
