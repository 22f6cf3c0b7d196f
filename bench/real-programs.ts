import { join } from "node:path";
import { loadTask } from "../pipeline/sources/load-task.js";
import type { ExecJob } from "../pipeline/executor/types.js";
import { listLogFiles, parseLog } from "../stages/read-logs.js";
import { readFile } from "node:fs/promises";
import { taskInputs } from "../schemas/task.js";
import { DEFAULT_BUILD_OPTIONS } from "../schemas/build-options.js";

export const SHARED = process.env.ARCFORGE_SHARED ?? join(process.cwd(), "..", "shared");

/** Real programs from ../shared/run-logs, each with every train and test input of its task. */
export async function realPrograms(params: { every?: number } = {}): Promise<ExecJob[]> {
  const files = await listLogFiles([join(SHARED, "run-logs")]);
  const jobs: ExecJob[] = [];
  for (const file of files) {
    const parsed = parseLog({ file, text: await readFile(file.path, "utf8"), options: DEFAULT_BUILD_OPTIONS });
    if (!("attempts" in parsed)) continue;
    for (const attempt of parsed.attempts) {
      const found = await loadTask({ root: join(SHARED, "arc-data"), dataset: attempt.dataset, taskId: attempt.taskId });
      if (found) jobs.push({ programId: attempt.id, code: attempt.code, inputs: taskInputs(found.task) });
    }
  }
  const every = params.every ?? 1;
  return jobs.filter((_, i) => i % every === 0);
}
