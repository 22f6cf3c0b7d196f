import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { balanceStage } from "../../stages/balance.js";
import { cleanCodeStage } from "../../stages/clean-code.js";
import { dedupStage } from "../../stages/dedup.js";
import { executeStage } from "../../stages/execute.js";
import { filterAugmentStage } from "../../stages/filter-augment.js";
import { filterDegenerateStage } from "../../stages/filter-degenerate.js";
import { selectStage } from "../../stages/select.js";
import { filterTransductiveStage } from "../../stages/filter-transductive.js";
import { loadTasksStage, type TaskTable } from "../../stages/load-tasks.js";
import type { LogFate } from "../../stages/read-logs.js";
import { readLogsStage } from "../../stages/read-logs.js";
import { readDatasetsStage, type SourceFate } from "../../stages/read-datasets.js";
import { relabelStage } from "../../stages/relabel.js";
import { revalidateStage } from "../../stages/revalidate.js";
import { assignSplits, splitStage, type SplitData, type SplitRow } from "../../stages/split.js";
import type { Row } from "../../schemas/program.js";
import { datasetCard, formatSplits, writeCard, writeSplits, type WrittenSplit } from "../../stages/write-dataset.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import { StageStore } from "../store/stage-store.js";
import { createProcessExecutor } from "../executor/process-pool.js";
import type { Executor, ExecutorEvent, SandboxInfo } from "../executor/types.js";
import type { ProgressEvent } from "../common/progress.js";
import { runStages, type StageReport, type StageResults } from "../engine/run-stages.js";
import { CacheError, InputError } from "../common/errors.js";
import type { HubAccess, Stage, UpstreamMeta } from "../engine/stage.js";
import { buildSummary } from "./build-summary.js";
import { summariseTasks, taskTable } from "./task-table.js";
import { writeReport } from "../report/render-report.js";
import { VERSION } from "../common/version.js";
import { lockCache } from "../store/cache-lock.js";
import { closeKvStore } from "../store/kv-store.js";
import { writeJsonLinesSync } from "../common/json-lines.js";
import { writeFileAtomic } from "../common/write-file-atomic.js";
import { type Drop } from "../../schemas/drop.js";

export const BUILD_STAGES: Stage<BuildOptions>[] = [
  readLogsStage,
  readDatasetsStage,
  loadTasksStage,
  cleanCodeStage,
  filterTransductiveStage,
  executeStage,
  filterAugmentStage,
  relabelStage,
  revalidateStage,
  filterDegenerateStage,
  dedupStage,
  selectStage,
  balanceStage,
  splitStage,
];

export interface BuildManifest {
  arcforge: string;
  created: string;
  options: BuildOptions;
  sandbox: SandboxInfo | null;
  stages: StageReport[];
  logs: LogFate[];
  /** The program datasets read with --from: source, Hub revision, schema, shards and rows. */
  datasets: SourceFate[];
  /** The datasets and subsets the kept logs name. */
  source: { datasets: string[]; subsets: string[] };
  attempts: { total: number; kept: number; dropped: Record<string, number>; adds_up: boolean };
  /** Every attempt's fate; written to fates.jsonl beside manifest.json, not into it. */
  fates: { id: string; taskId?: string; fate: string; stage?: string; detail?: string; provenance?: { source: string; revision?: string; split: string; row: number } }[];
  outputs: WrittenSplit[];
  summary: string[];
}

export interface BuildParams {
  options: BuildOptions;
  cacheDir: string;
  fresh?: boolean;
  /** The sandbox to use; the default process backend is started only when a program must run. */
  createExecutor?: (onEvent: (event: ExecutorEvent) => void, seed: number) => Executor;
  onEvent?: (event: ProgressEvent) => void;
  title?: string;
  /** The Hub that --from sources are read from (never cached, never in the manifest). */
  hub?: HubAccess;
}

