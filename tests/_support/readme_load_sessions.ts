// The `$ command` sessions of README's Load section: tests/readme_load_test.ts
// runs them, tests/readme_commands_test.ts counts them as run.
import { join } from "node:path";
import { ROOT } from "./deno_process.ts";

const README = await Deno.readTextFile(join(ROOT, "README.md"));
const SECTION = README.slice(README.indexOf("\n## Load\n"), README.indexOf("\n## Library\n"));

export interface Step {
  command: string;
  output: string[];
}

/** The `$ command` sessions of the Load section; readme_commands_test.ts counts them as run here. */
export function loadSessions(): Step[][] {
  const blocks = [...SECTION.matchAll(/^```text\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  return blocks.filter((b) => b.startsWith("$ ")).map((block) => {
    const steps: Step[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("$ ")) steps.push({ command: line.slice(2), output: [] });
      else if (line !== "") steps.at(-1)!.output.push(line);
    }
    return steps;
  });
}

/**
 * The fixture files of the Load section: `yaml` blocks whose first line is
 * `# <name>.wire.yaml`, that line kept, as a reader copying the block has it
 * (the locations README shows count it).
 */
export function loadFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (
    const [, name, body] of SECTION.matchAll(/^```yaml\n# ([\w.-]+\.wire\.yaml)\n([\s\S]*?)^```$/gm)
  ) {
    files[name] = `# ${name}\n${body}`;
  }
  return files;
}
