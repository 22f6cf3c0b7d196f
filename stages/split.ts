import type { BuildOptions } from "../schemas/build-options.js";
import { seededShuffle } from "../pipeline/engine/seeded-shuffle.js";
import type { Stage, StageOutput } from "../pipeline/engine/stage.js";
import type { Row } from "../schemas/program.js";
import { groupTasks, taskKeysIn, type TaskGroup } from "./balance.js";

export const MAX_VALIDATION_ROWS = 32;
export type SplitName = "train" | "validation";
export type SplitRow = Row & { split: SplitName };

/** The split's decision, kept as data: its records are the balanced rows, unchanged. */
export interface SplitData {
  validationTasks: string[];
}

export function assignSplits(rows: Row[], data: SplitData): SplitRow[] {
  const validation = new Set(data.validationTasks);
  return rows.map((r) => ({ ...r, split: validation.has(r.taskKey) ? "validation" : "train" }));
}

/**
 * Whole tasks go to validation, half of the target from each group, where the target is about
 * min(10% of rows, 32). Tasks are taken in seeded order while they fit; a group's first task is
 * taken even when it alone exceeds the half, so a non-empty group is never left out.
 */
export function chooseValidationTasks(params: { rows: Row[]; seed: number }): Set<string> {
  const tasks = groupTasks(params.rows);
  const target = Math.min(Math.round(params.rows.length * 0.1), MAX_VALIDATION_ROWS);
  const chosen = new Set<string>();
  for (const group of ["correct", "incorrect"] as TaskGroup[]) {
    const quota = group === "correct" ? Math.ceil(target / 2) : Math.floor(target / 2);
    let taken = 0;
    const keys = seededShuffle(taskKeysIn(tasks, group), params.seed, (k) => k);
    for (const key of keys) {
      const size = tasks.get(key)!.rows.length;
      if (taken >= quota) break;
      if (taken > 0 && taken + size > quota) continue;
      chosen.add(key);
      taken += size;
    }
  }
  // Never every task: a train split must remain.
  if (chosen.size === tasks.size) chosen.clear();
  return chosen;
}

export const splitStage: Stage<BuildOptions> = {
  name: "split",
  version: 1,
  selects: true,
  after: ["balance"],
  key: (options) => ({ validation: options.validation, seed: options.validation ? options.seed : null }),
  async run({ options, upstream }): Promise<StageOutput<Row>> {
    const rows = upstream.balance!.records as Row[];
    const validation = options.validation ? chooseValidationTasks({ rows, seed: options.seed }) : new Set<string>();
    const validationRows = rows.filter((r) => validation.has(r.taskKey)).length;
    const data: SplitData = { validationTasks: [...validation].sort() };
    return { records: rows, drops: [], data, counts: { train_rows: rows.length - validationRows, validation_rows: validationRows, validation_tasks: validation.size } };
  },
};
