import pLimit from "p-limit";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { attemptList, embeddedTaskOf, layoutOf, parseAttempt, reasoningOf, runLogSchema, type Attempt, type AttemptDrop } from "../schemas/run-log.js";
import { MAX_CODE_BYTES, MAX_LOG_BYTES, pairMode, type BuildOptions } from "../schemas/build-options.js";
import { pairSources } from "./pair-programs.js";
import { nameProblem } from "../schemas/names.js";
import { InputError } from "../pipeline/common/errors.js";
import { sha256 } from "../pipeline/common/sha256.js";
import { FileDigests } from "../pipeline/store/file-digests.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import type { TaskShard } from "../pipeline/engine/task-shards.js";
import type { Drop } from "../schemas/drop.js";
import { TaskShardWriter } from "../pipeline/engine/task-shards.js";
import type { LogFate } from "../schemas/build-manifest.js";
import { countList } from "../pipeline/common/count-list.js";

export interface LogFile {
  /** `<logs folder name>/<path inside it>`: stable whatever the working directory. */
  id: string;
  path: string;
  name: string;
}

const TIMESTAMP = /^(\d{8})_(\d{6})/;

/**
 * A short name per log folder for attempt ids: its base name, or as many trailing path segments as
 * it takes to tell it from the other folders (two `--logs` folders may share a base name).
 */
export function folderNames(folders: string[]): Map<string, string> {
  const absolute = [...new Set(folders.map((f) => resolve(f)))].sort();
  const segments = absolute.map((a) => a.split(sep).filter(Boolean));
  const depth = absolute.map(() => 1);
  const nameOf = (i: number) => segments[i]!.slice(-depth[i]!).join("/") || "root";
  for (let changed = true; changed; ) {
    changed = false;
    const byName = new Map<string, number[]>();
    absolute.forEach((_, i) => byName.set(nameOf(i), [...(byName.get(nameOf(i)) ?? []), i]));
    for (const clash of byName.values()) {
      if (clash.length < 2) continue;
      for (const i of clash) {
        if (depth[i]! < segments[i]!.length) {
          depth[i]!++;
          changed = true;
        }
      }
    }
  }
  return new Map(absolute.map((a, i) => [a, nameOf(i)]));
}

/**
 * Every `*.json` below the folders, summaries included (they are skipped with a reason later). A
 * file reached through two folders (one inside the other) is listed once, under the outer one.
 */
export async function listLogFiles(folders: string[]): Promise<LogFile[]> {
  const names = folderNames(folders);
  const files: LogFile[] = [];
  const seen = new Set<string>();
  for (const [folder, name] of names) {
    const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      throw new InputError(`cannot read the log folder ${folder}: ${error.code === "ENOENT" ? "it does not exist" : error.message}`);
    });
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith(".json")) continue;
      const path = join(entry.parentPath, entry.name);
      if (seen.has(path)) continue;
      seen.add(path);
      files.push({ id: `${name}/${relative(folder, path)}`, path, name: entry.name });
    }
  }
  // File names start with a timestamp, so name order is time order; the id breaks ties.
  return files.sort((a, b) => (a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1));
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/** read-logs' data: each log file's fate, the task shards it wrote, and the runs they came from. */
export interface ReadLogsData {
  logs: LogFate[];
  shards: TaskShard[];
  source: { datasets: string[]; subsets: string[] };
}

/** Why a file is left out by its name alone, or null. */
function nameFilter(file: LogFile, options: BuildOptions): { reason: string; detail?: string } | null {
  if (file.name.includes("summary")) return { reason: "summary_file" };
  if (options.pattern && !globToRegExp(options.pattern).test(file.name)) return { reason: "filtered_pattern" };
  if (options.dateFrom || options.dateTo) {
    const date = TIMESTAMP.exec(file.name)?.[1];
    if (!date) return { reason: "filtered_date", detail: "no YYYYMMDD_HHMMSS timestamp at the start of the name" };
    if ((options.dateFrom && date < options.dateFrom) || (options.dateTo && date > options.dateTo)) return { reason: "filtered_date", detail: date };
  }
  return null;
}

