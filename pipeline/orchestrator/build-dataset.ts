import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { cardTitle, datasetCard, formatSplits, ModelTally, type SplitSource, writeCard, writeSplits } from "../writer/write-dataset.js";
import { pairMode, type BuildOptions } from "../../schemas/build-options.js";
import { optionProblems } from "../../schemas/resolved-options.js";
import { DEFAULT_HUB_URL } from "../hub/endpoint-guard.js";
import { resolveToken } from "../hub/hub-token.js";
import { readDatasetsStage } from "../../stages/read-datasets.js";
import { modelCount, readLogsStage } from "../../stages/read-logs.js";
import { StageStore } from "../store/stage-store.js";
import { createProcessExecutor } from "../executor/process-pool.js";
import { fingerprintId } from "../executor/runtime-fingerprint.js";
import { protectedPaths } from "../executor/visible-paths.js";
import { CleanerPool, NormaliserPool } from "../cleaner/cleaner-pool.js";
import type { Executor, ExecutorEvent, SandboxInfo } from "../executor/types.js";
import type { ProgressEvent } from "../common/progress.js";
import { CacheError, InputError, SandboxError } from "../common/errors.js";
import type { HubAccess, StageContext } from "../engine/stage.js";
import { buildSummary } from "./build-summary.js";
import { decontaminationReport } from "./decontamination-report.js";
import { summariseTasks, taskTable } from "./task-table.js";
import { reportPage } from "../report/render-report.js";
import { pageDataOf } from "../report/report-data.js";
import { ViewerSample } from "../report/viewer-sample.js";
import { VERSION } from "../common/version.js";
import { lockCache } from "../store/cache-lock.js";
import { claimOut } from "./claim-out.js";
import { checkTasksRoot } from "../sources/load-task.js";
import { closeKvStore } from "../store/kv-store.js";
import { readJsonLinesSync, writeJsonLinesSync } from "../common/json-lines.js";
import { writeFileAtomic } from "../common/write-file-atomic.js";
import { sharedEncoder } from "../parquet/parquet-encoder.js";
import type { BuildRun } from "./build-run.js";
import { runBuild, TASKS_IN_FLIGHT } from "./run-build.js";
import type { Drop } from "../../schemas/drop.js";
import { splitOf, taskFates, taskRows } from "./task-rows.js";
import { mergeSorted } from "../common/merge-sorted.js";
import { type BuildManifest, type Fate, type SplitName, splitTotals, type StageReport } from "../../schemas/build-manifest.js";

export { BUILD_STAGES } from "./build-stages.js";

export interface BuildParams {
  options: BuildOptions;
  cacheDir: string;
  fresh?: boolean;
  /** The sandbox to use; the default process backend is started only when a program must run. */
  createExecutor?: (onEvent: (event: ExecutorEvent) => void, seed: number) => Executor;
  onEvent?: (event: ProgressEvent) => void;
  title?: string;
  /** Write the dataset even when the sandbox itself failed on some programs (they are left out). */
  allowSandboxFailures?: boolean;
  /** Write into a non-empty --out that is not an earlier arcforge output (its other files are kept). */
  overwrite?: boolean;
  /** The Hub that --from sources are read from (never cached, never in the manifest). */
  hub?: HubAccess;
}

