import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset, readFates } from "../../../pipeline/orchestrator/build-dataset.js";
import { findBubblewrap } from "../../../pipeline/executor/bubblewrap.js";
import { createDockerExecutor } from "../../../pipeline/executor/docker-pool.js";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import type { ExecResult, Executor } from "../../../pipeline/executor/types.js";
import { readParquetRows } from "../../../pipeline/parquet/read-parquet-rows.js";
import type { ArcTask } from "../../../schemas/task.js";
import { dockerAvailable } from "../../support/docker.js";
import { tempDir } from "../../support/stage-harness.js";
import { tinyWorld } from "../../support/tiny-world.js";

const CLI = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
const LIMITS = { timeoutSeconds: 0.5, memoryBytes: 512 * 1024 ** 2 };
const MIRROR: ArcTask = {
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
    { input: [[5, 6, 7]], output: [[7, 6, 5]] },
  ],
  test: [{ input: [[8, 9]], output: [[9, 8]] }],
};
const MIRROR_CODE = "def transform(g):\n    return [row[::-1] for row in g]";

/** Knows nothing of the task: looks for a JSON file holding its input, and returns the output stored beside it. */
const THIEF = `import json, os, sys, time
MARK = "THIEF"
def transform(g):
    # A quarter second of CPU, well inside the build's limit: how far a walk of /proc or /tmp gets
    # depends on the machine, and a thief stopped by the limit would be dropped, proving nothing.
    # The folders it starts from come first.
    deadline = time.process_time() + 0.25
    for root in [os.getcwd(), "/proc/self/cwd", *sys.path]:
        for up in range(3):
            base = os.path.abspath(os.path.join(root, *[".."] * up))
            for folder, _, files in os.walk(base):
                if time.process_time() > deadline:
                    return g
                for name in files:
                    if not name.endswith(".json"):
                        continue
                    path = os.path.join(folder, name)
                    try:
                        # A task file is small: a large one (another test's log) would only spend the CPU limit.
                        if os.path.getsize(path) > 1_000_000:
                            continue
                        task = json.load(open(path))
                        for example in task["train"] + task["test"]:
                            if example["input"] == g and "output" in example:
                                return example["output"]
                    except Exception:
                        pass
    return g
`;

/** Runs after another program on the same worker: looks in its own memory for that program's inputs and outputs. */
const COPYCAT = `import gc, sys
MARK = "COPYCAT"
def candidates():
    f = sys._getframe()
    while f is not None:
        yield from list(f.f_locals.values())
        f = f.f_back
    yield from gc.get_objects()
def transform(g):
    for v in candidates():
        if isinstance(v, dict) and isinstance(v.get("inputs"), list) and g in v["inputs"]:
            j = v["inputs"].index(g)
            for w in candidates():
                if isinstance(w, list) and w and all(isinstance(o, dict) for o in w):
                    for o in w:
                        if o.get("i") == j and isinstance(o.get("grid"), list):
                            return o["grid"]
    return g
`;

const BACKENDS = [
  {
    name: "bubblewrap",
    available: (await findBubblewrap()) !== null,
    args: ["--isolation", "bubblewrap"],
    create: () => createProcessExecutor({ ...LIMITS, workers: 1, isolation: "bubblewrap" }),
  },
  {
    name: "landlock",
    available: true,
    args: ["--isolation", "landlock"],
    create: () => createProcessExecutor({ ...LIMITS, workers: 1, isolation: "landlock" }),
  },
  { name: "docker", available: dockerAvailable, args: ["--executor", "docker"], create: () => createDockerExecutor({ ...LIMITS, workers: 1 }) },
];

async function collect(executor: Executor, jobs: { programId: string; code: string; inputs: number[][][] }[]): Promise<Map<string, ExecResult["outcomes"]>> {
  const found = new Map<string, ExecResult["outcomes"]>();
  for await (const result of executor.run(jobs)) found.set(result.programId, result.outcomes);
  return found;
}

