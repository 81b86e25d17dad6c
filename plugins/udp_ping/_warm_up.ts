// The client's warm-up: `warmUp` untimed pings to the target, from the
// socket the timed pings leave from, before the first timed one, so that
// first-use costs (the code path's compilation, the kernel's route and
// neighbour entries, a firewall's connection entry, the peer's own first
// packets) are not timed. sockperf does the same with its warm-up phase.
//
// Each carries the warm-up magic ("WTUW", _packet.ts) and a number of its
// own, so its echo is never taken for a timed ping's, however late it comes;
// the udp-ping server counts such datagrams apart (`warm_up_in`). One is
// outstanding at a time, each waited for up to `timeoutMs` but at most
// WARM_UP_WAIT_MAX_MS; the first that gets no echo in time ends the warm-up
// (a dead or lossy peer costs one wait, not `warmUp` of them), as does a
// failed send. Warm-up pings are in no metric, nor is anything else that
// arrives during the warm-up (the metrics describe the timed pings): only
// the `warm_up` fact counts them.

/** Warm-up pings by default: enough for the first-use costs, few enough to be quick on a slow path. */
export const WARM_UP_DEFAULT = 5;
/** Most warm-up pings a run may ask for. */
export const WARM_UP_MAX = 1000;
/** Longest wait for one warm-up ping's echo, in milliseconds. */
export const WARM_UP_WAIT_MAX_MS = 1000;

/** How long one warm-up ping is waited for, given the run's `timeoutMs`. */
export function warmUpWaitMs(timeoutMs: number): number {
  return Math.min(timeoutMs, WARM_UP_WAIT_MAX_MS);
}
