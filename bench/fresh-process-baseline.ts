import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pLimit from "p-limit";
import type { ExecJob } from "../pipeline/executor/types.js";

const run = promisify(execFile);

const HARNESS = (code: string, input: unknown) => `import json, sys
import numpy as np
${code}

if __name__ == "__main__":
    result = transform(${JSON.stringify(input)})
    if isinstance(result, np.ndarray):
        result = result.tolist()
    print(json.dumps(result))
`;

/**
 * What the users' current tooling does: a temp file and a fresh interpreter (importing numpy)
 * per execution, with a wall-clock timeout. No isolation at all; kept only to measure against.
 */
export async function freshProcessBaseline(params: { jobs: ExecJob[]; python: string; workers: number; timeoutSeconds: number }): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "arcforge-baseline-"));
  const limit = pLimit(params.workers);
  let executions = 0;
  let file = 0;
  try {
    await Promise.all(
      params.jobs.flatMap((job) =>
        job.inputs.map((input) =>
          limit(async () => {
            const path = join(dir, `p${file++}.py`);
            await writeFile(path, HARNESS(job.code, input));
            await run(params.python, [path], { timeout: params.timeoutSeconds * 1000, maxBuffer: 1 << 24 }).catch(() => undefined);
            executions++;
          }),
        ),
      ),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return executions;
}
