import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Grid } from "../../schemas/grid.js";
import type { ArcTask } from "../../schemas/task.js";

/**
 * A small, self-made world for the demo and the tests: ARC-like tasks and run logs in all four
 * layouts, holding every kind of program a real run produces (right, wrong, crashing, looping,
 * hard-coding, duplicated) and every kind of bad file.
 */
const flip = (g: Grid) => g.map((row) => [...row].reverse());
const recolor = (g: Grid) => g.map((row) => row.map((c) => (c === 1 ? 2 : c)));
const transpose = (g: Grid) => g[0]!.map((_, c) => g.map((row) => row[c]!));
const count = (g: Grid) => [[g.flat().filter((c) => c !== 0).length % 10]];
const tile = (g: Grid) => [...g, ...g].map((row) => [...row, ...row]);

function task(rule: (g: Grid) => Grid, inputs: Grid[], tests: Grid[]): ArcTask {
  return { train: inputs.map((input) => ({ input, output: rule(input) })), test: tests.map((input) => ({ input, output: rule(input) })) };
}

export const DEMO_TASKS: Record<string, { dataset: string; task: ArcTask; onDisk: boolean }> = {
  a1b2c3d4: {
    dataset: "arc-agi-1",
    onDisk: true,
    task: task(
      flip,
      [
        [
          [1, 0, 0],
          [0, 2, 0],
        ],
        [
          [3, 3, 0],
          [0, 0, 4],
        ],
        [[5, 0, 6]],
      ],
      [
        [
          [7, 8, 9],
          [0, 1, 2],
        ],
      ],
    ),
  },
  b2c3d4e5: {
    dataset: "arc-agi-1",
    onDisk: true,
    task: task(
      recolor,
      [
        [
          [1, 1],
          [0, 1],
        ],
        [[1, 3, 1]],
        [
          [0, 0],
          [1, 0],
        ],
      ],
      [
        [
          [1, 0, 1],
          [4, 1, 4],
        ],
      ],
    ),
  },
  c3d4e5f6: {
    dataset: "arc-agi-1",
    onDisk: true,
    task: task(
      transpose,
      [
        [
          [1, 2],
          [3, 4],
        ],
        [[5, 6, 7]],
        [[1], [2]],
      ],
      [
        [
          [9, 8],
          [7, 6],
          [5, 4],
        ],
        [[1, 1, 2]],
      ],
    ),
  },
  d4e5f6a7: {
    dataset: "arc-agi-1",
    onDisk: true,
    task: task(
      count,
      [
        [
          [1, 0],
          [0, 1],
        ],
        [[3, 3, 3]],
        [
          [0, 5, 0],
          [5, 5, 5],
        ],
      ],
      [[[2, 0, 2, 2]]],
    ),
  },
  e5f6a7b8: {
    dataset: "arc-agi-2",
    onDisk: true,
    task: task(
      tile,
      [[[1, 2]], [[3], [4]], [[5]]],
      [
        [
          [6, 7],
          [8, 9],
        ],
      ],
    ),
  },
  "0c1d2e3f": {
    dataset: "arc-agi-1",
    onDisk: true,
    task: task(
      (g) => g.map((row) => row.map((c) => (c === 1 ? 5 : c))),
      [
        [
          [1, 0],
          [0, 1],
        ],
        [[2, 1, 2]],
        [[1]],
      ],
      [[[0, 1, 1]]],
    ),
  },
  "9a8b7c6d": { dataset: "arc-agi-1", onDisk: true, task: task((g) => [...g, ...g], [[[1, 2]], [[3], [4]], [[5, 6, 7]]], [[[8, 9]]]) },
  f6a7b8c9: {
    dataset: "arc-agi-1",
    onDisk: false,
    task: task(
      flip,
      [
        [
          [4, 0],
          [0, 4],
        ],
        [[1, 2, 3]],
      ],
      [[[9, 0, 0]]],
    ),
  },
};

