import { z } from "zod";
import { GRID_PROBLEMS, type Grid } from "./grid.js";

/** What one execution of a program on one input came to. Exactly one per input, always. */
export type Outcome =
  | { status: "ok"; grid: Grid; ms: number }
  | { status: "error"; message: string; ms: number }
  | { status: "timeout"; ms: number }
  | { status: "memory"; ms: number }
  | { status: "crash"; message: string; ms: number }
  | { status: "invalid_output"; reason: (typeof GRID_PROBLEMS)[number]; ms: number };

export type OutcomeStatus = Outcome["status"];
export const OUTCOME_STATUSES: readonly OutcomeStatus[] = ["ok", "error", "timeout", "memory", "crash", "invalid_output"];

const ms = z.number().nonnegative().default(0);

/** One line the runner writes per input; the runner's own grid rule already applied. */
export const runnerOutcomeSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("ok"), grid: z.array(z.array(z.number().int().min(0).max(9))), ms }),
  z.object({ status: z.literal("error"), message: z.string(), ms }),
  z.object({ status: z.literal("timeout"), ms }),
  z.object({ status: z.literal("memory"), ms }),
  z.object({ status: z.literal("crash"), message: z.string(), ms }),
  z.object({ status: z.literal("invalid_output"), reason: z.enum(GRID_PROBLEMS), ms }),
]);

export const runnerMessageSchema = z.union([
  z.object({ hello: z.object({ runner: z.number(), python: z.string(), numpy: z.string(), layers: z.record(z.string(), z.unknown()) }) }),
  z.object({ id: z.string(), done: z.literal(true), ms: z.number() }),
  z.object({ id: z.string().nullable(), fatal: z.string() }),
  z.object({ id: z.string(), i: z.number().int().nonnegative() }).passthrough(),
]);