/** logs -> verified, deduplicated, balanced, task-split dataset in options.out, with manifest.json. */
export async function buildDataset(params: BuildParams): Promise<BuildManifest> {
  const { options } = params;
  const emit = params.onEvent ?? (() => undefined);
  const unlock = lockCache(params.cacheDir);
  const started = new Set<number>();
  let lastQueueNote = 0;
  const onExecutorEvent = (event: ExecutorEvent) => {
    if (event.type === "queue" && Date.now() - lastQueueNote >= 5000) {
      lastQueueNote = Date.now();
      emit({ type: "message", level: "info", text: `queue: ${event.workers} worker(s) serve ${event.fingerprint}; jobs waiting ${event.waiting}, running ${event.active}, done ${event.done} of ${event.submitted}` });
    }
    if (event.type === "respawn") emit({ type: "message", level: event.cause === "died" ? "warn" : "info", text: `sandbox worker ${event.worker} replaced: ${event.reason}` });
    if (event.type === "health") {
      const rates = Object.entries(event.rates).filter(([, r]) => r > 0).map(([status, r]) => `${status} ${(r * 100).toFixed(1)}%`).join(", ");
      emit({ type: "message", level: "info", text: `sandbox: ${event.programs} programs, ${event.executions} executions (${rates}), ${event.meanMsPerProgram.toFixed(1)} ms a program` });
    }
  };
  const { executorFor, closeAll } = executorsBySeed((seed) => (params.createExecutor ?? defaultExecutor(options))(onExecutorEvent, seed));
  try {
    const results = await runStages({
      stages: BUILD_STAGES,
      options,
      store: new StageStore(params.cacheDir),
      context: {
        cacheDir: params.cacheDir,
        fresh: params.fresh ?? false,
        hub: params.hub ?? defaultHub(),
        emit,
        fingerprint: (seed) => executorFor(seed).fingerprint(),
        executor: async (seed = 0) => {
          const info = await executorFor(seed).info();
          if (started.size === 0) for (const warning of info.warnings) emit({ type: "message", level: "warn", text: warning });
          started.add(seed);
          return executorFor(seed);
        },
      },
    });
    const { meta, reports } = results;
    const { tasks, rows } = finalRows(results);
    const missing = meta["load-tasks"]!.drops.filter((d) => d.reason === "task_not_found");
    if (rows.length === 0) throw nothingToWrite({ matched: reports.find((r) => r.stage === "load-tasks")!.kept, missing, reports });
    if (missing.length > 0) {
      const taskIds = new Set(missing.map((d) => d.taskId));
      emit({ type: "message", level: "warn", text: `${missing.length} programs of ${taskIds.size} tasks had no task to run on and were dropped (first: ${missing[0]!.taskId}: ${missing[0]!.detail}); give --tasks <root> or set ARC_DATA` });
    }
    await mkdir(options.out, { recursive: true });
    const written = await writeSplits({ out: options.out, rows, tasks, options });
    const logs = (meta["read-logs"]!.data as { logs: LogFate[] }).logs;
    const drops = BUILD_STAGES.flatMap((stage) => meta[stage.name]!.drops.map((drop) => ({ ...drop, stage: stage.name })));
    const perTask = taskTable({ results, rows });
    writeJsonLinesSync(join(options.out, "tasks.jsonl"), perTask);
    const summary = [...buildSummary({ reports, logs, written }), ...summariseTasks(perTask)];
    const sources = (meta["read-datasets"]!.data as { sources: SourceFate[] }).sources;
    const defaultTitle = `ARC programs from ${options.logs.length} log folder(s)${sources.length ? ` and ${sources.length} program dataset(s)` : ""}`;
    await writeCard({ out: options.out, card: datasetCard({ title: params.title ?? defaultTitle, options, splits: written, summary }) });
    const manifest: BuildManifest = {
      arcforge: VERSION,
      created: new Date().toISOString(),
      options,
      sandbox: started.size > 0 ? await executorFor([...started].sort()[0]).info() : null,
      stages: reports,
      logs,
      datasets: sources,
      source: (meta["read-logs"]!.data as { source: BuildManifest["source"] }).source,
      ...accountAttempts({ readers: [meta["read-logs"]!, meta["read-datasets"]!], sources, drops, rows }),
      outputs: written,
      summary,
    };
    const { fates, ...small } = manifest;
    writeJsonLinesSync(join(options.out, "fates.jsonl"), fates);
    writeFileAtomic(join(options.out, "manifest.json"), JSON.stringify(small, null, 2) + "\n");
    await writeReport({ dir: options.out, title: params.title });
    return manifest;
  } finally {
    await closeAll();
    await closeKvStore(params.cacheDir);
    unlock();
  }
}

