import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { InputError } from "../common/errors.js";
import { SUBSET_HELP } from "./subset-help.js";
import { loadTask, SPLIT_FOLDERS } from "../sources/load-task.js";
import { seededShuffle } from "../engine/seeded-shuffle.js";
import { TASK_ID } from "../../schemas/task.js";
import type { ArcTask } from "../../schemas/task.js";

const SIZE_SUBSET = /^(shortest|middle|longest)_(training|evaluation)_(\d+)$/;
const RANDOM_SUBSET = /^random_(training|evaluation)_(\d+)(?:_seed(\d+))?$/;
const ALL_SUBSET = /^all_(training|evaluation)$/;

/**
 * The subset's name as logs record it: a built-in name as given, a file of task ids by its base
 * name without extension (never its path: default Hub repo names are built from it).
 */
export function subsetName(subset: string): string {
  if (SIZE_SUBSET.test(subset) || RANDOM_SUBSET.test(subset) || ALL_SUBSET.test(subset)) return subset;
  return basename(subset).replace(/\.[^.]*$/, "") || subset;
}

/** Total cells of every grid of a task: the size the built-in subsets sort by. */
export function taskSize(task: ArcTask): number {
  const cells = (g: number[][]) => g.reduce((n, row) => n + row.length, 0);
  return [...task.train.flatMap((e) => [e.input, e.output]), ...task.test.flatMap((e) => [e.input, ...(e.output ? [e.output] : [])])].reduce(
    (n, g) => n + cells(g),
    0,
  );
}

async function idsIn(root: string, dataset: string, split: string): Promise<string[]> {
  const names = await readdir(join(root, dataset, split)).catch(() => {
    throw new InputError(`no task folder ${join(root, dataset, split)}`);
  });
  return names
    .filter((n) => n.endsWith(".json"))
    .map((n) => n.slice(0, -5))
    .sort();
}

/** The task ids a subset names, in a stable order. */
export async function selectTasks(params: { root: string; dataset: string; subset: string }): Promise<string[]> {
  const { root, dataset, subset } = params;
  let m: RegExpExecArray | null;
  if ((m = ALL_SUBSET.exec(subset))) return idsIn(root, dataset, m[1]!);
  if ((m = SIZE_SUBSET.exec(subset))) {
    const [, which, split, count] = m;
    const ids = await idsIn(root, dataset, split!);
    const sized = await Promise.all(ids.map(async (id) => ({ id, size: taskSize((await loadTask({ root, dataset, taskId: id }))!.task) })));
    sized.sort((a, b) => a.size - b.size || (a.id < b.id ? -1 : 1));
    const n = Math.min(Number(count), sized.length);
    const start = which === "shortest" ? 0 : which === "longest" ? sized.length - n : Math.floor((sized.length - n) / 2);
    return sized.slice(start, start + n).map((s) => s.id);
  }
  if ((m = RANDOM_SUBSET.exec(subset))) {
    const ids = await idsIn(root, dataset, m[1]!);
    return seededShuffle(ids, Number(m[3] ?? 42), (id) => id).slice(0, Number(m[2]));
  }
  const text = await readFile(subset, "utf8").catch(() => {
    throw new InputError(`subset '${subset}' is neither a file nor a built-in subset: ${SUBSET_HELP}`);
  });
  const ids = text
    .split(/\s+/)
    .map((l) => l.replace(/\.json$/, "").trim())
    .filter(Boolean);
  const bad = ids.filter((id) => !TASK_ID.test(id));
  if (bad.length) throw new InputError(`${subset} holds lines that are not task ids: ${bad.slice(0, 3).join(", ")}`);
  return ids;
}

export { SPLIT_FOLDERS };