export const readLogsStage = defineStage<BuildOptions, never, Attempt, ReadLogsData>({
  name: "read-logs",
  version: 10,
  reader: true,
  summary: ({ report, logs }) => {
    const logDrops: Record<string, number> = {};
    for (const log of logs) if (!log.kept) logDrops[log.reason!] = (logDrops[log.reason!] ?? 0) + 1;
    const attemptDrops = Object.fromEntries(Object.entries(report.dropped).filter(([k]) => !(k in logDrops)));
    return [
      `log files: ${logs.length}, kept ${logs.filter((l) => l.kept).length} (dropped: ${countList(logDrops)})`,
      `programs: ${report.kept} (attempts dropped: ${countList(attemptDrops)})`,
    ];
  },
  async key(options, _upstream, context) {
    const files = await listLogFiles(options.logs);
    // A few files at a time: reading them all at once would hold the whole corpus in memory.
    const limit = pLimit(8);
    const known = new FileDigests({ cacheDir: context.cacheDir, fresh: context.fresh });
    const digests = await Promise.all(files.map((f) => limit(async () => [f.id, await known.sha256(f.path)])));
    const { models, dataset, subset, dateFrom, dateTo, pattern } = options;
    return {
      filters: {
        models: models.map((m) => m.toLowerCase()).sort(),
        dataset,
        subset,
        dateFrom,
        dateTo,
        pattern,
        limit: options.limit,
        maxLogBytes: maxLogBytes(options),
        ...(readsTurns(options) ? { turns: true } : {}),
      },
      files: digests,
    };
  },
  async run({ options, context, dir }): Promise<StageOutput<Attempt, ReadLogsData>> {
    const files = await listLogFiles(options.logs);
    const fates: LogFate[] = [];
    const kept = options.limit === undefined ? undefined : await lastParsed({ files, options, limit: options.limit });
    const shards = new TaskShardWriter(dir);
    const dropped: Record<string, number> = {};
    const datasets = new Set<string>();
    const subsets = new Set<string>();
    let attempts = 0;
    let done = 0;
    const byModel: Record<string, number> = {};
    for (const file of files) {
      context.emit({ type: "progress", stage: "read-logs", done: done++, total: files.length });
      const byName = nameFilter(file, options);
      if (byName) {
        fates.push({ file: file.id, kept: false, ...byName });
        continue;
      }
      const size = await tooLarge(file, options);
      if (size) {
        fates.push({ file: file.id, kept: false, reason: "malformed_log", detail: size });
        continue;
      }
      const bytes = await readFile(file.path);
      const digest = sha256(bytes);
      const result = parseLog({ file, text: bytes.toString("utf8"), options });
      if ("reason" in result) fates.push({ file: file.id, sha256: digest, kept: false, reason: result.reason, detail: result.detail });
      else if (kept && !kept.has(file.id)) fates.push({ file: file.id, sha256: digest, kept: false, reason: "filtered_limit" });
      else {
        fates.push({ file: file.id, sha256: digest, kept: true, attempts: result.attempts.length + result.drops.length });
        for (const attempt of result.attempts) {
          shards.attempt(attempt);
          byModel[modelCount(attempt.model)] = (byModel[modelCount(attempt.model)] ?? 0) + 1;
          datasets.add(attempt.dataset);
          subsets.add(attempt.subset ?? "unknown");
        }
        for (const drop of result.drops) {
          shards.drop({ dataset: result.dataset, drop });
          dropped[drop.reason] = (dropped[drop.reason] ?? 0) + 1;
        }
        attempts += result.attempts.length;
      }
    }
    fates.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const drops: Drop[] = fates
      .filter((f) => !f.kept)
      .map((fate) => ({ id: fate.file, scope: "file", reason: fate.reason!, ...(fate.detail ? { detail: fate.detail } : {}) }));
    const source = { datasets: [...datasets].sort(), subsets: [...subsets].sort() };
    return { records: [], kept: attempts, drops, dropped, counts: byModel, data: { logs: fates, shards: shards.close(), source } };
  },
});

/** The count of a model's programs among a reader's counts: the card's table per model reads them. */
export const modelCount = (model: string) => `model:${model}`;

const maxLogBytes = (options: Pick<BuildOptions, "maxLogBytes">) => options.maxLogBytes ?? MAX_LOG_BYTES;

/** Why a file is too large to read (checked before reading it), or null. */
async function tooLarge(file: LogFile, options: BuildOptions): Promise<string | null> {
  const { size } = await stat(file.path);
  const limit = maxLogBytes(options);
  return size > limit ? `${size} bytes, over --max-log-bytes ${limit}: not read` : null;
}