/** logs -> verified, deduplicated, balanced, task-split dataset in options.out, with manifest.json. */
export async function buildDataset(params: BuildParams): Promise<BuildManifest> {
  const { options } = params;
  checkOptions(options);
  const emit = params.onEvent ?? (() => undefined);
  // Checked now, from the inputs as they are: never after the pipeline, never from the cache.
  if (options.tasks) checkTasksRoot(options.tasks);
  const unlock = lockCache(params.cacheDir);
  let outLock: ReturnType<typeof claimOut> | undefined;
  try {
    outLock = claimOut({ out: options.out, overwrite: params.overwrite });
  } catch (error) {
    unlock();
    throw error;
  }
  const started = new Set<number>();
  const { executorFor, closeAll } = executorsBySeed((seed) =>
    (params.createExecutor ?? defaultExecutor(options, params.cacheDir))(executorMessages(emit), seed),
  );
  const cleaner = new CleanerPool();
  const normaliser = new NormaliserPool();
  // Its thread starts now, if this process has none: parquet-wasm compiles while the stages run.
  const encoder = sharedEncoder();
  let store: StageStore | undefined;
  try {
    store = new StageStore(params.cacheDir);
    const context: StageContext = {
      cleaner,
      normaliser,
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
    };
    // Naming the executor starts nothing.
    const queued = executorFor(0).name === "queue";
    const tasksInFlight = queued ? TASKS_IN_FLIGHT.queue : TASKS_IN_FLIGHT.local;
    // Every build keys execute on the runtime's fingerprint (a Python probe of a third of a second):
    // asked for now, it is found while the readers hash their inputs. A failure is met where it is needed.
    if (!queued)
      executorFor(0)
        .fingerprint()
        .catch(() => undefined);
    let sandbox: SandboxInfo | null = null;
    // The sandbox servers and cleaner helpers hold ~0.2 GiB: gone before every task's rows are read
    // back (program table, writer), where a build of 10^6 attempts peaks.
    const release = async () => {
      sandbox = started.size > 0 ? await executorFor([...started].sort()[0]).info() : null;
      await Promise.all([closeAll(), cleaner.close(), normaliser.close()]);
    };
    const run = await runBuild({ options, store, context, tasksInFlight, release });
    const { reports } = run;
    const execute = reports.find((r) => r.stage === "execute");
    const hits = execute?.counts.cache_hits ?? 0;
    if (execute?.ran && hits > 0)
      emit({
        type: "message",
        level: "info",
        text: `execute: ${hits} of ${hits + (execute.counts.cache_misses ?? 0)} executions were taken from the execution cache (an earlier build, finished or interrupted, ran them)`,
      });
    const failures = reports.reduce((n, r) => n + (r.dropped.sandbox_failure ?? 0) + (r.stage === "filter-augment" ? (r.counts.sandbox_failures ?? 0) : 0), 0);
    if (failures > 0 && !params.allowSandboxFailures) {
      throw new SandboxError(
        `${failures} program(s) could not be run: the sandbox failed, not the programs, so nothing was written. The same command retries them (what ran is cached); --allow-sandbox-failures writes the dataset without them`,
      );
    }
    const splits = splitSources({ run, store, options });
    const missing = missingTasks(run);
    if (splits.every((s) => s.rows === 0)) throw nothingToWrite({ matched: reports.find((r) => r.stage === "load-tasks")!.kept, missing, reports });
    if (missing.count > 0) {
      emit({
        type: "message",
        level: "warn",
        text: `${missing.count} programs of ${missing.tasks} tasks had no task to run on and were dropped (first: ${missing.first!.taskId}: ${missing.first!.detail}); give --tasks <root> or set ARC_DATA`,
      });
    }
    await mkdir(options.out, { recursive: true });
    outLock.clearPrevious();
    const tally = new ModelTally();
    const viewer = new ViewerSample({ refinement: options.format === "refinement" });
    const writing = await writeSplits({ out: options.out, splits, options, encoder, tally, viewer });
    // While the encoder compresses the last rows: the outputs that do not depend on the data files.
    const perTask = taskTable(run);
    writeJsonLinesSync(join(options.out, "tasks.jsonl"), perTask);
    const attempts = writeFates({ path: join(options.out, "fates.jsonl"), run, store });
    const trusted = run.tasks.filter((t) => t.trusted).map((t) => t.taskKey);
    const decontamination = await decontaminationReport({ options, cacheDir: params.cacheDir, tasks: run.tasks });
    const known = {
      arcforge: VERSION,
      created: new Date().toISOString(),
      options,
      sandbox,
      sandboxes: sandboxesOf(run),
      stages: reports,
      logs: run.logs,
      datasets: run.sources,
      source: run.source,
      tasks_taken_on_trust: trusted,
      decontamination: decontamination.manifest,
      attempts,
    };
    // The report too is rendered while the encoder compresses: only the splits' totals wait for the files.
    const report = reportPage(pageDataOf({ manifest: known, tasks: perTask, dir: options.out, title: params.title, viewer: viewer.result() }));
    const written = await writing.finished;
    const summary = [
      ...buildSummary({ reports, logs: run.logs, written, options }),
      ...decontamination.lines,
      ...summariseTasks(perTask),
      ...trustNote(trusted),
    ];
    await writeCard({
      out: options.out,
      card: datasetCard({
        title: params.title ?? cardTitle(tally),
        options,
        splits: written,
        summary,
        models: tally.table(),
        programs: programsByModel(reports),
      }),
    });
    const manifest: BuildManifest = { ...known, outputs: written, summary };
    writeFileAtomic(join(options.out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileAtomic(join(options.out, "report.html"), report(splitTotals(written)));
    return manifest;
  } finally {
    await Promise.all([closeAll(), cleaner.close(), normaliser.close(), store?.close()]);
    await closeKvStore(params.cacheDir);
    outLock.unlock();
    unlock();
  }
}

function sandboxesOf(run: BuildRun): BuildManifest["sandboxes"] {
  const byId = new Map<string, BuildManifest["sandboxes"][number]>();
  for (const task of run.tasks) {
    for (const f of task.runtimes ?? []) {
      const fingerprint = fingerprintId(f);
      byId.set(fingerprint, {
        fingerprint,
        backend: f.backend,
        isolation: f.isolation,
        python: f.python,
        numpy: f.numpy,
        seed: f.seeds.random,
      });
    }
  }
  return [...byId.values()].sort((a, b) => a.seed - b.seed || (a.fingerprint < b.fingerprint ? -1 : 1));
}

/** Said in the summary and the card only when it happens: labels that rest on the inputs' word. */
function trustNote(trusted: string[]): string[] {
  if (trusted.length === 0) return [];
  const named = trusted.slice(0, 10).join(", ") + (trusted.length > 10 ? `, and ${trusted.length - 10} more (manifest.json)` : "");
  return [`tasks taken on trust: ${trusted.length} had no task file, so the task their inputs embedded was used: ${named}`];
}

/** The sandbox's events as progress messages: queue state (every 5 s), replaced workers, health. */
function executorMessages(emit: (event: ProgressEvent) => void) {
  let lastQueueNote = 0;
  return (event: ExecutorEvent) => {
    if (event.type === "queue" && Date.now() - lastQueueNote >= 5000) {
      lastQueueNote = Date.now();
      emit({
        type: "message",
        level: "info",
        text: `queue: ${event.workers} worker(s) serve ${event.fingerprint}; jobs waiting ${event.waiting}, running ${event.active}, done ${event.done} of ${event.submitted}; ${event.audited} program(s) re-executed here by the audit`,
      });
    }
    if (event.type === "respawn")
      emit({ type: "message", level: event.cause === "died" ? "warn" : "info", text: `sandbox worker ${event.worker} replaced: ${event.reason}` });
    if (event.type === "health") {
      const rates = Object.entries(event.rates)
        .filter(([, r]) => r > 0)
        .map(([status, r]) => `${status} ${(r * 100).toFixed(1)}%`)
        .join(", ");
      emit({
        type: "message",
        level: "info",
        text: `sandbox: ${event.programs} programs, ${event.executions} executions (${rates}), ${event.meanMsPerProgram.toFixed(1)} ms a program`,
      });
    }
  };
}

/** Programs read per model, from the readers' counts. */
function programsByModel(reports: StageReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const report of reports.filter((r) => r.stage === readLogsStage.name || r.stage === readDatasetsStage.name))
    for (const [key, n] of Object.entries(report.counts)) {
      const model = key.startsWith(modelCount("")) ? key.slice(modelCount("").length) : undefined;
      if (model !== undefined) out[model] = (out[model] ?? 0) + n;
    }
  return out;
}

/** The resolved options are a contract: checked once, before anything runs. */
function checkOptions(options: BuildOptions): void {
  const problems = optionProblems(options);
  if (problems.length)
    throw new InputError(
      `the build options are not valid (${problems.join("; ")}): fix them where they were made (the command line, or the script calling buildDataset)`,
    );
}

/** Programs whose task could not be found: how many, of how many tasks, and the first. */
function missingTasks(run: BuildRun): { count: number; tasks: number; first?: Drop } {
  const missing = run.tasks.filter((t) => t.missing);
  return { count: missing.reduce((n, t) => n + t.missing!.count, 0), tasks: missing.length, first: missing[0]?.missing?.first };
}

/** Why a build has nothing to write, with the remedy: it fails instead of writing an empty dataset. */
function nothingToWrite(params: { matched: number; missing: ReturnType<typeof missingTasks>; reports: StageReport[] }): InputError {
  const { matched, missing } = params;
  if (matched === 0 && missing.count > 0) {
    return new InputError(
      `no program could be matched to its ARC task (${missing.count} programs; first: task ${missing.first!.taskId}: ${missing.first!.detail}). ` +
        "Give --tasks <root> (or set ARC_DATA) with <root>/<dataset>/{training,evaluation}/<task id>.json; no dataset was written",
    );
  }
  const where = params.reports
    .filter((r) => Object.keys(r.dropped).length > 0)
    .map(
      (r) =>
        `${r.stage}: ${Object.entries(r.dropped)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
    );
  return new InputError(`the build would write 0 rows, so no dataset was written. Where the programs went: ${where.join("; ") || "no programs were read"}`);
}

/** Each split's tasks in task-key order, their rows read from the stage store one task at a time. */
function splitSources(params: { run: BuildRun; store: StageStore; options: BuildOptions }): (SplitSource & { rows: number })[] {
  const { run, store } = params;
  const table = params.options.format === "programs";
  const pairs = pairMode(params.options);
  return (["train", "validation"] as SplitName[]).map((split) => {
    const tasks = run.tasks.filter((t) => splitOf(run, t) === split);
    // A generator, not a map: one task's rows in memory at a time.
    function* rowsByTask() {
      for (const task of tasks) yield taskRows({ store, task, idle: run.idle, table, pairs });
    }
    return { split, rows: tasks.reduce((n, t) => n + t.selected.rows, 0), tasks: rowsByTask };
  });
}

/**
 * The rows a finished build wrote, in output format, read back from its cache (every stage must
 * be cached): what arcforge meant to write, to check files against.
 */
export async function builtRows(params: { options: BuildOptions; cacheDir: string; createExecutor?: BuildParams["createExecutor"]; hub?: HubAccess }) {
  const { executorFor, closeAll } = executorsBySeed((seed) =>
    (params.createExecutor ?? defaultExecutor(params.options, params.cacheDir))(() => undefined, seed),
  );
  let store: StageStore | undefined;
  try {
    store = new StageStore(params.cacheDir);
    const run = await runBuild({
      options: params.options,
      store,
      context: {
        cacheDir: params.cacheDir,
        fresh: false,
        hub: params.hub ?? defaultHub(),
        emit: () => undefined,
        fingerprint: (seed) => executorFor(seed).fingerprint(),
        executor: () => Promise.reject(new CacheError("builtRows needs a finished build in this cache: a stage wanted to execute programs")),
      },
    });
    return formatSplits({ splits: splitSources({ run, store, options: params.options }), options: params.options });
  } finally {
    await Promise.all([closeAll(), store?.close()]);
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

/** HF_ENDPOINT and the token, found as every Hub client finds them (HF_TOKEN, else the saved one). */
function defaultHub(): HubAccess {
  return { hubUrl: process.env.HF_ENDPOINT ?? DEFAULT_HUB_URL, token: resolveToken({})?.token };
}

/** A build's data folders: what its programs must never see. */
export const buildFolders = (options: BuildOptions, cacheDir: string) => [options.tasks, ...options.logs, ...options.from, options.out, cacheDir];

function defaultExecutor(options: BuildOptions, cacheDir: string) {
  return (onEvent: (event: ExecutorEvent) => void, seed: number) =>
    createProcessExecutor({ ...options.limits, onEvent, seed, protect: protectedPaths(buildFolders(options, cacheDir)) });
}

/** A build's fates.jsonl, read back. */
export function readFates(dir: string): Fate[] {
  return readJsonLinesSync<Fate>(join(dir, "fates.jsonl"));
}

/**
 * Streams every attempt's fate to fates.jsonl, task by task, and checks as it goes that each
 * attempt the readers saw has exactly one fate. Log-level drops (whole files) are not attempts.
 */
function writeFates(params: { path: string; run: BuildRun; store: StageStore }): BuildManifest["attempts"] {
  const { run, store } = params;
  const provenance = (id: string): Fate["provenance"] => {
    const source = run.sources.find((s) => id.startsWith(`${s.source}:`));
    if (!source) return undefined;
    const [split, row] = id.slice(source.source.length + 1).split(":");
    return { source: source.source, ...(source.revision ? { revision: source.revision } : {}), split: split!, row: Number(row) };
  };
  const tally = { total: 0, kept: 0, dropped: {} as Record<string, number>, addsUp: true };
  const count = (fate: Fate): Fate => {
    if (fate.fate.startsWith("kept:")) tally.kept++;
    else tally.dropped[fate.fate] = (tally.dropped[fate.fate] ?? 0) + 1;
    // A fate of a log's attempt is written as it is: a copy per fate cost ~10% of them.
    const from = provenance(fate.attempt_id);
    return from ? { ...fate, provenance: from } : fate;
  };
  function* fates(): Generator<Fate> {
    for (const task of run.tasks) {
      const { fates: list, twins, read, twinsRead, countsAgree } = taskFates({ store, run, task, idle: run.idle });
      const seen = new Set(read);
      tally.total += read.length + twinsRead;
      tally.addsUp &&= countsAgree && seen.size === read.length && list.length === read.length;
      let previous: string | undefined;
      // Twins' fates are generated as they are written, merged into the task's id order.
      for (const [fate, source] of mergeSorted({ sources: [list, ...twins], key: (f) => f.attempt_id })) {
        tally.addsUp &&= (source > 0 || seen.has(fate.attempt_id)) && fate.attempt_id !== previous;
        previous = fate.attempt_id;
        yield count(fate);
      }
    }
    const loose = [...run.looseDrops].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    tally.total += loose.length;
    tally.addsUp &&= new Set(loose.map((d) => d.id)).size === loose.length;
    for (const d of loose)
      yield count({ attempt_id: d.id, ...(d.taskId ? { task_id: d.taskId } : {}), fate: d.reason, stage: d.stage, ...(d.detail ? { detail: d.detail } : {}) });
  }
  writeJsonLinesSync(params.path, fates());
  return { total: tally.total, kept: tally.kept, dropped: tally.dropped, adds_up: tally.addsUp };
}
