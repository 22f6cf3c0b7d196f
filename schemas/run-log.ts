import { z } from "zod";
import type { Provenance } from "./program-identity.js";
import type { Twins } from "./twins.js";
import { arcTaskSchema, type ArcTask } from "./task.js";

/** An attempt as every later stage sees it, whatever log layout it came from. */
export interface Attempt {
  /** `<log file>#<attempt number>`: stable across runs, the tie-breaker of every ordering. */
  id: string;
  logFile: string;
  taskId: string;
  dataset: string;
  /** `<dataset>/<task id>`: the key of the tasks table (task ids repeat across datasets). */
  taskKey: string;
  subset: string | null;
  model: string;
  attemptNumber: number;
  code: string;
  reasoning: string | null;
  /** What the sampling run believed; only a hint, compared with re-execution for the report. */
  loggedTestCorrect: boolean | null;
  /** The ARC task embedded in `all_attempts` logs (and in flat dataset rows). */
  embeddedTask?: ArcTask;
  /**
   * Digest of the task this attempt's input embedded (set when it is sharded; the task itself is
   * stored once per shard): checked against the task file, never trusted over it.
   */
  taskDigest?: string;
  /** A dataset row's own generation (logs have none). */
  generation?: number;
  /** A row of a verified program table read back: its first copy's identity and its copies. */
  provenance?: Provenance;
  /** The attempts of its file identical to it but for their number, read as this one. */
  twins?: Twins;
  /** Its turn in a multi-turn conversation (0 first; set when --pairs multiturn reads later turns). */
  turn?: number;
  /** A dataset row's own id and the id of the row it refines, as the users' tooling stores them, and the parent's code when the row carries it. */
  refined?: { rowId: string | null; from: string | null; codeOriginal: string | null };
}

/** Attempts a log holds that never become programs, each with the reason. */
export interface AttemptDrop {
  id: string;
  taskId: string;
  reason: "no_program" | "multiturn_later_turn" | "malformed_attempt";
  detail?: string;
}

const looseObject = z.object({}).passthrough();

const attemptSchema = z
  .object({
    attempt_number: z.number().int().optional(),
    program_extracted: z.boolean().optional(),
    program: z.string().nullish(),
    test_result: z.object({ correct: z.boolean().optional() }).passthrough().nullish(),
    test_correct: z.boolean().nullish(),
    raw_response: z.unknown().optional(),
  })
  .passthrough();

const attemptsBlock = z.object({ attempt_details: z.array(z.unknown()), all_responses: z.array(z.unknown()).optional() }).passthrough();

export const runLogSchema = z
  .object({
    task_id: z.string().regex(/^[0-9a-f]{8}$/, "task_id must be 8 hex characters"),
    model: z.string().min(1),
    api_type: z.string(),
    dataset: z.string().nullish(),
    subset: z.string().nullish(),
    independent_attempts_data: attemptsBlock.optional(),
    simple_attempts_data: attemptsBlock.optional(),
    multiturn_data: z
      .object({ turn_details: z.array(z.unknown()), all_responses: z.array(z.unknown()).optional() })
      .passthrough()
      .optional(),
    attempt_details: z.array(z.unknown()).optional(),
    all_responses: z.array(z.unknown()).optional(),
    task_data: z.unknown().optional(),
  })
  .passthrough();
export type RunLog = z.infer<typeof runLogSchema>;

export type Layout = "independent_attempts" | "simple" | "multiturn" | "all_attempts";

/** The layout named by `api_type`, or null when it names none we know. */
export function layoutOf(log: RunLog): Layout | null {
  const t = log.api_type;
  if (t.includes("all_attempts")) return "all_attempts";
  if (t.includes("independent_attempts")) return "independent_attempts";
  if (t.includes("multiturn")) return "multiturn";
  if (t.includes("simple")) return "simple";
  return null;
}

/** The attempt list of a log and the responses list aligned with it, or a reason it has none. */
export function attemptList(log: RunLog, layout: Layout): { items: unknown[]; responses: unknown[] } | string {
  switch (layout) {
    case "independent_attempts":
      return log.independent_attempts_data
        ? { items: log.independent_attempts_data.attempt_details, responses: log.independent_attempts_data.all_responses ?? [] }
        : "api_type says independent_attempts but independent_attempts_data is missing";
    case "simple":
      return log.simple_attempts_data
        ? { items: log.simple_attempts_data.attempt_details, responses: log.simple_attempts_data.all_responses ?? [] }
        : "api_type says simple but simple_attempts_data is missing";
    case "multiturn":
      return log.multiturn_data
        ? { items: log.multiturn_data.turn_details, responses: log.multiturn_data.all_responses ?? [] }
        : "api_type says multiturn but multiturn_data is missing";
    case "all_attempts":
      return log.attempt_details
        ? { items: log.attempt_details, responses: log.all_responses ?? [] }
        : "api_type says all_attempts but attempt_details is missing";
  }
}

export function parseAttempt(value: unknown): z.infer<typeof attemptSchema> | string {
  const parsed = attemptSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  return `${issue.path.join(".") || "attempt"}: ${issue.message}`;
}

/**
 * The reasoning text of an attempt: its own raw_response first, then the response at the same
 * position of all_responses, but only when that list lines up with the attempts one for one.
 */
export function reasoningOf(attempt: { raw_response?: unknown }, responses: unknown[], position: number, attemptCount: number): string | null {
  const own = reasoningInResponse(attempt.raw_response);
  if (own) return own;
  if (responses.length !== attemptCount) return null;
  return reasoningInResponse(responses[position]);
}

function reasoningInResponse(response: unknown): string | null {
  const parsed = looseObject.safeParse(response);
  if (!parsed.success) return null;
  const r = parsed.data as Record<string, unknown>;
  const message = (r.choices as { message?: Record<string, unknown> }[] | undefined)?.[0]?.message ?? {};
  for (const value of [message.reasoning, message.reasoning_content, r.reasoning, r.reasoning_content]) {
    if (typeof value === "string" && value.trim()) return value;
  }
  return null;
}

export function embeddedTaskOf(log: RunLog): ArcTask | undefined {
  const parsed = arcTaskSchema.safeParse(log.task_data);
  return parsed.success ? parsed.data : undefined;
}
