// The demo: every example fixture in examples/fixtures run by the fixture
// runner, with the console reporter: each built-in plugin's server started
// on loopback, its client run against it, what must hold checked.
//
//   deno task demo
//
// The same as `deno task wiretest test examples/fixtures`.
import { fileURLToPath } from "node:url";
import { relative } from "node:path";
import { createReporter } from "../lib/report/create_reporter.ts";
import { runFixtures } from "../lib/runner/run.ts";

const fixtures = relative(Deno.cwd(), fileURLToPath(new URL("./fixtures", import.meta.url)));
const result = await runFixtures({
  paths: [fixtures || "."],
  reporters: [createReporter("console")],
});
Deno.exitCode = result.exitCode;
