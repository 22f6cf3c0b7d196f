import type { Drop } from "../../schemas/drop.js";
import type { Row } from "../../schemas/program.js";
import type { ArcTask } from "../../schemas/task.js";
import { stableOrder } from "../../stages/dedup.js";
import { filterDegenerateStage } from "../../stages/filter-degenerate.js";
import { ATTEMPTS, loadTasksStage, type LoadedTask } from "../../stages/load-tasks.js";
import { twinIds, type Twins, weightOf } from "../../schemas/twins.js";
import { pairProgramsStage } from "../../stages/pair-programs.js";
import { selectStage } from "../../stages/select.js";
import { viewOf } from "../engine/stage-keys.js";
import type { Handle, Idle } from "../engine/stage.js";
import { idleAware } from "../engine/idle-stages.js";
import { StageRecords } from "../engine/stage-records.js";
import { CacheError } from "../common/errors.js";
import type { StageMeta, StageStore } from "../store/stage-store.js";
import { TASK_WIRING } from "./build-stages.js";
import { type BuildRun, RECIPE_REPORT } from "./build-run.js";
import { taskContent, taskSource, type TaskRun } from "./run-task-stages.js";
import type { Fate, SplitName } from "../../schemas/build-manifest.js";

/** Where a task's rows went: a split, or nowhere (no rows, or balance dropped the task). */
export function splitOf(run: BuildRun, task: TaskRun): SplitName | "dropped" {
  if (task.selected.rows === 0 || run.droppedTasks.has(task.taskKey)) return "dropped";
  return run.validationTasks.has(task.taskKey) ? "validation" : "train";
}

/** A task's stage outputs, read back from the stage store (this build wrote or found every one). */
function reader(params: { store: StageStore; task: TaskRun; idle: ReadonlyMap<string, Idle> }) {
  const { store, task } = params;
  // A selection asks for its upstream's meta twice (its length, then its ids), fates for some
  // stages' twice: each is decoded once per task (a task's metas are few and small).
  const seen = new Map<string, StageMeta>();
  const after = (name: string) => TASK_WIRING.get(name) ?? [];
  const stored = (stage: string) => {
    const known = seen.get(stage);
    if (known) return known;
    const key = task.keys[stage];
    const found = key ? store.readMeta(stage, key, true) : undefined;
    // Deleted or damaged under a running build: say which entry, not a TypeError.
    if (!found)
      throw new CacheError(
        `the ${stage} output of task ${task.taskKey} (key ${key}) was written or found by this build but is gone or unreadable; run the build again with --fresh`,
      );
    seen.set(stage, found);
    return found;
  };
  const meta = idleAware({ idle: params.idle, after, read: stored });
  return {
    output: <D>(handle: Handle<unknown, D>) => viewOf(handle, meta(handle.name)),
    meta,
    records: new StageRecords({ store, keys: task.keys, after, meta, sources: { [ATTEMPTS.name]: taskSource(task) } }),
  };
}

/**
 * A task and its selected rows, in output order (the order "first" means). For the program table,
 * each row also carries its copies and their models (every row of its code before the table's
 * grouping, a row read back from a table counting its own copies).
 */
export function taskRows(params: {
  store: StageStore;
  task: TaskRun;
  /** The build's idle task stages (`idleStages`). */
  idle: ReadonlyMap<string, Idle>;
  table?: boolean;
  pairs?: boolean;
}): { task: ArcTask; split: string | null; rows: Row[] } {
  const { output, records } = reader(params);
  const loaded = output(loadTasksStage).data;
  const task = loaded.tasks[params.task.taskKey];
  if (!task) throw new CacheError(`the load-tasks output of task ${params.task.taskKey} holds no task; run the build again with --fresh`);
  const split = loaded.split ?? null;
  // A refinement build's rows are its pairs: each child carrying its parent, in the pair stage's order.
  if (params.pairs) return { task, split, rows: records.of(pairProgramsStage) };
  const rows = [...records.of(selectStage)].sort(stableOrder);
  const picks = params.task.recipe;
  if (!params.table && !picks) return { task, split, rows };
  const groups = new Map<string, { copies: number; models: Set<string> }>();
  for (const r of records.of(filterDegenerateStage)) {
    const group = groups.get(r.code) ?? { copies: 0, models: new Set<string>() };
    group.copies += (r.provenance?.copies ?? 1) * weightOf(r);
    for (const model of r.provenance?.models ?? [r.model]) group.models.add(model);
    groups.set(r.code, group);
  }
  const grouped = rows.map((r) => ({ ...r, copies: groups.get(r.code)!.copies, models: [...groups.get(r.code)!.models].sort() }));
  if (!picks) return { task, split, rows: grouped };
  // A recipe's rows, in its order: rank (none last), then row_id.
  const byId = new Map(grouped.map((r) => [r.id, r]));
  return { task, split, rows: picks.map((p) => byId.get(p.id)!) };
}

/**
 * One attempt's fate as fates.jsonl writes it: keys in this order, task_id and detail only when
 * set. Built as literals: a build of 10^5 attempts makes as many, and spreading made most of the
 * fates' time.
 */
