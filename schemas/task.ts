import { z } from "zod";
import { taskGridSchema } from "./grid.js";

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
