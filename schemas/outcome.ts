import { z } from "zod";
import { GRID_PROBLEMS, gridProblem, type Grid } from "./grid.js";

/** What one execution of a program on one input came to. Exactly one per input, always. */
export type Outcome =
  | { status: "ok"; grid: Grid; ms: number }
  | { status: "error"; message: string; ms: number }
  | { status: "timeout"; reason?: TimeoutReason; ms: number }
  | { status: "memory"; ms: number }
  /** transient: the sandbox failed, not the program (never cached, so the next run tries again). */
  | { status: "crash"; message: string; ms: number; transient?: true }
  | { status: "invalid_output"; reason: (typeof GRID_PROBLEMS)[number]; ms: number }
  /** Not run: the program had already failed on an input that decides its fate (a job's `failFast`). Never cached. */
  | { status: "skipped"; ms: number };

/**
 * cpu: the program used its CPU time; sleep: it stayed off the CPU, not runnable (sleeping,
 * blocked), past the backstop; wall_clock: without schedstat, the clock stopped it on every try.
 */
export const TIMEOUT_REASONS = ["cpu", "wall_clock", "sleep"] as const;
export type TimeoutReason = (typeof TIMEOUT_REASONS)[number];

/** What running an input can come to: every status but `skipped`. */
export type OutcomeStatus = Exclude<Outcome["status"], "skipped">;
export const OUTCOME_STATUSES: readonly OutcomeStatus[] = ["ok", "error", "timeout", "memory", "crash", "invalid_output"];

const ms = z.number().nonnegative().default(0);

/** One line the runner writes per input; its grid is checked again on this side (schemas/grid.ts) before it counts. */
export const runnerOutcomeSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("ok"), grid: z.unknown(), ms }),
  z.object({ status: z.literal("error"), message: z.string(), ms }),
  z.object({ status: z.literal("timeout"), reason: z.enum(TIMEOUT_REASONS).optional(), ms }),
  z.object({ status: z.literal("memory"), ms }),
  z.object({ status: z.literal("crash"), message: z.string(), ms }),
  z.object({ status: z.literal("invalid_output"), reason: z.enum(GRID_PROBLEMS), ms }),
  z.object({ status: z.literal("skipped"), ms }),
]);

export const runnerMessageSchema = z.union([
  z.object({
    hello: z.object({ runner: z.number(), python: z.string(), numpy: z.string(), layers: z.record(z.string(), z.unknown()), seed: z.number().optional() }),
  }),
  z.object({ beat: z.number() }),
  z.object({ id: z.string(), done: z.literal(true), ms: z.number() }),
  z.object({ id: z.string().nullable(), fatal: z.string() }),
  z.object({ id: z.string(), i: z.number().int().nonnegative() }).passthrough(),
]);

/**
 * The grid rule applied on this side to what any backend sends (a local runner, a container, a
 * queue worker): no backend's word alone makes an output valid.
 */
export function checkedOutcome(outcome: z.infer<typeof runnerOutcomeSchema>): Outcome {
  if (outcome.status !== "ok") return outcome as Outcome;
  const problem = gridProblem(outcome.grid);
  return problem ? { status: "invalid_output", reason: problem, ms: outcome.ms } : { status: "ok", grid: outcome.grid as Grid, ms: outcome.ms };
}

/** A remote answer's outcomes: the runner's line schema, plus the mark of a sandbox failure (never cached). */
const remoteOutcomeSchema = z.union([z.object({ status: z.literal("crash"), message: z.string(), ms, transient: z.literal(true) }), runnerOutcomeSchema]);

/**
 * One program's outcomes as a remote backend sent them, checked: exactly one per input, each of
 * the runner's shapes, every grid passing the grid rule (else `invalid_output`). A string says
 * what broke the contract.
 */
export function checkRemoteOutcomes(value: unknown, inputs: number): Outcome[] | string {
  if (!Array.isArray(value)) return "outcomes are not a list";
  if (value.length !== inputs) return `${value.length} outcomes for ${inputs} inputs`;
  const checked: Outcome[] = [];
  for (const [i, item] of value.entries()) {
    const parsed = remoteOutcomeSchema.safeParse(item);
    if (!parsed.success) return `outcome ${i} is not an outcome: ${parsed.error.issues[0]?.message ?? "malformed"}`;
    checked.push("transient" in parsed.data ? parsed.data : checkedOutcome(parsed.data));
  }
  return checked;
}

/** Is this input's outcome a failure that decides its program: one on the first `failFast` inputs (ExecJob)? */
export const decidesFate = (outcome: Outcome, index: number, failFast: number): boolean =>
  index < failFast && outcome.status !== "ok" && outcome.status !== "skipped";

/**
 * Outcomes with every `skipped` one checked: allowed only after a failure that decides the program.
 * A backend that skips an input it had to run failed, not the program: that outcome becomes a
 * transient crash (never cached, the build not either).
 */
export function checkSkipped(outcomes: Outcome[], failFast: number): Outcome[] {
  let failed = false;
  return outcomes.map((outcome, i) => {
    if (outcome.status === "skipped" && !failed)
      return { status: "crash", message: `the sandbox skipped input ${i}, which no earlier failure excused`, ms: 0, transient: true };
    failed ||= decidesFate(outcome, i, failFast);
    return outcome;
  });
}
