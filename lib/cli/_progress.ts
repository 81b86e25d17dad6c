// A progress bar on stderr for long operations (file transfers, many
// pings), drawn by cli-progress; nothing at all when stderr is not a
// terminal, so piped output and CI logs stay clean.
import cliProgress from "cli-progress";
import type { Progress } from "../plugin/types.ts";

const MIB = 1024 * 1024;

/** A progress sink and a function that finishes the bar. */
export interface ProgressDisplay {
  update(progress: Progress): void;
  stop(): void;
}

/** Creates the display: a bar with rate and ETA on a TTY, nothing otherwise. */
export function progressDisplay(isTerminal: boolean = Deno.stderr.isTerminal()): ProgressDisplay {
  if (!isTerminal) return { update: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  let started = 0;
  return {
    update(p) {
      const bytes = p.unit === "bytes";
      const total = p.total ?? 0;
      if (!bar) {
        started = performance.now();
        bar = new cliProgress.SingleBar({
          format: `${
            p.label ? `${p.label} ` : ""
          }{bar} {percentage}% | {done} | {rate} | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
          fps: 10,
          stream: process.stderr,
        }, cliProgress.Presets.shades_classic);
        bar.start(total, 0, { done: "", rate: "" });
      }
      const seconds = Math.max((performance.now() - started) / 1000, 1e-3);
      const done = bytes
        ? `${(p.done / MIB).toFixed(1)}/${(total / MIB).toFixed(1)} MiB`
        : `${p.done}/${total} ${p.unit}`;
      const rate = bytes
        ? `${(p.done / MIB / seconds).toFixed(1)} MiB/s`
        : `${(p.done / seconds).toFixed(0)} ${p.unit}/s`;
      if (total !== bar.getTotal()) bar.setTotal(total);
      bar.update(p.done, { done, rate });
    },
    stop() {
      bar?.stop();
    },
  };
}