describe.each(BACKENDS.filter((b) => b.available))("programs cannot steal labels under $name", ({ args, create }) => {
  it("a task-agnostic thief run with PYTHONPATH=: from the folder of the task files gets no correct label", async () => {
    const { dir, options } = await tinyWorld({
      tasks: { aaaaaaaa: MIRROR },
      programs: [
        { task: "aaaaaaaa", code: THIEF },
        { task: "aaaaaaaa", code: MIRROR_CODE },
      ],
    });
    const out = join(dir, "out");
    // Relative paths from the world's folder, which holds the task files and is the working folder.
    const child = spawn(
      process.execPath,
      [
        CLI,
        "build",
        "--logs",
        "logs",
        "--tasks",
        "tasks",
        "--out",
        "out",
        "--cache-dir",
        "cache",
        // Room for a walk that waits on the disk under load (the backstop counts time off the CPU): the thief stops itself sooner.
        "--timeout",
        "2",
        "--quiet",
        "--keep-test-failures",
        ...args,
      ],
      {
        cwd: dir,
        env: { ...process.env, PYTHONPATH: ":" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const [code] = await once(child, "exit");
    expect(code, output).toBe(0);
    const rows: Record<string, unknown>[] = [];
    for await (const row of readParquetRows({ path: join(out, "data", "train-00000-of-00001.parquet") })) rows.push(row);
    const thief = rows.filter((r) => String(r.code).includes("THIEF"));
    // Kept, it shows its labels; dropped, its fate says why (a timeout proves nothing either way).
    expect(thief, JSON.stringify(readFates(out).filter((f) => !f.fate.startsWith("kept")))).toHaveLength(1);
    for (const row of thief) {
      expect(row.correct_train_input).toEqual([false, false]);
      expect(row.correct_test_input).toEqual([false]);
    }
    expect(rows.some((r) => String(r.code).includes("row[::-1]"))).toBe(true);
    expect(options.tasks).toBe(join(dir, "tasks"));
  });

  // A program naming numpy runs in the fork server's other zygote (docker/runner/zygote.py): each pairing of the two.
  it.each([
    ["", ""],
    ["# numpy\n", ""],
    ["", "# numpy\n"],
    ["# numpy\n", "# numpy\n"],
  ])("a copycat run right after an honest program on the same worker gets none of its outputs (%j, %j)", async (honestMark, copycatMark) => {
    const executor = create();
    try {
      const inputs = [...MIRROR.train.map((e) => e.input), MIRROR.test[0]!.input];
      const found = await collect(executor, [
        { programId: "honest", code: honestMark + MIRROR_CODE, inputs },
        { programId: "copycat", code: copycatMark + COPYCAT, inputs },
      ]);
      expect(found.get("honest")!.map((o) => (o.status === "ok" ? o.grid : o.status))).toEqual([
        [
          [2, 1],
          [4, 3],
        ],
        [[7, 6, 5]],
        [[9, 8]],
      ]);
      const copied = found.get("copycat")!.map((o) => (o.status === "ok" ? o.grid : o.status));
      expect(copied).not.toContainEqual([
        [2, 1],
        [4, 3],
      ]);
      expect(copied).not.toContainEqual([[9, 8]]);
    } finally {
      await executor.close();
    }
  });

  it("a sleeping program is a timeout (reason sleep), an ordinary verdict and no sandbox failure", async () => {
    const executor = create();
    try {
      const found = await collect(executor, [
        { programId: "sleeper", code: "import time\ndef transform(g):\n    time.sleep(60)\n    return g", inputs: [[[1]], [[2]]] },
      ]);
      expect(found.get("sleeper")).toEqual([
        { status: "timeout", reason: "sleep", ms: expect.any(Number) },
        { status: "timeout", reason: "sleep", ms: expect.any(Number) },
      ]);
    } finally {
      await executor.close();
    }
  });
});

describe.each(BACKENDS.filter((b) => b.available))("a huge result under $name", ({ create }) => {
  it("is a timeout or invalid_output within the program's CPU limit (checking it runs on its clock)", async () => {
    const executor = create();
    try {
      const started = performance.now();
      const found = await collect(executor, [{ programId: "huge", code: "def transform(g):\n    return [[1]] * 3_000_000", inputs: [[[1]]] }]);
      expect(["timeout", "invalid_output"]).toContain(found.get("huge")![0]!.status);
      expect((performance.now() - started) / 1000).toBeLessThan(20);
    } finally {
      await executor.close();
    }
  });
});

describe("a build with a sleeping program", () => {
  it("caches its timeout, so a second build takes seconds", async () => {
    const sleeper = "import time\ndef transform(g):\n    time.sleep(60)\n    return g";
    const { options } = await tinyWorld({
      tasks: { aaaaaaaa: MIRROR },
      programs: [
        { task: "aaaaaaaa", code: sleeper },
        { task: "aaaaaaaa", code: MIRROR_CODE },
      ],
    });
    const cacheDir = await tempDir("arcforge-cache-");
    await buildDataset({ options, cacheDir });
    const fate = readFates(options.out).find((f) => f.attempt_id.includes("_000000_"))!;
    expect(fate).toMatchObject({ fate: "train_timeout" });
    const started = performance.now();
    await buildDataset({ options: { ...options, out: `${options.out}-again` }, cacheDir });
    expect((performance.now() - started) / 1000).toBeLessThan(15);
  });
});
