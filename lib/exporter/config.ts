/**
 * The exporter's configuration: named modules, each a plugin client step
 * (plugin, params, timeout, expectations) that `/probe?module=…` runs
 * against the scrape's target. Read from YAML with every problem located
 * (`file:line:column`), like fixtures.
 *
 * @module
 */
import { compileExpectationParts } from "../fixture/expectation.ts";
import { FixtureError, FixtureErrors } from "../fixture/fixture_error.ts";
import { readYamlSource } from "../fixture/read_yaml_source.ts";
import type { Expectation, FixtureSource, PathSegment } from "../fixture/types.ts";
import { closestName } from "../_internal/closest.ts";
import { isRecord } from "../_internal/is_record.ts";
import { readDuration } from "../_internal/read_duration.ts";

/** One module: what `/probe?module=<name>&target=<target>` runs. */
export interface ExporterModule {
  /** The module's name, as `module=` gives it. */
  readonly name: string;
  /** The plugin whose client role probes. */
  readonly plugin: string;
  /** The param the scrape's target goes into (`target`, or `url` for http-probe). */
  readonly targetParam: string;
  /** Params besides the target. */
  readonly with: Readonly<Record<string, unknown>>;
  /** Milliseconds a probe may take at most (the scrape's own timeout may cut it shorter). */
  readonly timeoutMs?: number;
  /** Patterns a target must match one of, when given; otherwise any target. */
  readonly targets?: readonly RegExp[];
  /** The same patterns as the config writes them (unanchored), to name them. */
  readonly targetPatterns?: readonly string[];
  /** What must hold for `probe_success 1` besides `ok` (fixture expectation language). */
  readonly expect: readonly Expectation[];
  /** Where the module is written. */
  readonly location: { file: string; line: number; column: number };
}

/** A parsed exporter configuration. */
export interface ExporterConfig {
  /** Modules by name. */
  readonly modules: ReadonlyMap<string, ExporterModule>;
  /** Positions of the config's fields, to locate later problems (plugin params). */
  readonly source: FixtureSource;
}

/** A configuration that cannot be used: every problem, located. */
export class ExporterConfigError extends SyntaxError {
  /** Each problem, `file:line:column: detail`. */
  readonly problems: readonly string[];

  /**
   * Creates the error.
   *
   * @param file The config file.
   * @param problems Located problems.
   * @param options The cause.
   */
  constructor(file: string, problems: readonly string[], options: { cause?: unknown } = {}) {
    super(
      problems.length === 1
        // A located problem names the file already; another (unreadable) does not.
        ? problems[0].startsWith(`${file}:`)
          ? `Cannot load exporter config "${problems[0].replace(/: /, '": ')}`
          : `Cannot load exporter config "${file}": ${problems[0]}`
        : `Cannot load exporter config "${file}": ${problems.length} problems\n${
          problems.map((p) => `  ${p}`).join("\n")
        }`,
      options,
    );
    this.name = "ExporterConfigError";
    this.problems = problems;
  }
}

const MODULE_FIELDS = ["plugin", "with", "target", "timeout", "targets", "expect"];
const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * The `target` param a plugin's module fills by default: http-probe's is `url`.
 *
 * @param plugin The plugin's name.
 * @returns The param's name.
 */
export function defaultTargetParam(plugin: string): string {
  return plugin === "http-probe" ? "url" : "target";
}

/**
 * Parses an exporter configuration.
 *
 * @param text The YAML text.
 * @param file Its name, for messages.
 * @returns The configuration.
 * @throws {ExporterConfigError} Naming every problem with file, line and column.
 */
export function parseExporterConfig(text: string, file: string): ExporterConfig {
  const { config, problems } = readExporterConfig(text, file);
  if (problems.length > 0) throw fromFixtureErrors(file, problems);
  return config;
}

/** What {@linkcode readExporterConfig} makes of a config. */
export interface ReadExporterConfig {
  /** The well-formed modules. */
  readonly config: ExporterConfig;
  /** The problems found, located. */
  readonly problems: FixtureError[];
  /**
   * Modules with problems whose plugin, params and target param are still
   * readable: a caller checks their params too, so that a param's typo is
   * reported with the module's other problems, not once they are fixed.
   */
  readonly incomplete: readonly ExporterModule[];
}

