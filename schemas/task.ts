import { z } from "zod";

/**
 * Task files are looser than program outputs: a task may hold what a program could never
 * return validly, and it is still the task. Only the cell type is enforced.
 */
export const taskGridSchema = z.array(z.array(z.number().int().min(0).max(9)));

export const TASK_ID = /^[0-9a-f]{8}$/;

const exampleSchema = z.object({ input: taskGridSchema, output: taskGridSchema });
const testExampleSchema = z.object({ input: taskGridSchema, output: taskGridSchema.optional() });

export const arcTaskSchema = z.object({
  train: z.array(exampleSchema).min(1),
  test: z.array(testExampleSchema).min(1),
});
export type ArcTask = z.infer<typeof arcTaskSchema>;

/** Every input of a task in execution order: train inputs first, then test inputs. */
export function taskInputs(task: ArcTask) {
  return [...task.train.map((e) => e.input), ...task.test.map((e) => e.input)];
}

const sameGrid = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Where a task embedded in an input (a log's task_data, a dataset row's grids) departs from the
 * task file, or null when it agrees. An embedded copy may leave test outputs out; it may not add
 * or change anything.
 */
export function taskDifference(params: { embedded: ArcTask; file: ArcTask }): string | null {
  const { embedded, file } = params;
  if (embedded.train.length !== file.train.length) return `${embedded.train.length} train examples, the task file has ${file.train.length}`;
  if (embedded.test.length !== file.test.length) return `${embedded.test.length} test examples, the task file has ${file.test.length}`;
  for (const [i, e] of embedded.train.entries()) {
    if (!sameGrid(e.input, file.train[i]!.input)) return `train input ${i} differs from the task file`;
    if (!sameGrid(e.output, file.train[i]!.output)) return `train output ${i} differs from the task file`;
  }
  for (const [i, e] of embedded.test.entries()) {
    if (!sameGrid(e.input, file.test[i]!.input)) return `test input ${i} differs from the task file`;
    if (e.output === undefined) continue;
    if (file.test[i]!.output === undefined) return `test output ${i} is given, the task file has none`;
    if (!sameGrid(e.output, file.test[i]!.output)) return `test output ${i} differs from the task file`;
  }
  return null;
}