/** Why a build has nothing to write, with the remedy: it fails instead of writing an empty dataset. */
function nothingToWrite(params: { matched: number; missing: Drop[]; reports: StageReport[] }): InputError {
  const { matched, missing } = params;
  if (matched === 0 && missing.length > 0) {
    return new InputError(
      `no program could be matched to its ARC task (${missing.length} programs; first: task ${missing[0]!.taskId}: ${missing[0]!.detail}). ` +
        "Give --tasks <root> (or set ARC_DATA) with <root>/<dataset>/{training,evaluation}/<task id>.json; no dataset was written",
    );
  }
  const where = params.reports.filter((r) => Object.keys(r.dropped).length > 0).map((r) => `${r.stage}: ${Object.entries(r.dropped).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  return new InputError(`the build would write 0 rows, so no dataset was written. Where the programs went: ${where.join("; ") || "no programs were read"}`);
}

function finalRows(results: StageResults): { tasks: TaskTable; rows: SplitRow[] } {
  const { tasks } = results.meta["load-tasks"]!.data as { tasks: TaskTable };
  return { tasks, rows: assignSplits(results.records<Row>("split"), results.meta.split!.data as SplitData) };
}

/**
 * The rows a finished build wrote, in output format, read back from its cache (every stage must
 * be cached): what arcforge meant to write, to check files against.
 */
export async function builtRows(params: { options: BuildOptions; cacheDir: string; createExecutor?: BuildParams["createExecutor"]; hub?: HubAccess }) {
  const { executorFor, closeAll } = executorsBySeed((seed) => (params.createExecutor ?? defaultExecutor(params.options))(() => undefined, seed));
  try {
    const results = await runStages({
      stages: BUILD_STAGES,
      options: params.options,
      store: new StageStore(params.cacheDir),
      context: {
        cacheDir: params.cacheDir,
        fresh: false,
        hub: params.hub ?? defaultHub(),
        emit: () => undefined,
        fingerprint: (seed) => executorFor(seed).fingerprint(),
        executor: () => Promise.reject(new CacheError("builtRows needs a finished build in this cache: a stage wanted to execute programs")),
      },
    });
    return formatSplits({ ...finalRows(results), options: params.options });
  } finally {
    await closeAll();
  }
}

/**
 * One executor per seed (the first runs and the re-validation use different ones), made when first
 * asked for. Creating one starts nothing: workers start when a program must run.
 */
function executorsBySeed(make: (seed: number) => Executor) {
  const executors = new Map<number, Executor>();
  const executorFor = (seed = 0) => {
    let found = executors.get(seed);
    if (!found) executors.set(seed, (found = make(seed)));
    return found;
  };
  return { executorFor, closeAll: () => Promise.all([...executors.values()].map((e) => e.close())) };
}

/** HF_ENDPOINT and HF_TOKEN, as every Hub client reads them. */
function defaultHub(): HubAccess {
  return { hubUrl: process.env.HF_ENDPOINT ?? "https://huggingface.co", token: process.env.HF_TOKEN };
}

function defaultExecutor(options: BuildOptions) {
  return (onEvent: (event: ExecutorEvent) => void, seed: number) => createProcessExecutor({ ...options.limits, onEvent, seed });
}

/** Every attempt is kept or dropped exactly once; log-level drops (whole files) are not attempts. */
function accountAttempts(params: { readers: UpstreamMeta[]; sources: SourceFate[]; drops: (Drop & { stage: string })[]; rows: SplitRow[] }): Pick<BuildManifest, "attempts" | "fates"> {
  const { drops, rows } = params;
  const provenance = (id: string) => {
    const source = params.sources.find((s) => id.startsWith(`${s.source}:`));
    if (!source) return {};
    const [split, row] = id.slice(source.source.length + 1).split(":");
    return { provenance: { source: source.source, ...(source.revision ? { revision: source.revision } : {}), split: split!, row: Number(row) } };
  };
  const attemptDrops = drops.filter((d) => d.scope !== "file");
  const fates: BuildManifest["fates"] = [
    ...rows.map((r) => ({ id: r.id, taskId: r.taskId, fate: `kept:${r.split}`, ...provenance(r.id) })),
    ...attemptDrops.map((d) => ({ id: d.id, ...(d.taskId ? { taskId: d.taskId } : {}), fate: d.reason, stage: d.stage, ...(d.detail ? { detail: d.detail } : {}), ...provenance(d.id) })),
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const dropped: Record<string, number> = {};
  for (const d of attemptDrops) dropped[d.reason] = (dropped[d.reason] ?? 0) + 1;
  const read = new Set(params.readers.flatMap((m) => [...(m.data as { attemptIds: string[] }).attemptIds, ...m.drops.filter((d) => d.scope !== "file").map((d) => d.id)]));
  const addsUp = fates.length === read.size && fates.every((f) => read.has(f.id));
  return { attempts: { total: read.size, kept: rows.length, dropped, adds_up: addsUp }, fates };
}
