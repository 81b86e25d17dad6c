// The CLI's usage error, apart from _flags.ts so the entry point's early
// steps (_plugin_args.ts) can throw it without loading the flag parser.

/** Thrown for bad command lines; the CLI prints it and exits with 2. */
export class UsageError extends TypeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}