/**
 * Parses what it can of an exporter configuration: the modules that are
 * well formed, and the problems of the rest, so that a caller checking more
 * (plugins, params) reports every problem in one pass.
 *
 * @param text The YAML text.
 * @param file Its name, for messages.
 * @returns The well-formed modules, the problems found, and the modules
 *   with problems whose params can still be checked.
 * @throws {ExporterConfigError} When the text is not YAML at all.
 */
export function readExporterConfig(text: string, file: string): ReadExporterConfig {
  let value: unknown;
  let source: FixtureSource;
  const problems: FixtureError[] = [];
  try {
    let repeated: readonly FixtureError[];
    ({ value, source, problems: repeated } = readYamlSource(text, file));
    problems.push(...repeated);
  } catch (error) {
    if (error instanceof FixtureErrors) throw fromFixtureErrors(file, error.errors, error);
    throw error;
  }
  const report = (path: PathSegment[], detail: string, key = false) =>
    problems.push(new FixtureError(source.locate(path, { key }), detail));
  const modules = new Map<string, ExporterModule>();
  const incomplete: ExporterModule[] = [];
  if (!isRecord(value)) {
    report([], 'the config must be a mapping with "modules"');
  } else {
    for (const key of Object.keys(value)) {
      if (key !== "modules") {
        report([key], `"${key}" is not a known field (expected "modules")`, true);
      }
    }
    if (!isRecord(value.modules)) {
      report(["modules"], '"modules" must be a mapping of module names to modules');
    } else {
      for (const [name, raw] of Object.entries(value.modules)) {
        const parsed = parseModule(name, raw, source, report, (e) => problems.push(e));
        if (parsed?.complete) modules.set(name, parsed.module);
        else if (parsed) incomplete.push(parsed.module);
      }
    }
  }
  return { config: { modules, source }, problems, incomplete };
}

