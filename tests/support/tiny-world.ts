import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import type { ArcTask } from "../../schemas/task.js";
import { tempDir } from "./stage-harness.js";

/** "Mirror each row": a task whose right answer is obvious, shared by the specs that build tiny worlds. */
export const MIRROR: ArcTask = {
  train: [
    {
      input: [
        [1, 2],
        [3, 4],
      ],
      output: [
        [2, 1],
        [4, 3],
      ],
    },
    { input: [[5, 6]], output: [[6, 5]] },
  ],
  test: [{ input: [[7, 8]], output: [[8, 7]] }],
};

export const MIRROR_CODE = "def transform(g):\n    return [row[::-1] for row in g]";

export interface TinyProgram {
  task: string;
  code: string;
  dataset?: string;
  /** Which --logs folder (relative to the world) holds its log; default "logs". */
  folder?: string;
  /** The log file's timestamp (file names start with it): the order "first" means. */
  time?: string;
  model?: string;
}

/**
 * A made-up world where the right answer is obvious: task files under <dir>/tasks and one
 * independent_attempts log per program.
 */
export async function tinyWorld(params: { tasks: Record<string, ArcTask | [string, ArcTask][]>; programs: TinyProgram[]; options?: Partial<BuildOptions> }) {
  const dir = await tempDir("arcforge-tiny-");
  for (const [id, spec] of Object.entries(params.tasks)) {
    const perDataset: [string, ArcTask][] = Array.isArray(spec) ? spec : [["arc-agi-1", spec]];
    for (const [dataset, task] of perDataset) {
      await mkdir(join(dir, "tasks", dataset, "training"), { recursive: true });
      await writeFile(join(dir, "tasks", dataset, "training", `${id}.json`), JSON.stringify(task));
    }
  }
  const folders = new Set<string>();
  for (const [k, p] of params.programs.entries()) {
    const folder = join(dir, p.folder ?? "logs");
    folders.add(folder);
    await mkdir(folder, { recursive: true });
    const log = {
      task_id: p.task,
      model: p.model ?? "tiny-model",
      api_type: "chat_completions_independent_attempts",
      ...(p.dataset ? { dataset: p.dataset } : {}),
      independent_attempts_data: { attempt_details: [{ attempt_number: 1, program_extracted: true, program: p.code }] },
    };
    await writeFile(join(folder, `${p.time ?? "20250901_000000"}_${String(k).padStart(6, "0")}_1_${p.task}.json`), JSON.stringify(log));
  }
  const options: BuildOptions = {
    ...DEFAULT_BUILD_OPTIONS,
    limits: { timeoutSeconds: 0.5, memoryBytes: 1 << 30 },
    logs: [...folders].sort(),
    tasks: join(dir, "tasks"),
    out: join(dir, "out"),
    ...params.options,
  };
  return { dir, options };
}
