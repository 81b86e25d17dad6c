// Progress of a transfer, at most a few updates a second: an isolated role
// posts every update to its parent, and one per chunk would be thousands of
// messages per GiB, each a wake-up and a clone.
import type { Context } from "../../lib/plugin/mod.ts";

const INTERVAL_MS = 100;

/**
 * Returns a function that reports `done` bytes through `ctx.progress`, but
 * only every 100 ms, and always when `done` reaches `total` or `last` is set.
 */
export function byteProgress(
  ctx: Context,
  label: string,
  total?: number,
): (done: number, last?: boolean) => void {
  let next = 0;
  return (done, last = false) => {
    const now = performance.now();
    if (now < next && !last && done !== total) return;
    next = now + INTERVAL_MS;
    ctx.progress(
      total === undefined ? { done, unit: "bytes", label } : { done, total, unit: "bytes", label },
    );
  };
}
