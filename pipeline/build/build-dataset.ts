import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { balanceStage } from "../../stages/balance.js";
import { cleanCodeStage } from "../../stages/clean-code.js";
import { dedupStage } from "../../stages/dedup.js";
import { executeStage } from "../../stages/execute.js";
import { filterTransductiveStage } from "../../stages/filter-transductive.js";
import { loadTasksStage, type TaskTable } from "../../stages/load-tasks.js";
import type { LogFate } from "../../stages/read-logs.js";
import { readLogsStage } from "../../stages/read-logs.js";
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
import { CacheError } from "../common/errors.js";
import type { Stage, UpstreamMeta } from "../engine/stage.js";
import { buildSummary } from "./build-summary.js";
import { VERSION } from "../common/version.js";
import { lockCache } from "../store/cache-lock.js";
import { writeFileAtomic } from "../common/write-file-atomic.js";
import { type Drop } from "../../schemas/drop.js";

export const BUILD_STAGES: Stage<BuildOptions>[] = [
  readLogsStage,
  loadTasksStage,
  cleanCodeStage,
  filterTransductiveStage,
  executeStage,
  relabelStage,
  revalidateStage,
  dedupStage,
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
  /** The datasets and subsets the kept logs name. */
  source: { datasets: string[]; subsets: string[] };
  attempts: { total: number; kept: number; dropped: Record<string, number>; adds_up: boolean };
  fates: { id: string; taskId?: string; fate: string; stage?: string; detail?: string }[];
  outputs: WrittenSplit[];
  summary: string[];
}

export interface BuildParams {
  options: BuildOptions;
  cacheDir: string;
  fresh?: boolean;
  /** The sandbox to use; the default process backend is started only when a program must run. */
  createExecutor?: (onEvent: (event: ExecutorEvent) => void) => Executor;
  onEvent?: (event: ProgressEvent) => void;
  title?: string;
}

/** logs -> verified, deduplicated, balanced, task-split dataset in options.out, with manifest.json. */
export async function buildDataset(params: BuildParams): Promise<BuildManifest> {
  const { options } = params;
  const emit = params.onEvent ?? (() => undefined);
  const unlock = lockCache(params.cacheDir);
  let started = false;
  const onExecutorEvent = (event: ExecutorEvent) => {
    if (event.type === "respawn") emit({ type: "message", level: event.cause === "died" ? "warn" : "info", text: `sandbox worker ${event.worker} replaced: ${event.reason}` });
    if (event.type === "health") {
      const rates = Object.entries(event.rates).filter(([, r]) => r > 0).map(([status, r]) => `${status} ${(r * 100).toFixed(1)}%`).join(", ");
      emit({ type: "message", level: "info", text: `sandbox: ${event.programs} programs, ${event.executions} executions (${rates}), ${event.meanMsPerProgram.toFixed(1)} ms a program` });
    }
  };
  // Creating an executor starts nothing: workers start when a program must run.
  const executor = (params.createExecutor ?? defaultExecutor(options))(onExecutorEvent);
  try {
    const results = await runStages({
      stages: BUILD_STAGES,
      options,
      store: new StageStore(params.cacheDir),
      context: {
        cacheDir: params.cacheDir,
        fresh: params.fresh ?? false,
        emit,
        fingerprint: () => executor.fingerprint(),
        executor: async () => {
          const info = await executor.info();
          if (!started) for (const warning of info.warnings) emit({ type: "message", level: "warn", text: warning });
          started = true;
          return executor;
        },
      },
    });
    const { meta, reports } = results;
    const { tasks, rows } = finalRows(results);
    await mkdir(options.out, { recursive: true });
    const written = await writeSplits({ out: options.out, rows, tasks, options });
    const logs = (meta["read-logs"]!.data as { logs: LogFate[] }).logs;
    const drops = BUILD_STAGES.flatMap((stage) => meta[stage.name]!.drops.map((drop) => ({ ...drop, stage: stage.name })));
    const summary = buildSummary({ reports, logs, written });
    await writeCard({ out: options.out, card: datasetCard({ title: params.title ?? `ARC programs from ${options.logs.length} log folder(s)`, options, splits: written, summary }) });
    const manifest: BuildManifest = {
      arcforge: VERSION,
      created: new Date().toISOString(),
      options,
      sandbox: started ? await executor.info() : null,
      stages: reports,
      logs,
      source: (meta["read-logs"]!.data as { source: BuildManifest["source"] }).source,
      ...accountAttempts({ readLogs: meta["read-logs"]!, drops, rows }),
      outputs: written,
      summary,
    };
    writeFileAtomic(join(options.out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    return manifest;
  } finally {
    await executor.close();
    unlock();
  }
}

function finalRows(results: StageResults): { tasks: TaskTable; rows: SplitRow[] } {
  const { tasks } = results.meta["load-tasks"]!.data as { tasks: TaskTable };
  return { tasks, rows: assignSplits(results.records<Row>("split"), results.meta.split!.data as SplitData) };
}

/**
 * The rows a finished build wrote, in output format, read back from its cache (every stage must
 * be cached): what arcforge meant to write, to check files against.
 */
export async function builtRows(params: { options: BuildOptions; cacheDir: string; executor?: Executor }) {
  const executor = params.executor ?? defaultExecutor(params.options)(() => undefined);
  try {
    const results = await runStages({
      stages: BUILD_STAGES,
      options: params.options,
      store: new StageStore(params.cacheDir),
      context: {
        cacheDir: params.cacheDir,
        fresh: false,
        emit: () => undefined,
        fingerprint: () => executor.fingerprint(),
        executor: () => Promise.reject(new CacheError("builtRows needs a finished build in this cache: a stage wanted to execute programs")),
      },
    });
    return formatSplits({ ...finalRows(results), options: params.options });
  } finally {
    await executor.close();
  }
}

function defaultExecutor(options: BuildOptions) {
  return (onEvent: (event: ExecutorEvent) => void) => createProcessExecutor({ ...options.limits, onEvent });
}

/** Every attempt is kept or dropped exactly once; log-level drops (whole files) are not attempts. */
function accountAttempts(params: { readLogs: UpstreamMeta; drops: (Drop & { stage: string })[]; rows: SplitRow[] }): Pick<BuildManifest, "attempts" | "fates"> {
  const { drops, rows } = params;
  const attemptDrops = drops.filter((d) => d.scope !== "file");
  const fates: BuildManifest["fates"] = [
    ...rows.map((r) => ({ id: r.id, taskId: r.taskId, fate: `kept:${r.split}` })),
    ...attemptDrops.map((d) => ({ id: d.id, ...(d.taskId ? { taskId: d.taskId } : {}), fate: d.reason, stage: d.stage, ...(d.detail ? { detail: d.detail } : {}) })),
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const dropped: Record<string, number> = {};
  for (const d of attemptDrops) dropped[d.reason] = (dropped[d.reason] ?? 0) + 1;
  const { attemptIds } = params.readLogs.data as { attemptIds: string[] };
  const read = new Set([...attemptIds, ...params.readLogs.drops.filter((d) => d.scope !== "file").map((d) => d.id)]);
  const addsUp = fates.length === read.size && fates.every((f) => read.has(f.id));
  return { attempts: { total: read.size, kept: rows.length, dropped, adds_up: addsUp }, fates };
}
