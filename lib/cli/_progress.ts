// A progress bar on stderr for long operations (file transfers, many
// pings), drawn by cli-progress; nothing at all when stderr is not a
// terminal, so piped output and CI logs stay clean (and cli-progress is not
// even imported: it takes about 20 ms, most of a one-shot command's budget).
import type cliProgress from "cli-progress";
import type { Progress } from "../plugin/types.ts";

const MIB = 1024 * 1024;

/** A progress sink and a function that finishes the bar. */
export interface ProgressDisplay {
  update(progress: Progress): void;
  stop(): void;
}

/** Creates the display: a bar with rate and ETA on a TTY, nothing otherwise. */
export async function progressDisplay(
  isTerminal: boolean = Deno.stderr.isTerminal(),
): Promise<ProgressDisplay> {
  if (!isTerminal) return { update: () => {}, stop: () => {} };
  const { default: bars } = await import("cli-progress");
  let bar: cliProgress.SingleBar | undefined;
  let started = 0;
  return {
    update(p) {
      const bytes = p.unit === "bytes";
      const total = p.total ?? 0;
      if (!bar) {
        started = performance.now();
        bar = new bars.SingleBar({
          format: `${
            p.label ? `${p.label} ` : ""
          }{bar} {percentage}% | {done} | {rate} | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
          fps: 10,
          stream: process.stderr,
        }, bars.Presets.shades_classic);
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