/** Programs by kind; `{task}` reveals nothing, each is written for the task it is placed in. */
export const DEMO_PROGRAMS = {
  flip: "def transform(grid):\n    # mirror every row\n    return [row[::-1] for row in grid]\n",
  flipNumpy: 'import numpy as np\n\ndef transform(grid):\n    """Mirror left-right."""\n    return np.fliplr(np.array(grid)).tolist()\n',
  flipCommentOnly: "def transform(grid):\n    return [row[::-1] for row in grid]  # same code as flip once cleaned\n",
  identity: "def transform(grid):\n    return [list(row) for row in grid]\n",
  identityCopy: "import copy\n\ndef transform(grid):\n    out = copy.deepcopy(grid)\n    return out\n",
  recolor: "def transform(grid):\n    return [[2 if c == 1 else c for c in row] for row in grid]\n",
  recolorWrong: "def transform(grid):\n    return [[3 if c == 1 else c for c in row] for row in grid]\n",
  transpose: "def transform(grid):\n    return [list(col) for col in zip(*grid)]\n",
  count: "def transform(grid):\n    return [[sum(1 for row in grid for c in row if c) % 10]]\n",
  tile: "def transform(grid):\n    rows = [row + row for row in grid]\n    return rows + [list(r) for r in rows]\n",
  crash: "def transform(grid):\n    return grid[10][10]\n",
  loop: "def transform(grid):\n    while True:\n        pass\n",
  float: "import numpy as np\n\ndef transform(grid):\n    return np.array(grid) * 1.0\n",
  hardcodedTest: "def transform(grid):\n    return [[9, 8, 7], [2, 1, 0]]\n",
  longLine: `def transform(grid):\n    table = [${Array.from({ length: 80 }, (_, i) => i % 10).join(", ")}]\n    return [row[::-1] for row in grid]\n`,
  syntaxError: "def transform(grid)\n    return grid\n",
};

type Kind = keyof typeof DEMO_PROGRAMS;

interface DemoAttempt {
  kind: Kind | null;
  reasoning?: string;
}

const LOGS: { file: string; task: string; layout: "independent" | "simple" | "multiturn" | "all"; model: string; attempts: DemoAttempt[] }[] = [
  {
    file: "20250801_100000_000001_1_a1b2c3d4.json",
    task: "a1b2c3d4",
    layout: "independent",
    model: "demo/coder-a",
    attempts: [
      { kind: "flip", reasoning: "Each row is mirrored." },
      { kind: "flipNumpy" },
      { kind: "flipCommentOnly" },
      { kind: "identity" },
      { kind: "identityCopy" },
      { kind: "hardcodedTest" },
      { kind: "longLine" },
      { kind: null },
    ],
  },
  {
    file: "20250801_100100_000002_1_b2c3d4e5_simple.json",
    task: "b2c3d4e5",
    layout: "simple",
    model: "demo/coder-b",
    attempts: [{ kind: "recolor" }, { kind: "recolorWrong" }, { kind: "crash" }, { kind: "float" }, { kind: "loop" }],
  },
  {
    file: "20250801_100200_000003_1_c3d4e5f6_run1.json",
    task: "c3d4e5f6",
    layout: "multiturn",
    model: "Demo/Coder-A",
    attempts: [{ kind: "transpose" }, { kind: "identity" }, { kind: "identity" }],
  },
  {
    file: "20250801_100300_000004_1_d4e5f6a7.json",
    task: "d4e5f6a7",
    layout: "independent",
    model: "demo/coder-a",
    attempts: [{ kind: "count" }, { kind: "identity" }, { kind: "syntaxError" }],
  },
  {
    file: "20250801_100400_000005_1_e5f6a7b8.json",
    task: "e5f6a7b8",
    layout: "independent",
    model: "demo/coder-b",
    attempts: [{ kind: "tile" }, { kind: "identity" }],
  },
  {
    file: "20250801_100430_000011_1_0c1d2e3f.json",
    task: "0c1d2e3f",
    layout: "independent",
    model: "demo/coder-b",
    attempts: [{ kind: "recolorWrong" }, { kind: "flip" }, { kind: "identityCopy" }],
  },
  {
    file: "20250801_100440_000012_1_9a8b7c6d.json",
    task: "9a8b7c6d",
    layout: "independent",
    model: "demo/coder-a",
    attempts: [{ kind: "transpose" }, { kind: "tile" }],
  },
  {
    file: "20250801_100500_000006_1_f6a7b8c9.json",
    task: "f6a7b8c9",
    layout: "all",
    model: "demo/coder-a",
    attempts: [{ kind: "flip" }, { kind: "identity" }, { kind: "recolorWrong" }],
  },
  {
    file: "20250802_090000_000007_1_a1b2c3d4_run2.json",
    task: "a1b2c3d4",
    layout: "simple",
    model: "demo/coder-b",
    attempts: [{ kind: "flip" }, { kind: "identity" }],
  },
];

