/**
 * What isolating plugins in Workers costs, for the echo plugin: start-up
 * (importing the plugin and running the first step) and per step (many small
 * echo steps), in-process (`runClient`) against isolated
 * (`runIsolatedClient` with a pool of warm Workers), printed as ratios. Also
 * the per-step cost without a pool (a new Worker for every step), which is
 * what the pool saves.
 *
 * Both sides talk to the same small echo peer written here with Deno's own
 * API, so only the client side differs. Rounds alternate between the two
 * sides to spread the noise of a busy machine over both.
 *
 * Run: `deno run -A bench/isolation_overhead.ts [steps]` (default 200 steps).
 *
 * @module
 */
import { runClient } from "../lib/plugin/mod.ts";
import { IsolationPool, runIsolatedClient } from "../lib/plugin/isolation.ts";
import { builtinRegistry } from "../plugins/manifest.ts";

/** What {@linkcode measureIsolationOverhead} measured, in milliseconds. */
export interface IsolationOverhead {
  /** Steps measured on each side. */
  steps: number;
  /** Importing the plugin in-process and running its first step. */
  startupInProcessMs: number;
  /** Starting a Worker (importing the plugin there) and running the first step. */
  startupIsolatedMs: number;
  /** Mean time of one step in-process. */
  stepInProcessMs: number;
  /** Mean time of one step isolated, reusing a warm Worker. */
  stepIsolatedMs: number;
  /** Mean time of one step isolated without a pool: a new Worker each time. */
  stepUnpooledMs: number;
}

/** Options for {@linkcode measureIsolationOverhead}. */
export interface IsolationOverheadOptions {
  /** Echo steps (one small round trip each) per side (default 200). */
  steps?: number;
  /** Steps run with a new Worker each (default 10). */
  unpooledSteps?: number;
  /** Rounds the steps are split into, alternating sides (default 4). */
  rounds?: number;
}

/**
 * Measures start-up and per-step cost of isolation for the echo plugin.
 *
 * @param options Number of steps and rounds.
 * @returns The timings.
 */
export async function measureIsolationOverhead(
  options: IsolationOverheadOptions = {},
): Promise<IsolationOverhead> {
  const steps = options.steps ?? 200;
  const rounds = options.rounds ?? 4;
  const unpooledSteps = options.unpooledSteps ?? 10;
  await using peer = echoPeer();
  const params = { target: peer.target, payload: "ping", count: 1 };
  const registry = builtinRegistry();
  const entry = registry.get("echo");
  await using pool = new IsolationPool();

  let t = performance.now();
  const plugin = await registry.load("echo");
  check(await runClient(plugin, params));
  const startupInProcessMs = performance.now() - t;

  t = performance.now();
  check(await runIsolatedClient(entry, params, { pool }));
  const startupIsolatedMs = performance.now() - t;

  let inProcess = 0;
  let isolated = 0;
  const perRound = Math.ceil(steps / rounds);
  for (let round = 0; round < rounds; round++) {
    t = performance.now();
    for (let i = 0; i < perRound; i++) check(await runClient(plugin, params));
    inProcess += performance.now() - t;
    t = performance.now();
    for (let i = 0; i < perRound; i++) check(await runIsolatedClient(entry, params, { pool }));
    isolated += performance.now() - t;
  }

  t = performance.now();
  for (let i = 0; i < unpooledSteps; i++) check(await runIsolatedClient(entry, params));
  const unpooled = performance.now() - t;

  const measured = perRound * rounds;
  return {
    steps: measured,
    startupInProcessMs,
    startupIsolatedMs,
    stepInProcessMs: inProcess / measured,
    stepIsolatedMs: isolated / measured,
    stepUnpooledMs: unpooled / unpooledSteps,
  };
}

/**
 * Formats the timings as a small table with ratios.
 *
 * @param m The timings.
 * @returns Lines for a terminal.
 */
export function formatIsolationOverhead(m: IsolationOverhead): string {
  const ms = (n: number) => `${n.toFixed(n < 10 ? 3 : 1)} ms`.padStart(11);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(8);
  return [
    `isolation overhead, echo plugin, ${m.steps} steps of one small round trip`,
    `                     in-process     isolated    ratio`,
    `start-up           ${ms(m.startupInProcessMs)}  ${ms(m.startupIsolatedMs)} ${
      ratio(m.startupIsolatedMs, m.startupInProcessMs)
    }`,
    `per step (pool)    ${ms(m.stepInProcessMs)}  ${ms(m.stepIsolatedMs)} ${
      ratio(m.stepIsolatedMs, m.stepInProcessMs)
    }   (+${(m.stepIsolatedMs - m.stepInProcessMs).toFixed(3)} ms a step)`,
    `per step (no pool) ${ms(m.stepInProcessMs)}  ${ms(m.stepUnpooledMs)} ${
      ratio(m.stepUnpooledMs, m.stepInProcessMs)
    }   (a new Worker every step)`,
  ].join("\n");
}

function check(outcome: { ok: boolean; error?: { message: string } }): void {
  if (!outcome.ok) {
    throw new Error(`Cannot measure isolation: a step failed: ${outcome.error?.message}`);
  }
}

/** A TCP echo peer on loopback, independent of the plugin being measured. */
function echoPeer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Promise<void>>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const piping = conn.readable.pipeTo(conn.writable).catch(() => {});
        conns.add(piping);
        piping.finally(() => conns.delete(piping));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  })();
  return {
    target: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.all(conns);
    },
  };
}

if (import.meta.main) {
  const steps = Number(Deno.args[0] ?? 200);
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(
      `Cannot measure isolation: steps "${Deno.args[0]}" is not a positive integer`,
    );
  }
  console.log(formatIsolationOverhead(await measureIsolationOverhead({ steps })));
}
