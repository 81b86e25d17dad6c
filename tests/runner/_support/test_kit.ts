/**
 * A client-only plugin for the runner's tests, for behaviour no network
 * peer gives deterministically: an outcome that is not ok for the first
 * `failTimes` runs with the same `key` (retries), a wait that honours
 * cancellation, the params it got, back as facts (interpolation), and a
 * file read its manifest does not permit (isolation).
 *
 * @module
 */
import { definePlugin } from "../../../lib/plugin/define_plugin.ts";
import type { Context, Outcome, Plugin } from "../../../lib/plugin/types.ts";
import { z } from "zod";

/** Client params after defaults. */
export interface TestKitParams {
  /** Runs with the same key share a counter. */
  key: string;
  /** Runs (per key) whose outcome is not ok. */
  failTimes: number;
  /** Milliseconds to wait before answering (cut short by cancellation). */
  waitMs: number;
  /** Anything, reported back as `facts.echo`. */
  echo?: unknown;
  /** A file to read, its text reported as `facts.text`. */
  readFile?: string;
}

const runs = new Map<string, number>();

function wait(ms: number, ctx: Context): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", abort);
    };
    const abort = () => {
      done();
      reject(ctx.signal.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    if (ctx.signal.aborted) abort();
    else ctx.signal.addEventListener("abort", abort, { once: true });
  });
}

async function run(params: TestKitParams, ctx: Context): Promise<Outcome> {
  const attempt = (runs.get(params.key) ?? 0) + 1;
  runs.set(params.key, attempt);
  await wait(params.waitMs, ctx);
  const facts: Record<string, unknown> = params.echo === undefined ? {} : { echo: params.echo };
  if (params.readFile !== undefined) facts.text = await Deno.readTextFile(params.readFile);
  return attempt <= params.failTimes
    ? {
      ok: false,
      metrics: { attempt },
      facts,
      error: { name: "Error", message: `run ${attempt} of "${params.key}" fails on purpose` },
    }
    : { ok: true, metrics: { attempt }, facts };
}

const testKit: Plugin<never, TestKitParams> = definePlugin<never, TestKitParams>({
  name: "test-kit",
  version: "1.0.0",
  description:
    "A client for runner tests: fails its first attempts, waits, and reports its params.",
  client: {
    params: z.object({
      key: z.string().min(1).default("default"),
      failTimes: z.number().int().min(0).default(0),
      waitMs: z.number().int().min(0).default(0),
      echo: z.unknown().optional(),
      readFile: z.string().optional(),
    }).strict(),
    run,
  },
});
export default testKit;
