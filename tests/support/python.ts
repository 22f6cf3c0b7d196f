import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The venv .ci/run creates with datasets, pyarrow, duckdb and huggingface_hub from local wheels. */
export const TEST_PYTHON = process.env.ARCFORGE_TEST_PYTHON ?? join(process.cwd(), ".venv", "bin", "python");

export function requireTestPython(): string {
  if (!existsSync(TEST_PYTHON)) {
    throw new Error(
      `${TEST_PYTHON} is missing: run .ci/run once (it creates .venv with datasets, pyarrow, duckdb, huggingface_hub), or set ARCFORGE_TEST_PYTHON`,
    );
  }
  return TEST_PYTHON;
}

export interface ReadBack {
  schema: string;
  features: string;
  pyarrow: Record<string, unknown>[];
  datasets: Record<string, unknown>[];
  duckdb: Record<string, unknown>[];
}

export async function readBack(files: string[]): Promise<ReadBack> {
  const { stdout } = await run(requireTestPython(), [join(process.cwd(), "tests", "support", "read_back.py"), ...files], {
    maxBuffer: 1 << 30,
    env: { ...process.env, HF_DATASETS_CACHE: join(process.cwd(), ".venv", "hf-cache") },
  });
  return JSON.parse(stdout) as ReadBack;
}
