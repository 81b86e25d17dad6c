// A params error from a command line names what the user typed: the flag
// (`--max-redirects`) or the positional (`<url>`), not the schema's key
// (`"maxRedirects"`), which the user never saw.
import { ParamsError, type ParamsIssue } from "../plugin/params_schema.ts";
import type { FlagSpec } from "./_flags.ts";

/** Where an issue's param came from on the command line, e.g. `--count` or `<target>`. */
function typedName(
  path: readonly (string | number)[],
  specs: readonly FlagSpec[],
  positionals: readonly string[],
): string | undefined {
  const [param, ...rest] = path;
  if (typeof param !== "string") return undefined;
  let name: string;
  if (positionals.includes(param)) name = `<${param}>`;
  else {
    const spec = specs.find((s) => s.param === param);
    if (spec === undefined) return undefined;
    name = `--${spec.flag}`;
  }
  // Inside a JSON-valued flag: which part of its value.
  return rest.length === 0 ? name : `${name} (at "${rest.join(".")}")`;
}

/**
 * The same error with each issue named by its flag or positional. Anything
 * else (not a params error, a message of another shape) is returned as it is.
 *
 * @param error What preparing the role threw.
 * @param label What the params were for, as the executor wrote it: `plugin "echo" (client)`.
 */
export function namedByFlags(
  error: unknown,
  label: string,
  specs: readonly FlagSpec[],
  positionals: readonly string[],
): unknown {
  if (!(error instanceof ParamsError) || error.issues.length === 0) return error;
  const prefix = `Cannot use params for ${label}: `;
  if (!error.message.startsWith(prefix)) return error;
  const detail = error.issues.map((issue: ParamsIssue) => {
    const name = typedName(issue.path, specs, positionals) ??
      `"${issue.path.length ? issue.path.join(".") : "(params)"}"`;
    return `${name} ${issue.message}`;
  }).join("; ");
  return new ParamsError(`${prefix}${detail}`, { issues: error.issues, cause: error });
}
