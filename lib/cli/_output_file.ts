// Files the CLI writes because a flag names them (--output, --hdr-log): a
// path no file can be written to is a usage error, said in one line with the
// path quoted short and why in words, not the operating system's.
import { inputFileProblem, quotePath } from "../_internal/input_file_error.ts";
import { UsageError } from "./_flags.ts";

/** The usage error for `path`, named by `flag`, that could not be written. */
export function outputFileError(flag: string, path: string, error: unknown): UsageError {
  const problem = inputFileProblem(path, error);
  const words: Record<string, string> = {
    "not-found": "its folder does not exist",
    "is-directory": "it is a directory",
    "denied": "permission denied",
    "name-too-long": "the name is too long (Linux allows 255 bytes per name and 4,095 per path)",
    "symlink-loop": "its symbolic links form a loop",
    "invalid-name": path === "" ? "the path is empty" : "the path contains a NUL character",
  };
  const detail = problem === undefined
    ? (error as Error)?.message ?? String(error)
    : problem.detail ?? words[problem.code] ?? problem.code;
  return new UsageError(`Cannot write ${flag} ${quotePath(path)}: ${detail}`, { cause: error });
}

/**
 * `--output -` means standard output, as for curl, tar and most Unix tools:
 * a file really named "-" is still reachable as `./-`.
 */
export const STDOUT_PATH = "-";

/** Refuses before anything runs a path no file can have (empty, or with a NUL). */
export function checkOutputPath(flag: string, path: string): void {
  if (path === "" || path.includes("\0")) throw outputFileError(flag, path, undefined);
}
