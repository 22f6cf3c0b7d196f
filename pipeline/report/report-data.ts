import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../common/errors.js";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { readParquetRows } from "../parquet/read-parquet-rows.js";
import { loadTask } from "../sources/load-task.js";
import type { ArcTask } from "../../schemas/task.js";
import { type ViewerRow, ViewerSample } from "./viewer-sample.js";
import { type BuildManifest, splitTotals, type TaskLine } from "../../schemas/build-manifest.js";

/** One stage of the funnel: what it kept, and why it dropped the rest. */
export interface FunnelStep {
  stage: string;
  kept: number;
  dropped: Record<string, number>;
}

export type { ViewerRow };

/** Everything report.html shows, aggregated in Node: the page embeds only this. */
export interface ReportData {
  title: string;
  created: string;
  format: string;
  attempts: { total: number; kept: number };
  funnel: FunnelStep[];
  sandbox: {
    backend: string;
    isolation: string;
    python: string;
    numpy: string;
    outcomes: Record<string, number>;
    executions: number;
    msPerProgram: number;
    cacheHits: number;
  } | null;
  splits: { split: string; rows: number; tasks: number }[];
  /** Against which evaluation splits the tasks were checked, and how many were dropped. */
  decontamination: string;
  /** A refinement build: pairs by source and hindsight bucket. */
  pairs?: string;
  tasks: TaskLine[];
  /** Rows of the viewer by `<dataset>/<task>`: a sample per task, within a size budget. */
  viewer: Record<string, ViewerRow[]>;
  viewerNote: string;
}

function pairsNote(manifest: Pick<BuildManifest, "stages">): { pairs?: string } {
  const counts = manifest.stages.find((s) => s.stage === "pair")?.counts;
  if (!counts || counts.pairs === undefined) return {};
  const by = (prefix: string, names: string[]) => names.map((n) => `${n} ${counts[`${prefix}${n}`] ?? 0}`).join(", ");
  return {
    pairs: `${counts.pairs} refinement pairs: ${by("pairs_", ["multiturn", "refined", "hindsight"])}; hindsight parents by bucket: ${by("bucket_", ["zero", "low", "medium", "max"])}`,
  };
}

function decontaminationNote(manifest: Pick<BuildManifest, "decontamination">): string {
  const d = manifest.decontamination;
  if (!d) return "decontamination: not recorded";
  if (d.against.length === 0) return `decontamination: off (${d.off ?? "none"})`;
  return `decontaminated against ${d.against.join(", ")}: ${d.contaminated.length} tasks dropped, ${d.overlap.length} overlapping kept${d.evaluation_tasks.length ? `, ${d.evaluation_tasks.length} evaluation tasks in the build` : ""}`;
}

const number = (value: unknown) => (typeof value === "number" ? value : 0);

/** What report.html shows but the splits' totals: all known before a build's data files are complete. */
export type PageData = Omit<ReportData, "splits">;

/** The page's data from a build's manifest (its outputs not needed), its task lines and the viewer's rows. */
export function pageDataOf(params: {
  manifest: Omit<BuildManifest, "outputs" | "summary">;
  tasks: TaskLine[];
  dir: string;
  title?: string;
  viewer: Pick<ReportData, "viewer" | "viewerNote">;
}): PageData {
  const { manifest } = params;
  const execute = manifest.stages.find((s) => s.stage === "execute");
  const outcomes = Object.fromEntries(
    Object.entries(execute?.counts ?? {})
      .filter(([k]) => k.startsWith("outcome_"))
      .map(([k, v]) => [k.slice("outcome_".length), v]),
  );
  const programs = execute ? execute.kept + Object.values(execute.dropped).reduce((a, b) => a + b, 0) : 0;
  return {
    title: params.title ?? `arcforge build: ${params.dir.split("/").filter(Boolean).pop()}`,
    created: manifest.created,
    format: manifest.options.format,
    attempts: { total: manifest.attempts.total, kept: manifest.attempts.kept },
    funnel: manifest.stages.map((s) => ({ stage: s.stage, kept: s.kept, dropped: s.stage === "read-logs" ? labelFileDrops(s.dropped, manifest) : s.dropped })),
    sandbox: manifest.sandbox
      ? {
          backend: manifest.sandbox.backend,
          isolation: manifest.sandbox.isolation,
          python: manifest.sandbox.python,
          numpy: manifest.sandbox.numpy,
          outcomes,
          executions: number(execute?.counts.executions),
          msPerProgram: programs ? number(execute?.counts.program_ms_total) / programs : 0,
          cacheHits: number(execute?.counts.cache_hits),
        }
      : null,
    decontamination: decontaminationNote(manifest),
    ...pairsNote(manifest),
    tasks: params.tasks,
    ...params.viewer,
  };
}

