// Runs one fixture through the runner (runFixtures, isolated) and prints each
// step's outcome as a JSON line: the sandbox tests run it on a terminal.
import { ofType, runCollecting } from "../../runner/_support/run.ts";

const run = await runCollecting({ paths: [Deno.args[0]], isolation: true });
for (const step of ofType(run.events, "step-result")) console.log(JSON.stringify(step.outcome));
