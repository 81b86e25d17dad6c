// The metric and fact reference (REFERENCE.md) as Markdown, written from
// what each plugin's roles declare. The text is already as `deno fmt` writes
// Markdown (prose filled to 100 columns, table columns padded), so the
// generated file passes `deno fmt --check` as it is.
import type { PluginDescription } from "../plugin/isolation.ts";
import type { FactDeclaration, MetricDeclaration } from "../plugin/outcome_declaration.ts";

const WIDTH = 100;

/** Client commands by plugin name, for the headings (`probe` for http-probe). */
export type CommandNames = Readonly<Record<string, string>>;

const INTRO = [
  "# Metrics and facts",
  "",
  fill(
    "Every metric and fact each plugin reports, written by `deno task reference` (`wiretest " +
      "reference`) from the plugins' own declarations: do not edit by hand. A test checks that " +
      "this file is what the declarations say, and that real runs of every role report exactly " +
      "what is declared.",
  ),
  "",
  bullet(
    "In a fixture, `expect` names a metric `metrics.<name>` and a fact `facts.<path>`: " +
      "`metrics.rtt_p99_ms`, `facts.tls.certificate.days_left`. In a path, `[]` stands for any " +
      'element of a list (`facts.redirects[0].status`) and `*` for any key (`facts.headers["content-type"]`).',
  ),
  bullet(
    "**when**: _always_ means in every outcome with `ok: true`; a fact inside another is there " +
      "whenever the one holding it is. A failed outcome (`ok: false`) holds what was measured " +
      "before the failure, so it may lack some.",
  ),
  bullet(
    "Metrics are numbers, their unit in the name. `wiretest <command> --json` prints a whole " +
      "outcome.",
  ),
  bullet(
    "Server stats are the counters of a running server role: `wiretest serve` prints them when " +
      "it stops.",
  ),
  "",
].join("\n");

/**
 * Writes the reference for these plugins, in the order given.
 *
 * @param plugins Their descriptions (with the declarations of their roles).
 * @param commands The CLI command of each plugin's client role, when it has a short one.
 */
export function referenceMarkdown(
  plugins: readonly PluginDescription[],
  commands: CommandNames = {},
): string {
  const parts = [INTRO];
  for (const plugin of plugins) {
    parts.push(`## ${plugin.name}\n\n${fill(plugin.description)}\n`);
    if (plugin.client) {
      const command = commands[plugin.name] ?? `run ${plugin.name}`;
      parts.push(`### Client outcome (\`wiretest ${command}\`)\n`);
      const outcome = plugin.client.outcome;
      if (!outcome) {
        parts.push("Not declared.\n");
      } else {
        parts.push(metricTable("metric", outcome.metrics));
        parts.push(factTable(outcome.facts));
      }
      parts.push(`### Load iteration (\`wiretest load ${plugin.name}\`)\n`);
      parts.push(
        plugin.client.session
          ? `${fill(plugin.client.iteration ?? "Not declared.")}\n`
          : "One whole client run (the role has no `session` hook: nothing is kept between iterations).\n",
      );
    }
    if (plugin.server) {
      parts.push(`### Server stats (\`wiretest serve ${plugin.name}\`)\n`);
      const stats = plugin.server.stats;
      parts.push(stats ? metricTable("stat", stats) : "Not declared.\n");
    }
  }
  return parts.join("\n");
}

function metricTable(kind: string, metrics: readonly MetricDeclaration[]): string {
  return table(
    [kind, "unit", "when", "meaning"],
    metrics.map((m) => [`\`${m.name}\``, m.unit, m.when ?? "always", m.description]),
  );
}

function factTable(facts: readonly FactDeclaration[]): string {
  if (facts.length === 0) return "No facts.\n";
  return table(
    ["fact", "type", "when", "meaning"],
    facts.map((f) => [
      `\`${f.path}\``,
      typeof f.type === "string" ? f.type : f.type.join(" or "),
      f.when ?? "always",
      f.description,
    ]),
  );
}

function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((row) => row.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n") + "\n";
}

// A table cell: one line, its pipes escaped.
function cell(text: string): string {
  return text.replace(/\s+/g, " ").replaceAll("|", "\\|");
}

// Fills prose to the width as `deno fmt` does: as many words per line as fit.
function fill(text: string, first = "", rest = ""): string {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = rest + word;
    } else {
      line += empty ? word : ` ${word}`;
    }
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}

function bullet(text: string): string {
  return fill(text, "- ", "  ");
}