function parseModule(
  name: string,
  raw: unknown,
  source: FixtureSource,
  report: (path: PathSegment[], detail: string, key?: boolean) => void,
  keep: (error: FixtureError) => void,
): { module: ExporterModule; complete: boolean } | undefined {
  const path: PathSegment[] = ["modules", name];
  const before = { count: 0 };
  const problem = (at: PathSegment[], detail: string, key = false) => {
    before.count++;
    report(at, detail, key);
  };
  if (!MODULE_NAME.test(name)) {
    problem(path, `"modules.${name}" is not a module name (letters, digits, "_", ".", "-")`, true);
  }
  if (!isRecord(raw)) {
    problem(path, `"modules.${name}" must be a mapping with "plugin"`);
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (!MODULE_FIELDS.includes(key)) {
      const suggestion = closestName(key, MODULE_FIELDS);
      problem(
        [...path, key],
        `"modules.${name}.${key}" is not a known field (${
          suggestion === undefined
            ? `expected one of ${MODULE_FIELDS.map((f) => `"${f}"`).join(", ")}`
            : `did you mean "${suggestion}"?`
        })`,
        true,
      );
    }
  }
  if (typeof raw.plugin !== "string" || raw.plugin === "") {
    problem([...path, "plugin"], `"modules.${name}.plugin" must name a plugin`);
  }
  const plugin = typeof raw.plugin === "string" ? raw.plugin : "";
  if (raw.with !== undefined && !isRecord(raw.with)) {
    problem([...path, "with"], `"modules.${name}.with" must be a mapping of params`);
  }
  if (raw.target !== undefined && (typeof raw.target !== "string" || raw.target === "")) {
    problem(
      [...path, "target"],
      `"modules.${name}.target" must name the param the target goes into`,
    );
  }
  const targetParam = typeof raw.target === "string" ? raw.target : defaultTargetParam(plugin);
  if (isRecord(raw.with) && Object.hasOwn(raw.with, targetParam)) {
    problem(
      [...path, "with", targetParam],
      `"modules.${name}.with.${targetParam}" cannot be set: the scrape's target goes there`,
      true,
    );
  }
  // A redirect is followed without asking the module: it could lead the
  // probe to any host, past the targets the module allows.
  if (
    plugin === "http-probe" && raw.targets !== undefined && isRecord(raw.with) &&
    raw.with.followRedirects === true
  ) {
    problem(
      [...path, "with", "followRedirects"],
      `"modules.${name}.with.followRedirects" cannot be true with "targets": a redirect could lead the probe to a target the module does not allow`,
    );
  }
  let timeoutMs: number | undefined;
  if (raw.timeout !== undefined) {
    const read = readDuration(raw.timeout, { positive: true });
    if (read.problem === undefined) timeoutMs = read.ms;
    else problem([...path, "timeout"], `"modules.${name}.timeout" ${read.problem}`);
  }
  let targets: RegExp[] | undefined;
  const targetPatterns: string[] = [];
  if (raw.targets !== undefined) {
    if (!Array.isArray(raw.targets) || raw.targets.length === 0) {
      problem([...path, "targets"], `"modules.${name}.targets" must be a list of patterns`);
    } else {
      targets = [];
      raw.targets.forEach((pattern, i) => {
        const field = `"modules.${name}.targets[${i}]"`;
        if (typeof pattern !== "string") {
          problem([...path, "targets", i], `${field} must be a string`);
          return;
        }
        try {
          // Checked alone first: `a)|(.*` is no pattern, though it would
          // compile inside the anchoring group (and allow every target).
          new RegExp(pattern, "u");
          // Anchored: a pattern names whole targets, not parts of them.
          targets!.push(new RegExp(`^(?:${pattern})$`, "u"));
          targetPatterns.push(pattern);
        } catch (error) {
          const prefix = `Invalid regular expression: /${pattern}/u: `;
          const message = (error as Error).message;
          const reason = message.startsWith(prefix) ? message.slice(prefix.length) : message;
          problem(
            [...path, "targets", i],
            `${field} has an invalid regular expression /${pattern}/: ${reason}`,
          );
        }
      });
    }
  }
  const expect: Expectation[] = [];
  if (raw.expect !== undefined) {
    if (!isRecord(raw.expect)) {
      problem([...path, "expect"], `"modules.${name}.expect" must be a mapping of outcome paths`);
    } else {
      for (const [key, value] of Object.entries(raw.expect)) {
        const keyPath = [...path, "expect", key];
        const compiled = compileExpectationParts(
          key,
          value,
          source.locate(keyPath, { key: true }),
          source.locator(keyPath),
        );
        // Already located, down to list items and `match:` inside the value.
        for (const p of compiled.problems) {
          before.count++;
          keep(p);
        }
        if (compiled.variables.length > 0) {
          problem(keyPath, `"modules.${name}.expect.${key}" cannot use variables in a module`);
        } else if (compiled.expectation) expect.push(compiled.expectation);
      }
    }
  }
  // With a problem elsewhere, the module is still returned when its params
  // can be checked: a plugin, params as a mapping, a target param.
  const checkable = plugin !== "" && (raw.with === undefined || isRecord(raw.with)) &&
    (raw.target === undefined || (typeof raw.target === "string" && raw.target !== ""));
  if (before.count > 0 && !checkable) return undefined;
  const at = source.locate(path, { key: true });
  const module: ExporterModule = {
    name,
    plugin,
    targetParam,
    with: isRecord(raw.with) ? { ...raw.with } : {},
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(targets === undefined ? {} : { targets, targetPatterns }),
    expect,
    location: { file: at.file, line: at.line, column: at.column },
  };
  return { module, complete: before.count === 0 };
}

/**
 * Turns fixture-style located errors into the config's error.
 *
 * @param file The config file.
 * @param errors Located problems.
 * @param cause What was thrown.
 * @returns The error.
 */
export function fromFixtureErrors(
  file: string,
  errors: readonly FixtureError[],
  cause?: unknown,
): ExporterConfigError {
  const sorted = [...errors].sort((a, b) => (a.line - b.line) || (a.column - b.column));
  return new ExporterConfigError(
    file,
    sorted.map((e) => `${e.file}:${e.line}:${e.column}: ${e.detail}`),
    cause === undefined ? {} : { cause },
  );
}
