import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import Dockerode from "dockerode";
import { afterEach, describe, expect, it } from "vitest";
import { connectDocker, createDockerExecutor, removeStaleContainers } from "../../../pipeline/executor/docker-pool.js";
import { buildSandboxImage } from "../../../pipeline/executor/docker-image.js";
import { findPython } from "../../../pipeline/executor/find-python.js";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import type { ExecJob, ExecutorEvent, ExecResult, Executor } from "../../../pipeline/executor/types.js";
import { arcforgeContainers, dockerAvailable, waitFor } from "../../support/docker.js";
import { tempDir } from "../../support/stage-harness.js";

async function runAll(executor: Executor, jobs: ExecJob[], onResult?: (r: ExecResult, n: number) => Promise<void>): Promise<Map<string, ExecResult>> {
  const results = new Map<string, ExecResult>();
  for await (const r of executor.run(jobs)) {
    results.set(r.programId, r);
    await onResult?.(r, results.size);
  }
  return results;
}

describe("connecting to Docker", () => {
  it("says how to get an engine when none is reachable", async () => {
    await expect(connectDocker(new Dockerode({ socketPath: "/nonexistent/docker.sock" }))).rejects.toThrow(
      /no Docker engine is reachable.*DOCKER_HOST.*--executor process/,
    );
  });
});

describe.skipIf(!dockerAvailable)("the docker backend", () => {
  it("removes containers that an earlier, killed run created but never started", async () => {
    const docker = new Dockerode();
    const tag = await buildSandboxImage({ docker, python: await findPython() });
    await docker.createContainer({ Image: tag, Cmd: ["/bin/false"], Labels: { "arcforge.run": "stale-test" } });
    expect(await removeStaleContainers(docker, 0)).toBeGreaterThanOrEqual(1);
    expect(await arcforgeContainers("stale-test")).toEqual([]);
  });

  let executor: (Executor & { runId: string }) | undefined;
  afterEach(async () => {
    const runId = executor?.runId;
    await executor?.close();
    executor = undefined;
    if (runId) expect(await waitFor(async () => (await arcforgeContainers(runId)).length === 0)).toBe(true);
  });

  it("gives the same outcomes as the process backend", async () => {
    const jobs: ExecJob[] = [
      {
        programId: "rot",
        code: "import numpy as np\ndef transform(g):\n    return np.rot90(np.array(g)).tolist()",
        inputs: [
          [
            [1, 2],
            [3, 4],
          ],
          [[5]],
        ],
      },
      { programId: "float", code: "import numpy as np\ndef transform(g):\n    return np.zeros((2, 2))", inputs: [[[1]]] },
      { programId: "error", code: "def transform(g):\n    return g[5]", inputs: [[[1]]] },
      { programId: "random", code: "import random\ndef transform(g):\n    return [[random.randint(0, 9)]]", inputs: [[[1]]] },
    ];
    executor = createDockerExecutor({ workers: 2 });
    const docker = await runAll(executor, jobs);
    const processExecutor = createProcessExecutor({ workers: 2 });
    const local = await runAll(processExecutor, jobs);
    await processExecutor.close();
    const strip = (r: ExecResult) => r.outcomes.map(({ ms: _ms, ...o }) => o);
    for (const job of jobs) expect(strip(docker.get(job.programId)!)).toEqual(strip(local.get(job.programId)!));
  });

  it("replaces a container killed mid-run and still returns every outcome", async () => {
    const events: ExecutorEvent[] = [];
    executor = createDockerExecutor({ workers: 2, onEvent: (e) => events.push(e) });
    const jobs = Array.from({ length: 30 }, (_, k) => ({
      programId: `p${k}`,
      code: "import time\ndef transform(g):\n    time.sleep(0.05)\n    return g",
      inputs: [[[k % 10]], [[1]]],
    }));
    const results = await runAll(executor, jobs, async (_r, n) => {
      if (n === 5)
        for (const c of await new Dockerode().listContainers({ filters: { label: [`arcforge.run=${executor!.runId}`] } }))
          await new Dockerode()
            .getContainer(c.Id)
            .kill()
            .catch(() => undefined);
    });
    expect(results.size).toBe(30);
    for (const [id, r] of results) expect(r.outcomes[0]).toMatchObject({ status: "ok", grid: [[Number(id.slice(1)) % 10]] });
    expect(events.some((e) => e.type === "respawn")).toBe(true);
  });

  it("recycles containers every N programs under unique names", async () => {
    const events: ExecutorEvent[] = [];
    executor = createDockerExecutor({ workers: 1, recycleEvery: 5, onEvent: (e) => events.push(e) });
    await runAll(
      executor,
      Array.from({ length: 12 }, (_, k) => ({ programId: `p${k}`, code: "def transform(g):\n    return g", inputs: [[[1]]] })),
    );
    expect(events.filter((e) => e.type === "respawn" && e.reason === "recycled after 5 programs")).toHaveLength(2);
  });

  it("leaves no container behind when the process using it is killed with SIGKILL", async () => {
    const dir = await tempDir();
    const program = join(dir, "slow.py");
    await writeFile(program, "import time\ndef transform(grid):\n    time.sleep(0.4)\n    return grid\n");
    await writeFile(join(dir, "inputs.json"), JSON.stringify(Array.from({ length: 40 }, () => [[1]])));
    const runId = `killed-${process.pid}`;
    const cli = spawn(
      process.execPath,
      [
        join(process.cwd(), "dist", "pipeline", "commands", "cli.js"),
        "exec",
        program,
        "--inputs",
        join(dir, "inputs.json"),
        "--executor",
        "docker",
        "--timeout",
        "2",
      ],
      { stdio: "ignore", env: { ...process.env, ARCFORGE_RUN_ID: runId } },
    );
    const running = async () => (await new Dockerode().listContainers({ filters: { label: [`arcforge.run=${runId}`], status: ["running"] } })).length > 0;
    expect(await waitFor(running, 60_000)).toBe(true);
    cli.kill("SIGKILL");
    expect(await waitFor(async () => (await arcforgeContainers(runId)).length === 0, 30_000)).toBe(true);
  });
});