function fateOf(id: string, dataset: string, drop: Pick<Drop, "reason" | "taskId" | "detail">, stage: string): Fate {
  const fate: Fate = drop.taskId
    ? { attempt_id: id, dataset, task_id: drop.taskId, fate: drop.reason, stage }
    : { attempt_id: id, dataset, fate: drop.reason, stage };
  if (drop.detail) fate.detail = drop.detail;
  return fate;
}

/** The fates of a drop's twins, one per twin, in attempt id order: generated as they are read. */
function* twinFates(params: { twins: Twins; dataset: string; drop: Drop; stage: string }): Generator<Fate> {
  const decimal = (a: number, b: number) => {
    const x = String(a);
    const y = String(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  for (const n of [...params.twins.numbers].sort(decimal)) yield fateOf(`${params.twins.prefix}${n}`, params.dataset, params.drop, params.stage);
}

/**
 * What became of each of a task's attempts, by id: dropped at reading, by a task stage or with its
 * task by balance, or kept in a split. `fates` holds the attempts of their own, sorted by id;
 * `twins` one sorted stream per drop of twins (a task of a million copies never holds a million
 * fates). `read` lists every attempt id the task had, but for twins: the readers' drops and what
 * load-tasks received (selected or dropped), whose count with `twinsRead` must be the readers'
 * count; a shard is read only when it holds drops.
 */
export function taskFates(params: { store: StageStore; run: BuildRun; task: TaskRun; idle: ReadonlyMap<string, Idle> }): {
  fates: Fate[];
  twins: Iterable<Fate>[];
  read: string[];
  twinsRead: number;
  countsAgree: boolean;
} {
  const { task } = params;
  const readerDrops: (Drop & { stage: string })[] = task.shards.some((s) => s.shard.drops > 0) ? taskContent(task.shards)().drops : [];
  // Each drop with the stage that made it, side by side: a copy of each drop naming its stage cost more than the rest of the fates.
  const drops: Drop[] = [...readerDrops];
  const stages = readerDrops.map((d) => d.stage);
  const read = readerDrops.map((d) => d.id);
  // Twins read, by the id that stands for them: each group meets its fate whole, or (with every
  // copy kept, --no-dedup) became records of their own.
  const twinsRead = new Map<string, Twins>();
  const fates: Fate[] = [];
  const split = splitOf(params.run, task);
  if (task.read > 0) {
    const { meta, output } = reader(params);
    const loaded = meta(loadTasksStage.name);
    // A Map: looking an id up as an object's key first interns the string, ~0.7 us per attempt read.
    const twins = new Map(Object.entries((loaded.data as LoadedTask).twins ?? {}));
    for (const id of loaded.selected ?? []) {
      read.push(id);
      const found = twins.get(id);
      if (found) twinsRead.set(id, found);
    }
    for (const d of loaded.drops) {
      if (!d.twinsOnly) read.push(d.id);
      if (d.twins) twinsRead.set(d.id, d.twins);
    }
    // One push per drop: a task of a million attempts may have a million drops, too many for push(...drops).
    for (const stage of task.dropsIn)
      for (const d of meta(stage).drops) {
        drops.push(d);
        stages.push(stage);
      }
    const picked = task.recipe ? new Set(task.recipe.map((p) => p.id)) : undefined;
    const pairData = output(pairProgramsStage).data;
    const kept = pairData?.participants && params.run.pairs ? pairData.participants : (meta(selectStage.name).selected ?? []);
    for (const id of kept) {
      if (picked && !picked.has(id)) {
        drops.push({ id, reason: "recipe_excluded", detail: `not among the rows of recipe ${params.run.recipe ?? "?"}`, taskId: task.taskId });
        stages.push(RECIPE_REPORT);
      } else if (split === "dropped") {
        drops.push({ id, reason: "balance_task_dropped", detail: `${task.selected.group} group larger`, taskId: task.taskId });
        stages.push("balance");
      } else fates.push({ attempt_id: id, dataset: task.dataset, task_id: task.taskId, fate: `kept:${split}` });
    }
  }
  const twins: Iterable<Fate>[] = [];
  let twinsAgree = true;
  let twinCount = 0;
  drops.forEach((d, i) => {
    if (!d.twinsOnly) fates.push(fateOf(d.id, task.dataset, d, stages[i]!));
    if (!d.twins) return;
    // A drop's twins share its fate: each is an attempt of its own.
    twinsAgree &&= twinsRead.get(d.id)?.numbers.length === d.twins.numbers.length;
    twinsRead.delete(d.id);
    twinCount += d.twins.numbers.length;
    twins.push(twinFates({ twins: d.twins, dataset: task.dataset, drop: d, stage: stages[i]! }));
  });
  for (const expanded of twinsRead.values()) for (const id of twinIds(expanded)) read.push(id);
  fates.sort((a, b) => (a.attempt_id < b.attempt_id ? -1 : a.attempt_id > b.attempt_id ? 1 : 0));
  const received = read.length - readerDrops.length + twinCount;
  return {
    fates,
    twins,
    read,
    twinsRead: twinCount,
    countsAgree: twinsAgree && received === task.read && readerDrops.length === task.shards.reduce((n, s) => n + s.shard.drops, 0),
  };
}
