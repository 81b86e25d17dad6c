// Case `index` of a strategy under a seed: the one place that turns the two
// numbers a failure reports back into the fixture text that failed.
import { ADVERSARIAL } from "./_adversarial.ts";
import { type FuzzText, generatedText, type PluginShapes } from "./_generate.ts";
import { mutated } from "./_mutate.ts";
import { caseRandom } from "./_random.ts";

/** How cases are made. */
export type Strategy = "generate" | "mutate" | "adversarial";

/** What cases are made from. */
export interface Corpus {
  /** The built-in plugins' params. */
  shapes: PluginShapes;
  /** Real fixture files to mutate, by name. */
  bases: readonly { name: string; text: string }[];
}

/** A case: the text and how it was made. */
export interface FuzzCase extends FuzzText {
  /** How it was made, for failure messages. */
  label: string;
}

const ROOT = new URL("../../", import.meta.url);
const BASE_DIRS = ["examples/fixtures/", "tests/data/fixture_parse/"];

/** Reads the example fixtures and the parse test data, in a fixed order. */
export async function readBases(): Promise<{ name: string; text: string }[]> {
  const bases: { name: string; text: string }[] = [];
  for (const dir of BASE_DIRS) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      if (entry.isFile && /\.wire\.(?:ya?ml|json)$/.test(entry.name)) names.push(entry.name);
    }
    for (const name of names.sort()) {
      bases.push({ name: dir + name, text: await Deno.readTextFile(new URL(dir + name, ROOT)) });
    }
  }
  return bases;
}

/** The number of cases a strategy has when asked for `count` (adversarial ones are a fixed list). */
export function caseCount(strategy: Strategy, count: number): number {
  return strategy === "adversarial" ? ADVERSARIAL.length : count;
}

/** Builds case `index` of `strategy` under `seed`. */
export function buildCase(
  strategy: Strategy,
  seed: number,
  index: number,
  corpus: Corpus,
): FuzzCase {
  if (strategy === "adversarial") {
    const { label, make } = ADVERSARIAL[index];
    return { ...make(), label };
  }
  // Mixing the strategy in keeps the two streams apart under one seed.
  const r = caseRandom(strategy === "generate" ? seed : seed ^ 0x5bd1e995, index);
  if (strategy === "generate") return { ...generatedText(r, corpus.shapes), label: "generated" };
  const base = corpus.bases[r.int(corpus.bases.length)];
  return {
    text: mutated(base.text, r),
    ext: base.name.endsWith(".json") ? "json" : "yaml",
    label: `mutated ${base.name}`,
  };
}