/** The report's data from a built dataset folder: manifest.json, tasks.jsonl and the split files. */
export async function reportData(params: { dir: string; title?: string }): Promise<{ page: PageData; splits: ReportData["splits"] }> {
  const manifestPath = join(params.dir, "manifest.json");
  if (!existsSync(manifestPath)) throw new InputError(`${params.dir} is not an arcforge dataset folder: it has no manifest.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as BuildManifest;
  const tasksPath = join(params.dir, "tasks.jsonl");
  const tasks = existsSync(tasksPath)
    ? (readFileSync(tasksPath, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)) as TaskLine[])
    : [];
  // A build samples its rows as it writes them (pageDataOf); a folder's are read back.
  const viewer = await viewerRows({ dir: params.dir, manifest, tasks });
  return { page: pageDataOf({ manifest, tasks, dir: params.dir, title: params.title, viewer }), splits: splitTotals(manifest.outputs) };
}

/** read-logs drops whole files as well as attempts: say which reasons count files. */
function labelFileDrops(dropped: Record<string, number>, manifest: Pick<BuildManifest, "logs">): Record<string, number> {
  const fileReasons = new Set(manifest.logs.filter((l) => !l.kept).map((l) => l.reason));
  return Object.fromEntries(Object.entries(dropped).map(([reason, n]) => [fileReasons.has(reason) ? `${reason} (log files)` : reason, n]));
}

/** A split's rows as written: Parquet, or JSON lines for the OpenAI formats. */
async function* writtenRows(path: string): AsyncGenerator<Record<string, unknown>> {
  if (!path.endsWith(".jsonl")) return yield* readParquetRows({ path, lazy: true });
  for await (const line of createInterface({ input: createReadStream(path) })) if (line.trim()) yield JSON.parse(line) as Record<string, unknown>;
}

/**
 * Which task each row of a split belongs to, for formats whose rows do not say (chat messages):
 * the writer writes a split's tasks in tasks.jsonl's order, each its `kept` rows.
 */
function taskOfRow(tasks: TaskLine[], split: string): (index: number) => string {
  const owners = tasks.filter((t) => t.split === split).flatMap((t) => Array<string>(t.kept).fill(`${t.dataset}/${t.task_id}`));
  return (index) => owners[index] ?? "unknown";
}

async function viewerRows(params: { dir: string; manifest: BuildManifest; tasks: TaskLine[] }): Promise<Pick<ReportData, "viewer" | "viewerNote">> {
  const sample = new ViewerSample({ refinement: params.manifest.options.format === "refinement" });
  const taskFiles = new Map<string, Promise<ArcTask | undefined>>();
  // SOAR rows hold no task grids: they come from the task files the build read.
  const taskOf = (key: string) => {
    const [dataset, taskId] = key.split("/") as [string, string];
    const root = params.manifest.options.tasks;
    if (!taskFiles.has(key))
      taskFiles.set(
        key,
        root
          ? loadTask({ root, dataset, taskId }).then(
              (t) => t?.task,
              () => undefined,
            )
          : Promise.resolve(undefined),
      );
    return taskFiles.get(key)!;
  };
  // A split's shards continue one another: row numbers run on across files.
  const next = new Map<string, number>();
  for (const output of params.manifest.outputs) {
    const owner = taskOfRow(params.tasks, output.split);
    let index = next.get(output.split) ?? 0;
    for await (const row of writtenRows(join(params.dir, output.path))) {
      const key =
        row.task_id !== undefined
          ? `${String(row.dataset ?? params.tasks.find((t) => t.task_id === row.task_id)?.dataset ?? "arc-agi-1")}/${String(row.task_id)}`
          : owner(index);
      next.set(output.split, ++index);
      if (!sample.wants(key)) continue;
      const task = row.train_input === undefined && !row.messages ? await taskOf(key) : undefined;
      sample.add({ split: output.split, key, row, task });
    }
  }
  return sample.result();
}