/** With --limit n: the ids of the last n files that parse (a file that does not is never counted). */
async function lastParsed(params: { files: LogFile[]; options: BuildOptions; limit: number }): Promise<Set<string>> {
  const parsed: string[] = [];
  for (const file of params.files) {
    if (nameFilter(file, params.options) || (await tooLarge(file, params.options))) continue;
    const result = parseLog({ file, text: await readFile(file.path, "utf8"), options: params.options });
    if (!("reason" in result)) parsed.push(file.id);
  }
  return new Set(parsed.slice(Math.max(0, parsed.length - params.limit)));
}

/** One log file's attempts, or why the whole file is dropped. */
/** Later turns of multi-turn logs are read only for refinement pairs from them. */
const readsTurns = (options: Pick<BuildOptions, "format" | "pairs">) => pairMode(options) && pairSources(options).includes("multiturn");

export function parseLog(params: {
  file: LogFile;
  text: string;
  options: Pick<BuildOptions, "models" | "dataset" | "subset" | "format" | "pairs">;
}): { attempts: Attempt[]; drops: AttemptDrop[]; dataset: string } | { reason: string; detail?: string } {
  const { file, options } = params;
  let json: unknown;
  try {
    json = JSON.parse(params.text);
  } catch (error) {
    return { reason: "invalid_json", detail: (error as Error).message };
  }
  const parsed = runLogSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { reason: "malformed_log", detail: `${issue.path.join(".") || "log"}: ${issue.message}` };
  }
  const log = parsed.data;
  for (const [what, value] of [
    ["dataset", log.dataset],
    ["subset", log.subset],
  ] as const) {
    const problem = value ? nameProblem({ what, value }) : null;
    if (problem) return { reason: "malformed_log", detail: problem };
  }
  const dataset = log.dataset ?? "arc-agi-1";
  if (options.models.length > 0 && !options.models.some((m) => m.toLowerCase() === log.model.toLowerCase()))
    return { reason: "filtered_model", detail: log.model };
  if (options.dataset && options.dataset !== dataset) return { reason: "filtered_dataset", detail: dataset };
  if (options.subset && options.subset !== log.subset) return { reason: "filtered_subset", detail: log.subset ?? "no subset" };
  const layout = layoutOf(log);
  if (!layout) return { reason: "unknown_layout", detail: `api_type '${log.api_type}'` };
  const list = attemptList(log, layout);
  if (typeof list === "string") return { reason: "malformed_log", detail: list };
  if (list.items.length === 0) return { reason: "no_attempts" };

  const embeddedTask = layout === "all_attempts" ? embeddedTaskOf(log) : undefined;
  const attempts: Attempt[] = [];
  const drops: AttemptDrop[] = [];
  list.items.forEach((item, position) => {
    const attempt = parseAttempt(item);
    const number = typeof attempt === "string" ? position + 1 : (attempt.attempt_number ?? position + 1);
    const id = `${file.id}#${number}`;
    const taskId = log.task_id;
    const turns = layout === "multiturn" && readsTurns(options);
    if (layout === "multiturn" && position > 0 && !turns) return drops.push({ id, taskId, reason: "multiturn_later_turn" });
    if (typeof attempt === "string") return drops.push({ id, taskId, reason: "malformed_attempt", detail: attempt });
    if (attempt.program_extracted === false || !attempt.program?.trim()) return drops.push({ id, taskId, reason: "no_program" });
    const codeBytes = Buffer.byteLength(attempt.program);
    if (codeBytes > MAX_CODE_BYTES)
      return drops.push({ id, taskId, reason: "malformed_attempt", detail: `a program of ${codeBytes} bytes, over the ${MAX_CODE_BYTES}-byte cap` });
    attempts.push({
      id,
      logFile: file.id,
      taskId: log.task_id,
      dataset,
      taskKey: `${dataset}/${log.task_id}`,
      subset: log.subset ?? null,
      model: log.model,
      attemptNumber: number,
      code: attempt.program,
      reasoning: reasoningOf(attempt, list.responses, position, list.items.length),
      loggedTestCorrect: attempt.test_correct ?? attempt.test_result?.correct ?? null,
      ...(embeddedTask ? { embeddedTask } : {}),
      ...(turns ? { turn: position } : {}),
    });
  });
  return { attempts, drops, dataset };
}
