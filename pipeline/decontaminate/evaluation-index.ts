import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { canonicalGrid } from "../../schemas/canonical-grid.js";
import { nameProblem } from "../../schemas/names.js";
import { arcTaskSchema, taskInputs } from "../../schemas/task.js";
import { cacheKey } from "../common/canonical-json.js";
import { InputError } from "../common/errors.js";
import { sha256 } from "../common/sha256.js";
import { writeFileAtomic } from "../common/write-file-atomic.js";

/** The evaluation tasks' input grids, by canonical form: what a build's tasks are checked against. */
export interface EvaluationIndex {
  /** The splits indexed, as `dataset/split`. */
  against: string[];
  /** Every task file indexed (relative to the task root) and its sha256. */
  files: Record<string, string>;
  /** Of the files' digests: the index's identity, in stage keys and the manifest. */
  digest: string;
  /** Canonical input grid -> the evaluation tasks (`dataset/id`) that have it as an input. */
  byGrid: Map<string, string[]>;
}

/** Every `<dataset>/evaluation` folder under the task root: the default decontamination set. */
export function evaluationSplits(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, "evaluation")))
    .map((d) => `${d.name}/evaluation`)
    .sort();
}

const built = new Map<string, Promise<EvaluationIndex>>();

/**
 * The index of the evaluation splits under `root`, built once per set of task files: kept in
 * memory for the build, and on disk under the cache by the files' digest.
 */
export function evaluationIndex(params: { root: string; against: string[]; cacheDir: string }): Promise<EvaluationIndex> {
  const key = cacheKey([resolve(params.root), params.against]);
  let found = built.get(key);
  if (!found) {
    found = build(params);
    built.set(key, found);
    found.catch(() => built.delete(key));
  }
  return found;
}

async function build(params: { root: string; against: string[]; cacheDir: string }): Promise<EvaluationIndex> {
  const files: Record<string, string> = {};
  const contents = new Map<string, Buffer>();
  for (const split of params.against) {
    const [dataset, folder, ...rest] = split.split("/");
    const problem =
      !dataset || !folder || rest.length
        ? `'${split}' is not dataset/split`
        : (nameProblem({ what: "dataset", value: dataset }) ?? nameProblem({ what: "split", value: folder }));
    if (problem) throw new InputError(`--decontaminate: ${problem}`);
    const dir = join(params.root, dataset, folder);
    if (!existsSync(dir))
      throw new InputError(
        `--decontaminate names ${split}, but ${dir} does not exist (the splits under --tasks: ${evaluationSplits(params.root).join(", ") || "none"})`,
      );
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .sort()) {
      const bytes = readFileSync(join(dir, name));
      files[`${split}/${name}`] = sha256(bytes);
      contents.set(`${dataset}/${name.replace(/\.json$/, "")}`, bytes);
    }
  }
  const digest = cacheKey({ against: params.against, files });
  const stored = join(params.cacheDir, "decontamination", `${digest}.json`);
  if (existsSync(stored)) {
    const entries = JSON.parse(readFileSync(stored, "utf8")) as [string, string[]][];
    return { against: params.against, files, digest, byGrid: new Map(entries) };
  }
  const byGrid = new Map<string, string[]>();
  for (const [taskKey, bytes] of contents) {
    const parsed = arcTaskSchema.safeParse(JSON.parse(bytes.toString("utf8")));
    if (!parsed.success) throw new InputError(`${taskKey} (--decontaminate) is not an ARC task: ${parsed.error.issues[0]?.message}`);
    for (const grid of taskInputs(parsed.data)) {
      const canonical = canonicalGrid(grid);
      const keys = byGrid.get(canonical) ?? [];
      if (!keys.includes(taskKey)) keys.push(taskKey);
      byGrid.set(canonical, keys);
    }
  }
  mkdirSync(join(params.cacheDir, "decontamination"), { recursive: true });
  writeFileAtomic(stored, JSON.stringify([...byGrid]));
  return { against: params.against, files, digest, byGrid };
}
