import { readFileSync } from "node:fs";
import type { BuildOptions } from "../schemas/build-options.js";
import { cleanPrograms, CLEANER_PATH } from "../pipeline/executor/clean-code-helper.js";
import type { Stage, StageOutput } from "../pipeline/engine/stage.js";
import type { Program } from "../schemas/program.js";
import { sha256 } from "./read-logs.js";

/**
 * Strips comments, docstrings and blank lines. A program whose cleaned form no longer compiles
 * keeps its original code (counted as clean_failed); none is dropped here.
 */
export const cleanCodeStage: Stage<BuildOptions> = {
  name: "clean-code",
  version: 1,
  after: ["load-tasks"],
  key: (options) => ({ clean: options.cleanCode, cleaner: options.cleanCode ? sha256(readFileSync(CLEANER_PATH)) : null }),
  async run({ options, upstream, context }): Promise<StageOutput<Program>> {
    const programs = upstream["load-tasks"]!.records as Program[];
    if (!options.cleanCode) return { records: programs, drops: [], counts: { clean_disabled: programs.length } };
    const cleaned = await cleanPrograms({
      programs: programs.map((p) => ({ id: p.id, code: p.code })),
      onProgress: (done) => context.emit({ type: "progress", stage: "clean-code", done, total: programs.length }),
    });
    const counts: Record<string, number> = { cleaned: 0, unchanged: 0, clean_failed: 0, clean_unparsable: 0 };
    const records = programs.map((program) => {
      const answer = cleaned.get(program.id)!;
      counts[answer.status === "failed" ? "clean_failed" : answer.status === "unparsable" ? "clean_unparsable" : answer.status]!++;
      return answer.code === program.code ? program : { ...program, code: answer.code, originalCode: program.code };
    });
    return { records, drops: [], counts };
  },
};
