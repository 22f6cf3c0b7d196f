import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { attemptList, detachTasks, embeddedTaskOf, layoutOf, parseAttempt, reasoningOf, runLogSchema, type Attempt, type AttemptDrop } from "../schemas/run-log.js";
import type { BuildOptions } from "../schemas/build-options.js";
import { InputError } from "../pipeline/common/errors.js";
import type { Stage, StageOutput } from "../pipeline/engine/stage.js";
import { type Drop } from "../schemas/drop.js";

export interface LogFile {
  /** `<logs folder name>/<path inside it>`: stable whatever the working directory. */
  id: string;
  path: string;
  name: string;
}

/** What became of one log file. */
export interface LogFate {
  file: string;
  sha256?: string;
  kept: boolean;
  reason?: string;
  detail?: string;
  attempts?: number;
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
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
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

export const readLogsStage: Stage<BuildOptions> = {
  name: "read-logs",
  version: 6,
  after: [],
  async key(options) {
    const files = await listLogFiles(options.logs);
    const digests = await Promise.all(files.map(async (f) => [f.id, sha256(await readFile(f.path))]));
    const { models, dataset, subset, dateFrom, dateTo, pattern, limit } = options;
    return { filters: { models: models.map((m) => m.toLowerCase()).sort(), dataset, subset, dateFrom, dateTo, pattern, limit }, files: digests };
  },
  async run({ options, context }): Promise<StageOutput<Attempt>> {
    const files = await listLogFiles(options.logs);
    const fates: LogFate[] = [];
    const parsed: { file: LogFile; sha256: string; attempts: Attempt[]; drops: AttemptDrop[] }[] = [];
    let done = 0;
    for (const file of files) {
      context.emit({ type: "progress", stage: "read-logs", done: done++, total: files.length });
      const byName = nameFilter(file, options);
      if (byName) {
        fates.push({ file: file.id, kept: false, ...byName });
        continue;
      }
      const bytes = await readFile(file.path);
      const digest = sha256(bytes);
      const result = parseLog({ file, text: bytes.toString("utf8"), options });
      if ("reason" in result) fates.push({ file: file.id, sha256: digest, kept: false, reason: result.reason, detail: result.detail });
      else parsed.push({ file, sha256: digest, ...result });
    }
    const limited = new Set(options.limit !== undefined ? parsed.slice(Math.max(0, parsed.length - options.limit)) : parsed);
    const records: Attempt[] = [];
    const drops: Drop[] = [];
    for (const entry of parsed) {
      if (!limited.has(entry)) {
        fates.push({ file: entry.file.id, sha256: entry.sha256, kept: false, reason: "filtered_limit" });
        continue;
      }
      fates.push({ file: entry.file.id, sha256: entry.sha256, kept: true, attempts: entry.attempts.length + entry.drops.length });
      records.push(...entry.attempts);
      drops.push(...entry.drops);
    }
    fates.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    for (const fate of fates) if (!fate.kept) drops.push({ id: fate.file, scope: "file", reason: fate.reason!, ...(fate.detail ? { detail: fate.detail } : {}) });
    const { records: attempts, embedded } = detachTasks(records);
    const taskKeys = [...new Set(attempts.map((a) => `${a.dataset}/${a.taskId}`).filter((key) => !embedded[key]))].sort();
    const unique = (values: (string | null)[]) => [...new Set(values.map((v) => v ?? "unknown"))].sort();
    const source = { datasets: unique(attempts.map((a) => a.dataset)), subsets: unique(attempts.map((a) => a.subset)) };
    return { records: attempts, drops, data: { logs: fates, taskKeys, embedded, attemptIds: attempts.map((a) => a.id), source } };
  },
};

/** One log file's attempts, or why the whole file is dropped. */
export function parseLog(params: { file: LogFile; text: string; options: Pick<BuildOptions, "models" | "dataset" | "subset"> }):
  | { attempts: Attempt[]; drops: AttemptDrop[] }
  | { reason: string; detail?: string } {
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
  const dataset = log.dataset ?? "arc-agi-1";
  if (options.models.length > 0 && !options.models.some((m) => m.toLowerCase() === log.model.toLowerCase())) return { reason: "filtered_model", detail: log.model };
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
    if (layout === "multiturn" && position > 0) return drops.push({ id, taskId, reason: "multiturn_later_turn" });
    if (typeof attempt === "string") return drops.push({ id, taskId, reason: "malformed_attempt", detail: attempt });
    if (attempt.program_extracted === false || !attempt.program?.trim()) return drops.push({ id, taskId, reason: "no_program" });
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
    });
  });
  return { attempts, drops };
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
