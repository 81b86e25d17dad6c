// How many error types a load run counts apart, and how long each may be.

/**
 * Most error types a run counts apart; further types are counted together
 * under {@linkcode OTHER_ERROR_TYPE}. The types come from the plugin and
 * through it from peers (a Redis error reply's first word): a peer naming
 * each failure anew must not grow the report without bound.
 */
export const MAX_ERROR_TYPES = 100;
/** Where the error types past {@linkcode MAX_ERROR_TYPES} are counted. */
export const OTHER_ERROR_TYPE = "(other types)";
/** Longest error type kept, in characters; a longer one is cut and marked with "…". */
export const MAX_ERROR_TYPE_LENGTH = 80;