function attemptRecord(a: DemoAttempt, number: number, layout: string, expected: Grid | undefined) {
  const program = a.kind ? DEMO_PROGRAMS[a.kind] : "";
  const raw = a.reasoning ? { choices: [{ message: { role: "assistant", content: `\`\`\`python\n${program}\`\`\``, reasoning: a.reasoning } }] } : null;
  const base = {
    attempt_number: number,
    timestamp: "2025-08-01T10:00:00",
    input_tokens: 1000,
    output_tokens: 200,
    attempt_cost: 0.001,
    program_extracted: Boolean(a.kind),
    program,
    raw_response: raw,
  };
  if (layout === "all")
    return { ...base, is_transductive: false, train_results: [], test_predicted: null, test_expected: expected, test_correct: null, api_success: true };
  return { ...base, test_result: { correct: a.kind === "flip" || a.kind === "recolor", pixel_accuracy: 0 }, status: "failed_test" };
}

/** Writes `<dir>/arc-data/...` and `<dir>/logs/...`; returns both paths. */
export async function writeDemoData(dir: string): Promise<{ tasks: string; logs: string }> {
  const tasksDir = join(dir, "arc-data");
  const logsDir = join(dir, "logs");
  for (const [id, entry] of Object.entries(DEMO_TASKS)) {
    if (!entry.onDisk) continue;
    await mkdir(join(tasksDir, entry.dataset, "training"), { recursive: true });
    await writeFile(join(tasksDir, entry.dataset, "training", `${id}.json`), JSON.stringify(entry.task));
  }
  await mkdir(join(logsDir, "20250801_100000"), { recursive: true });
  for (const log of LOGS) {
    const entry = DEMO_TASKS[log.task]!;
    const attempts = log.attempts.map((a, i) => attemptRecord(a, i + 1, log.layout, entry.task.test[0]!.output));
    const common = {
      task_id: log.task,
      model: log.model,
      reasoning_effort: "low",
      program: attempts[0]!.program,
      tokens_used: 1200,
      request_cost: 0.002,
      api_success: true,
      timed_out: false,
      score: {},
    };
    const dataset = entry.dataset === "arc-agi-1" && log.layout !== "independent" ? {} : { dataset: entry.dataset, subset: "demo" };
    const body =
      log.layout === "independent"
        ? {
            ...common,
            ...dataset,
            api_type: "chat_completions_independent_attempts",
            independent_attempts_data: {
              attempt_details: attempts,
              total_attempts: attempts.length,
              all_responses: attempts.map(() => ({})),
              mode: "independent",
            },
          }
        : log.layout === "simple"
          ? {
              ...common,
              ...dataset,
              api_type: "chat_completions_simple",
              simple_attempts_data: { attempt_details: attempts, total_attempts: attempts.length, all_responses: [], mode: "simple" },
            }
          : log.layout === "multiturn"
            ? {
                ...common,
                ...dataset,
                api_type: "chat_completions_multiturn",
                multiturn_data: { turn_details: attempts, conversation_history: [], all_responses: [], total_turns: attempts.length },
              }
            : {
                ...common,
                dataset: entry.dataset,
                subset: "demo",
                api_type: "chat_completions_all_attempts",
                attempt_details: attempts,
                task_data: entry.task,
                all_responses: [],
                max_attempts: attempts.length,
              };
    const folder = log.file.startsWith("20250801") ? join(logsDir, "20250801_100000") : logsDir;
    await writeFile(join(folder, log.file), JSON.stringify(body, null, 1));
  }
  await writeFile(join(logsDir, "20250802_090500_summary.json"), JSON.stringify({ total_tasks: 6 }));
  await writeFile(join(logsDir, "20250802_091000_000008_1_c3d4e5f6.json"), "{ this is not json");
  await writeFile(
    join(logsDir, "20250802_091500_000009_1_c3d4e5f6.json"),
    JSON.stringify({ task_id: "c3d4e5f6", model: "demo/coder-a", api_type: "chat_completions_telepathy" }),
  );
  await writeFile(
    join(logsDir, "20250802_092000_000010_1_0badf00d.json"),
    JSON.stringify({
      task_id: "0badf00d",
      model: "demo/coder-a",
      api_type: "chat_completions_independent_attempts",
      independent_attempts_data: { attempt_details: [attemptRecord({ kind: "identity" }, 1, "independent", undefined)] },
    }),
  );
  return { tasks: tasksDir, logs: logsDir };
}
