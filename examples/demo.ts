// The demo: every example fixture in examples/fixtures run by the fixture
// runner, with the console reporter: each built-in plugin's server started
// on loopback, its client run against it, what must hold checked.
//
//   deno task demo
//
// The same as `deno task wiretest test examples/fixtures --reporter console
// --reporter html --output reports/demo.html`: the run is also written as an
// HTML report to open in a browser, reports/demo.html (in the checkout).
import { fileURLToPath } from "node:url";
import { relative } from "node:path";
import { createReporter } from "../lib/report/create_reporter.ts";
import { htmlReporter } from "../lib/report/html_reporter.ts";
import { runFixtures } from "../lib/runner/run.ts";

const reports = fileURLToPath(new URL("../reports/", import.meta.url));
await Deno.mkdir(reports, { recursive: true });
const fixtures = relative(Deno.cwd(), fileURLToPath(new URL("./fixtures", import.meta.url)));
const result = await runFixtures({
  paths: [fixtures || "."],
  reporters: [
    createReporter("console"),
    htmlReporter((html) => Deno.writeTextFileSync(`${reports}demo.html`, html)),
  ],
});
Deno.exitCode = result.exitCode;
