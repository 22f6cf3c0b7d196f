import { readFileSync } from "node:fs";
import { pairMode, tableMode, type BuildOptions } from "../schemas/build-options.js";
import type { Drop } from "../schemas/drop.js";
import type { Row } from "../schemas/program.js";
import { NORMALISER_PATH, type Normalised, NormaliserPool } from "../pipeline/cleaner/cleaner-pool.js";
import { sha256 } from "../pipeline/common/sha256.js";
import { defineStage, type StageContext, type StageOutput } from "../pipeline/engine/stage.js";
import { LshIndex, minhash } from "../pipeline/dedup/minhash-lsh.js";
import { NormalisedCache } from "../pipeline/store/normalised-cache.js";
import { stableOrder } from "./dedup.js";

export const NORMALISER_HASH = sha256(readFileSync(NORMALISER_PATH));
const SHINGLE = 5;

/** A program's token 5-grams; a program under 5 tokens is its own set of 1-grams. */
export function shingles(tokens: string[]): Set<string> {
  if (tokens.length < SHINGLE) return new Set(tokens);
  const set = new Set<string>();
  for (let i = 0; i + SHINGLE <= tokens.length; i++) set.add(tokens.slice(i, i + SHINGLE).join("\u0001"));
  return set;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const s of small) if (large.has(s)) shared++;
  const union = a.size + b.size - shared;
  return union === 0 ? 1 : shared / union;
}

/** Each distinct code's normalised tokens (null when it does not parse), cached by content. */
export async function normalisedTokens(params: { codes: string[]; context: StageContext }): Promise<Map<string, string[] | null>> {
  const { context } = params;
  const cache = new NormalisedCache({ cacheDir: context.cacheDir, normaliser: NORMALISER_HASH, fresh: context.fresh });
  const answers = new Map<string, Normalised>();
  const missing = [...new Set(params.codes)].filter((code) => {
    const found = cache.get(code);
    if (found) answers.set(code, found);
    return !found;
  });
  if (missing.length) {
    const pool = context.normaliser ?? new NormaliserPool({ processes: 1 });
    try {
      const fresh = await Promise.all(missing.map(async (code) => [code, await pool.ask(code)] as [string, Normalised]));
      for (const [code, answer] of fresh) answers.set(code, answer);
      await cache.put(fresh);
    } finally {
      if (!context.normaliser) await pool.close();
    }
  }
  return new Map([...answers].map(([code, answer]) => [code, "tokens" in answer ? answer.tokens : null]));
}

/** The first of `among` whose similarity to `set` is at or above the threshold, with that similarity. */
export function firstLike(params: { set: Set<string>; among: Iterable<{ id: string; set: Set<string> }>; threshold: number }) {
  for (const k of params.among) {
    const similarity = jaccard(params.set, k.set);
    if (similarity >= params.threshold) return { id: k.id, similarity };
  }
  return undefined;
}

/** Above this many programs in a task, MinHash LSH chooses which kept programs a program is compared with. */
export const LSH_ABOVE = 2000;

/**
 * Greedy in the order given (the total order): a program at or above the threshold with any kept
 * program is dropped, naming the first such; so of A~B, B~C (not A~C), A and C stay. Exact
 * all-pairs up to LSH_ABOVE programs; above, only kept programs sharing a MinHash band are
 * compared (exactly): a pair at similarity 0.9 shares a band with probability 1 - 1.5e-15, at 0.7
 * 0.99985 (bench/near-dedup.ts measures the recall against exact all-pairs).
 */
export function nearDuplicates(params: { programs: { id: string; taskId: string; tokens: string[] }[]; threshold: number; lsh?: boolean }): Drop[] {
  const lsh = params.lsh ?? params.programs.length > LSH_ABOVE;
  const kept: { id: string; set: Set<string> }[] = [];
  const index = new LshIndex<{ id: string; set: Set<string> }>();
  const drops: Drop[] = [];
  for (const p of params.programs) {
    const set = shingles(p.tokens);
    const signature = lsh ? minhash(set) : undefined;
    const match = firstLike({ set, among: signature ? index.candidates(signature) : kept, threshold: params.threshold });
    if (match) drops.push({ id: p.id, reason: "near_duplicate", detail: `like ${match.id} (Jaccard ${match.similarity.toFixed(3)})`, taskId: p.taskId });
    else if (signature) index.add(signature, { id: p.id, set });
    else kept.push({ id: p.id, set });
  }
  return drops;
}

/**
 * Structural near-duplicates (--near-dedup): after exact dedup, test-solving programs whose
 * normalised code (own names erased, docker/normalise_code.py) is too like a kept one of the same
 * task. Other programs were deduplicated by behaviour and pass through; so does every row of the
 * program table and of a refinement build.
 */
export const nearDedupStage = defineStage<BuildOptions, Row, Row, undefined>({
  name: "near-dedup",
  version: 1,
  selects: true,
  summary: ({ report, options }) =>
    report.counts.near_dedup_compared !== undefined
      ? [
          `near-duplicates (Jaccard of normalised token 5-grams >= ${options.nearDedup}): ${report.dropped.near_duplicate ?? 0} of ` +
            `${report.counts.near_dedup_compared} test-solving programs dropped (${report.counts.near_dedup_unparsable ?? 0} not parsable, kept)`,
        ]
      : [],
  idle: (options) => (nearDedupApplies(options) ? undefined : "input"),
  key: (options) => (nearDedupApplies(options) ? { threshold: options.nearDedup, normaliser: NORMALISER_HASH } : { threshold: null }),
  async run({ options, upstream, context }): Promise<StageOutput<Row, undefined>> {
    const rows = upstream.input.records;
    const threshold = options.nearDedup;
    if (!nearDedupApplies(options) || threshold === undefined) return { records: rows, drops: [] };
    const solving = rows.filter((r) => r.solvesTest).sort(stableOrder);
    const tokens = await normalisedTokens({ codes: solving.map((r) => r.code), context });
    const programs = solving.flatMap((r) => {
      const found = tokens.get(r.code);
      return found ? [{ id: r.id, taskId: r.taskId, tokens: found }] : [];
    });
    const drops = nearDuplicates({ programs, threshold });
    const dropped = new Set(drops.map((d) => d.id));
    return {
      records: rows.filter((r) => !dropped.has(r.id)),
      drops,
      counts: { near_dedup_compared: programs.length, near_dedup_unparsable: solving.length - programs.length },
    };
  },
});

const nearDedupApplies = (options: BuildOptions) => options.nearDedup !== undefined && options.dedup && !tableMode(options) && !pairMode(options);
