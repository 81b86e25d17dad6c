// Runs a range of fuzz cases in a Worker, so the test can terminate it when
// a case hangs (a synchronous loop cannot be interrupted any other way).
// Reports after every case; the test treats silence as a hang.
import { buildCase, type Corpus, readBases, type Strategy } from "./_cases.ts";
import { checkCase } from "./_check.ts";
import { pluginShapes } from "./_generate.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";

/** What the test asks the worker to run. */
export interface WorkerJob {
  strategy: Strategy;
  seed: number;
  /** Case indices to run. */
  indices: number[];
  /** A directory of its own to write case files in. */
  dir: string;
}

/** What the worker reports. */
export type WorkerReport =
  | { kind: "ready" }
  | { kind: "start"; index: number; bytes: number }
  | { kind: "case"; index: number; ms: number; parsed: boolean; ready: boolean; label: string }
  | { kind: "fail"; index: number; ms: number; label: string; message: string; excerpt: string }
  | { kind: "done" };

const self = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerJob>) => void) | null;
  postMessage(report: WorkerReport): void;
  close(): void;
};

self.onmessage = async (event) => {
  self.onmessage = null;
  const job = event.data;
  const registry = builtinRegistry();
  // Import every plugin now, so the first case is not charged for it.
  for (const entry of registry.list()) await registry.load(entry.name);
  const corpus: Corpus = { shapes: await pluginShapes(registry), bases: await readBases() };
  self.postMessage({ kind: "ready" });
  for (const index of job.indices) {
    const started = performance.now();
    let label: string = job.strategy;
    let text = "";
    try {
      const kase = buildCase(job.strategy, job.seed, index, corpus);
      label = kase.label;
      text = kase.text;
      self.postMessage({ kind: "start", index, bytes: text.length });
      // A new file each time: rewriting one file makes ext4 flush it (2 ms a case).
      const file = `${job.dir}/case_${index}.wire.${kase.ext}`;
      let verdict;
      try {
        verdict = await checkCase(kase, file, registry);
      } finally {
        await Deno.remove(file).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        });
      }
      const ms = performance.now() - started;
      self.postMessage({ kind: "case", index, ms, label, ...verdict });
    } catch (error) {
      self.postMessage({
        kind: "fail",
        index,
        ms: performance.now() - started,
        label,
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        excerpt: JSON.stringify(text.length > 400 ? `${text.slice(0, 400)}…` : text),
      });
    }
  }
  self.postMessage({ kind: "done" });
};
