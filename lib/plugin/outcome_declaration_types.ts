/**
 * The types of an outcome declaration: what a client role's
 * `Outcome` may hold and what a server's `stats()` counts. The
 * checks are in `outcome_declaration.ts`; the types are apart so that the
 * contract in `types.ts` can name them without importing the checks.
 *
 * @module
 */
/** The JSON type of a fact (`"array"` and `"object"` have declared elements or keys). */
export type FactType = "string" | "number" | "boolean" | "null" | "object" | "array";

/** One metric of an outcome, or one counter of a server's `stats()`. */
export interface MetricDeclaration {
  /** The snake_case name, unit as suffix where it has one (`rtt_p99_ms`, `bytes_sent`). */
  readonly name: string;
  /** The unit: `"ms"`, `"bytes"`, `"count"`, `"%"`, `"MiB/s"`, `"1/s"`… */
  readonly unit: string;
  /** What it measures, in one sentence. */
  readonly description: string;
  /**
   * When it is present. Omitted: always — in every outcome with `ok: true`
   * (a failed exchange reports what it measured until then), or in every
   * `stats()` of a server.
   */
  readonly when?: string;
}

/**
 * One fact of an outcome, at a path: `name`, `a.b` for a key of an object,
 * `list[]` for every element of an array, `map.*` for any key of an object
 * whose keys come from the peer (`headers.*`). Every object and array on the
 * way is declared too (`tls` of type `object` before `tls.protocol`).
 */
export interface FactDeclaration {
  /** Where the fact is, e.g. `"tls.certificate.days_left"` or `"redirects[].status"`. */
  readonly path: string;
  /** Its JSON type, or the types it may have (`["string", "null"]`). */
  readonly type: FactType | readonly FactType[];
  /** What it says, in one sentence. */
  readonly description: string;
  /**
   * When it is present. Omitted: always — at the top level, in every outcome
   * with `ok: true`; below, whenever the object or element holding it is.
   */
  readonly when?: string;
}

/** Everything a client role's outcome may hold. */
export interface OutcomeDeclaration {
  /** Every metric the role may report. */
  readonly metrics: readonly MetricDeclaration[];
  /** Every fact the role may report, containers included. */
  readonly facts: readonly FactDeclaration[];
}
