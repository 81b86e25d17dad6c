// The names a role declares it reports, for `--help`: people see what
// `--json` will hold and where the units and meanings are.
import type { ClientRoleDescription, RoleDescription } from "../plugin/isolation.ts";
import { factPathSteps } from "../plugin/outcome_declaration.ts";

const WIDTH = 80;
const WHERE = "units and meanings: wiretest reference";

/** The client role's metric and (top-level) fact names; empty when it declares none. */
export function outcomeHelp(role: ClientRoleDescription): string {
  if (!role.outcome) return "";
  const facts = role.outcome.facts.map((f) => f.path).filter((p) => factPathSteps(p).length === 1);
  return `\n\nOutcome (--json; ${WHERE}):\n` +
    names("metrics: ", role.outcome.metrics.map((m) => m.name)) + "\n" +
    names("facts:   ", facts);
}

/** The server role's stats names; empty when it declares none. */
export function statsHelp(role: RoleDescription): string {
  if (!role.stats) return "";
  return `\n\nStats (printed when it stops; ${WHERE}):\n` +
    names("", role.stats.map((s) => s.name));
}

// "  metrics: a, b, c," filled to the width, continued under the first name.
function names(label: string, list: readonly string[]): string {
  const indent = " ".repeat(2 + label.length);
  const lines: string[] = [];
  let line = `  ${label}`;
  list.forEach((name, i) => {
    const word = i < list.length - 1 ? `${name},` : name;
    if (line.length > indent.length && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent + word;
    } else {
      line += line.length > indent.length ? ` ${word}` : word;
    }
  });
  lines.push(line);
  return lines.join("\n");
}
