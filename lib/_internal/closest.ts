/**
 * "Did you mean…?": the closest known name by edit distance, for plugin names,
 * params, variables and flags alike.
 *
 * @module
 */

const MAX_SUGGESTED_LENGTH = 256;

/**
 * Levenshtein distance: insertions, deletions and substitutions needed to
 * turn `a` into `b`.
 *
 * @param a One word.
 * @param b The other.
 * @returns The number of single-character edits.
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The known name closest to `name`, when it is close enough to be a typo:
 * at most a third of the name's length in edits (at least 2).
 *
 * @param name What was asked for.
 * @param known The names that exist.
 * @returns The suggestion, or `undefined` when nothing is close.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  // No name worth suggesting is this long; the distance is O(n·m) per candidate.
  if (name.length > MAX_SUGGESTED_LENGTH) return undefined;
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    // The distance is at least the difference in length: skip what cannot be close.
    if (Math.abs(candidate.length - name.length) > limit) continue;
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}
