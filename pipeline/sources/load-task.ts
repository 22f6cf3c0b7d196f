import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { nameProblem } from "../../schemas/names.js";
import { arcTaskSchema, TASK_ID, type ArcTask } from "../../schemas/task.js";
import { InputError } from "../common/errors.js";

export const SPLIT_FOLDERS = ["training", "evaluation"] as const;

/** The bytes and path of `<root>/<dataset>/{training,evaluation}/<taskId>.json`, training first, or null. */
export async function readTaskFile(params: { root: string; dataset: string; taskId: string }): Promise<{ bytes: Buffer; path: string } | null> {
  const problem =
    nameProblem({ what: "dataset", value: params.dataset }) ??
    (TASK_ID.test(params.taskId) ? null : `task id '${params.taskId.slice(0, 100)}' is not 8 hex characters`);
  if (problem) throw new InputError(`refusing to look up a task: ${problem}`);
  const root = resolve(params.root);
  for (const folder of SPLIT_FOLDERS) {
    const path = join(root, params.dataset, folder, `${params.taskId}.json`);
    // Names are checked above; this holds whatever a future caller passes.
    if (!resolve(path).startsWith(root + sep)) throw new InputError(`refusing to read ${path}: it is outside the task folder ${root}`);
    try {
      // Read at once: a task file is a few KiB, and every build keys every task on it (the
      // promise API's four round trips through the thread pool cost ~10x the read).
      return { bytes: readFileSync(path), path };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new InputError(`cannot read task file ${path}: ${(error as Error).message}`);
    }
  }
  return null;
}

/**
 * Reads and checks a task. Returns null when the task is in neither folder; throws InputError
 * when a file is malformed.
 */
export async function loadTask(params: { root: string; dataset: string; taskId: string }): Promise<{ task: ArcTask; path: string } | null> {
  if (!TASK_ID.test(params.taskId)) throw new InputError(`task id '${params.taskId}' is not 8 hex characters`);
  const file = await readTaskFile(params);
  if (file) {
    const { path } = file;
    const text = file.bytes.toString("utf8");
    const parsed = arcTaskSchema.safeParse(safeJson(text));
    if (!parsed.success)
      throw new InputError(
        `task file ${path} is not an ARC task: ${parsed.error.issues[0]?.message ?? "bad JSON"} at ${parsed.error.issues[0]?.path.join(".")}`,
      );
    return { task: parsed.data, path };
  }
  return null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Checks a --tasks folder's layout before anything runs: `<root>/<dataset>/{training,evaluation}`.
 * A folder one level too deep (it holds training/ itself) or too shallow (its subfolders hold
 * datasets) is refused, naming the level to give.
 */
export function checkTasksRoot(root: string): void {
  if (!existsSync(root))
    throw new InputError(`--tasks ${root} does not exist: give the folder that holds <dataset>/{training,evaluation}/<id>.json (or set ARC_DATA)`);
  const dirs = (dir: string) =>
    readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  const holdsSplits = (dir: string) => dirs(dir).some((d) => (SPLIT_FOLDERS as readonly string[]).includes(d));
  if (holdsSplits(root))
    throw new InputError(`--tasks ${root} is one level too deep: it holds ${SPLIT_FOLDERS.join("/")} itself; give its parent, ${dirname(resolve(root))}`);
  if (dirs(root).some((d) => holdsSplits(join(root, d)))) return;
  const deeper = dirs(root).find((d) => dirs(join(root, d)).some((dataset) => holdsSplits(join(root, d, dataset))));
  if (deeper) throw new InputError(`--tasks ${root} is one level too shallow: the datasets are in ${join(root, deeper)}; give that folder`);
  throw new InputError(`--tasks ${root} holds no <dataset>/{training,evaluation} folder of ARC tasks`);
}
