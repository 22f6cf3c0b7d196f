import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { findPython } from "./find-python.js";
import { packageRoot } from "../common/paths.js";

export type CleanStatus = "cleaned" | "unchanged" | "unparsable" | "failed";
export interface Cleaned {
  code: string;
  status: CleanStatus;
  error?: string;
}

export const CLEANER_PATH = join(packageRoot(), "docker", "clean_code.py");

/**
 * Cleans programs with Python's tokenizer in one helper process. The helper only parses and
 * compiles (never runs) the code; if it dies, the programs it had not answered keep their
 * original code with status "failed".
 */
export async function cleanPrograms(params: { programs: { id: string; code: string }[]; python?: string; onProgress?: (done: number) => void }): Promise<Map<string, Cleaned>> {
  const answers = new Map<string, Cleaned>();
  if (params.programs.length === 0) return answers;
  const python = await findPython({ python: params.python });
  const child = spawn(python.executable, ["-S", CLEANER_PATH], { stdio: ["pipe", "pipe", "pipe"], env: { PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" } });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  child.stdin.on("error", () => undefined);
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    const { id, ...answer } = JSON.parse(line) as Cleaned & { id: string };
    answers.set(id, answer);
    params.onProgress?.(answers.size);
  });
  for (const program of params.programs) child.stdin.write(JSON.stringify(program) + "\n");
  child.stdin.end();
  await exited;
  for (const program of params.programs) {
    if (!answers.has(program.id)) answers.set(program.id, { code: program.code, status: "failed", error: `the cleaner process died: ${stderr.trim().split("\n").pop() ?? "no message"}` });
  }
  return answers;
}
