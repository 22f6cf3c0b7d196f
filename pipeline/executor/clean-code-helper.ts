import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { availableParallelism } from "node:os";
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
 * Cleans programs with Python's tokenizer in one helper process per core, each taking an equal
 * share. The helpers only parse and compile (never run) the code; if one dies, the programs it had
 * not answered keep their original code with status "failed".
 */
export async function cleanPrograms(params: { programs: { id: string; code: string }[]; python?: string; processes?: number; onProgress?: (done: number) => void }): Promise<Map<string, Cleaned>> {
  const processes = Math.max(1, Math.min(params.processes ?? availableParallelism(), Math.ceil(params.programs.length / 200)));
  const shares = Array.from({ length: processes }, (_, k) => params.programs.filter((_, i) => i % processes === k));
  let done = 0;
  const results = await Promise.all(shares.map((programs) => cleanInOneProcess({ programs, python: params.python, onAnswer: () => params.onProgress?.(++done) })));
  return new Map(results.flatMap((r) => [...r]));
}

async function cleanInOneProcess(params: { programs: { id: string; code: string }[]; python?: string; onAnswer: () => void }): Promise<Map<string, Cleaned>> {
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
    params.onAnswer();
  });
  for (const program of params.programs) child.stdin.write(JSON.stringify(program) + "\n");
  child.stdin.end();
  await exited;
  for (const program of params.programs) {
    if (!answers.has(program.id)) answers.set(program.id, { code: program.code, status: "failed", error: `the cleaner process died: ${stderr.trim().split("\n").pop() ?? "no message"}` });
  }
  return answers;
}
