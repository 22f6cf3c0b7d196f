import { readFileSync } from "node:fs";
import type { BuildOptions } from "../schemas/build-options.js";
import { cleanPrograms, CLEANER_PATH, type Cleaned } from "../pipeline/cleaner/cleaner-pool.js";
import { CleanedCache } from "../pipeline/store/cleaned-cache.js";
import { defineStage, type StageContext, type StageOutput } from "../pipeline/engine/stage.js";
import type { Program } from "../schemas/program.js";
import { totalWeight, weightOf } from "../schemas/twins.js";
import { sha256 } from "../pipeline/common/sha256.js";
import { countList } from "../pipeline/common/count-list.js";

export const CLEANER_HASH = sha256(readFileSync(CLEANER_PATH));

/**
 * Each distinct code's cleaning, cached by content (the same code recurs across attempts and
 * builds), cleaned on every core; `onAnswer` counts cleaned and cached codes alike.
 */
export async function cleanCodes(params: { codes: string[]; context: StageContext; stage?: string }): Promise<Map<string, Cleaned>> {
  const { context } = params;
  const cache = new CleanedCache({ cacheDir: context.cacheDir, cleaner: CLEANER_HASH, fresh: context.fresh });
  const cleaned = new Map<string, Cleaned>();
  const missing = new Map<string, { id: string; code: string }>();
  for (const code of params.codes) {
    if (cleaned.has(code) || missing.has(code)) continue;
    const found = cache.get(code);
    if (found) cleaned.set(code, found);
    else missing.set(code, { id: cache.key(code), code });
  }
  let done = params.codes.length - missing.size;
  const onAnswer = () => context.emit({ type: "progress", stage: params.stage ?? "clean-code", done: ++done, total: params.codes.length });
  const asked = [...missing.values()];
  const fresh = context.cleaner ? await context.cleaner.clean({ programs: asked, onAnswer }) : await cleanPrograms({ programs: asked, onProgress: onAnswer });
  // A helper that died answered for itself, not for the code: that answer is not kept.
  await cache.put(asked.map((p) => [p.code, fresh.get(p.id)!] as [string, Cleaned]).filter(([, a]) => !a.helperDied));
  for (const p of asked) cleaned.set(p.code, fresh.get(p.id)!);
  return cleaned;
}

/**
 * Strips comments, docstrings and blank lines. A program whose cleaned form no longer compiles
 * keeps its original code (counted as clean_failed); none is dropped here.
 */
export const cleanCodeStage = defineStage<BuildOptions, Program, Program, undefined>({
  name: "clean-code",
  version: 3,
  patches: true,
  summary: ({ report }) => [`clean code: ${countList(report.counts)}`],
  key: (options) => ({ clean: options.cleanCode, cleaner: options.cleanCode ? CLEANER_HASH : null }),
  async run({ options, upstream, context }): Promise<StageOutput<Program, undefined>> {
    const programs = upstream.input.records;
    if (!options.cleanCode) return { records: programs, drops: [], counts: { clean_disabled: totalWeight(programs) } };
    const byCode = await cleanCodes({ codes: programs.map((p) => p.code), context });
    const cleaned = new Map(programs.map((p) => [p.id, byCode.get(p.code)!]));
    const counts: Record<string, number> = { cleaned: 0, unchanged: 0, clean_failed: 0, clean_unparsable: 0 };
    const records = programs.map((program) => {
      const answer = cleaned.get(program.id)!;
      counts[answer.status === "failed" ? "clean_failed" : answer.status === "unparsable" ? "clean_unparsable" : answer.status]! += weightOf(program);
      // The raw code stays in read-logs' records: it is not stored again here.
      return answer.code === program.code ? program : { ...program, code: answer.code };
    });
    return { records, drops: [], counts };
  },
});
