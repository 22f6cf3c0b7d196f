import type { BuildOptions } from "../schemas/build-options.js";
import { seededShuffle } from "../pipeline/engine/seeded-shuffle.js";
import { InputError } from "../pipeline/common/errors.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import type { Row } from "../schemas/program.js";
import { balanceStage, TASK_SUMMARIES, type TaskGroup, type TaskSummary } from "./balance.js";
import { type SplitName, splitTotals } from "../schemas/build-manifest.js";

export const MAX_VALIDATION_ROWS = 32;
export type SplitRow = Row & { split: SplitName };

/** The split's decision, kept as data: its records are the balanced rows, unchanged. */
export interface SplitData {
  validationTasks: string[];
}

/**
 * What goes to one split together: every task with the same bare id. ARC-AGI-1 and -2 share 773
 * ids with different content; the task_id column holds the bare id, so they must not be split apart.
 */
interface Unit {
  id: string;
  taskKeys: string[];
  rows: number;
  group: TaskGroup;
}

function unitsOf(tasks: TaskSummary[]): Unit[] {
  const units = new Map<string, Unit>();
  for (const task of tasks) {
    const unit = units.get(task.taskId) ?? { id: task.taskId, taskKeys: [], rows: 0, group: "incorrect" as TaskGroup };
    unit.taskKeys.push(task.taskKey);
    unit.rows += task.rows;
    if (task.group === "correct") unit.group = "correct";
    units.set(task.taskId, unit);
  }
  return [...units.values()];
}

export interface ValidationChoice {
  taskKeys: Set<string>;
  /** About min(10% of rows, 32), at least 1. */
  target: number;
  /** Twice the target: validation exceeds it only when one group's smallest task alone does. */
  cap: number;
}

/**
 * Whole tasks (by bare id) go to validation, half of the target from each group, in seeded order.
 * In order of precedence: train is never left empty; validation is never empty and takes a task
 * from each non-empty group while train keeps one (the first that fits under the cap, else the
 * group's smallest); validation stays within twice its target. A group alone gets the whole target.
 */
export function chooseValidation(params: { tasks: TaskSummary[]; seed: number; size?: number }): ValidationChoice {
  const units = unitsOf(params.tasks);
  const rows = params.tasks.reduce((n, t) => n + t.rows, 0);
  const target = Math.max(
    1,
    params.size === undefined
      ? Math.min(Math.round(rows * 0.1), MAX_VALIDATION_ROWS)
      : params.size < 1
        ? Math.round(rows * params.size)
        : Math.round(params.size),
  );
  const cap = 2 * target;
  const groups = (["correct", "incorrect"] as TaskGroup[])
    .map((group) => ({
      group,
      units: seededShuffle(
        units.filter((u) => u.group === group),
        params.seed,
        (u) => u.id,
      ),
    }))
    .filter((g) => g.units.length > 0);
  const chosen: Unit[] = [];
  let total = 0;
  const take = (unit: Unit) => {
    chosen.push(unit);
    total += unit.rows;
  };
  // First one task a group (the first that fits under the cap, else the group's smallest), then
  // each group's quota filled under the cap: a forced large task never pulls others in after it.
  const firsts = groups.map(({ units: candidates }) => {
    if (units.length - chosen.length <= 1) return undefined; // train keeps at least one task
    const first = candidates.find((u) => total + u.rows <= cap) ?? [...candidates].sort((a, b) => a.rows - b.rows)[0]!;
    take(first);
    return first;
  });
  groups.forEach(({ units: candidates }, g) => {
    const first = firsts[g];
    if (!first) return;
    const quota = groups.length === 1 ? target : g === 0 ? Math.ceil(target / 2) : Math.floor(target / 2);
    let taken = first.rows;
    for (const unit of candidates) {
      if (unit === first || taken >= quota || units.length - chosen.length <= 1) continue;
      if (taken + unit.rows > quota || total + unit.rows > cap) continue;
      take(unit);
      taken += unit.rows;
    }
  });
  return { taskKeys: new Set(chosen.flatMap((u) => u.taskKeys)), target, cap };
}

/** Decides the validation tasks from the balanced tasks' summaries; every row stays where it is. */
export const splitStage = defineStage<BuildOptions, never, never, SplitData>({
  name: "split",
  version: 3,
  sides: [balanceStage, TASK_SUMMARIES],
  summary: ({ report: { counts }, written }) => [
    `splits: ${splitTotals(written)
      .map((w) => `${w.split} ${w.rows} rows / ${w.tasks} tasks`)
      .join(", ")}` +
      (counts.validation_target_rows !== undefined ? ` (validation target ${counts.validation_target_rows} rows, cap ${counts.validation_cap_rows})` : ""),
  ],
  key: (options) => ({
    validation: options.validation,
    seed: options.validation ? options.seed : null,
    ...(options.validationSize !== undefined ? { size: options.validationSize } : {}),
  }),
  async run({ options, upstream }): Promise<StageOutput<never, SplitData>> {
    const { droppedTasks } = upstream.side(balanceStage).data;
    const dropped = new Set(droppedTasks);
    const tasks = upstream.side(TASK_SUMMARIES).data.tasks.filter((t) => !dropped.has(t.taskKey));
    const rows = tasks.reduce((n, t) => n + t.rows, 0);
    if (!options.validation) return { records: [], kept: rows, drops: [], data: { validationTasks: [] } satisfies SplitData, counts: { train_rows: rows } };
    const units = unitsOf(tasks);
    if (units.length === 1) {
      throw new InputError(
        `a validation split needs at least two tasks, and this build has one (${units[0]!.id}, ${rows} rows): build without --validation, or add logs of other tasks`,
      );
    }
    const choice = chooseValidation({ tasks, seed: options.seed, size: options.validationSize });
    const validation = tasks.filter((t) => choice.taskKeys.has(t.taskKey));
    const validationRows = validation.reduce((n, t) => n + t.rows, 0);
    return {
      records: [],
      kept: rows,
      drops: [],
      data: { validationTasks: [...choice.taskKeys].sort() } satisfies SplitData,
      counts: {
        validation_target_rows: choice.target,
        validation_cap_rows: choice.cap,
        validation_rows: validationRows,
        validation_tasks: choice.taskKeys.size,
        train_rows: rows - validationRows,
        train_tasks: tasks.length - validation.length,
      },
    };
  },
});
