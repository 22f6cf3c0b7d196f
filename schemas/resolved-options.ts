import { z } from "zod";
import { type BuildOptions, FORMATS, PAIR_SOURCES, SELECTIONS } from "./build-options.js";
import { HUB_LICENSES } from "./hub-licenses.js";

const count = (min: number) => z.number().int().min(min);
const positive = z.number().positive().finite();

/**
 * The resolved build configuration as a contract: whatever produced it (the CLI, a script, a
 * test), a build checks it once, before anything runs, and passes it on unchanged. Unknown keys
 * are refused: a misspelt option is an error, not a default.
 */
export const buildOptionsSchema = z
  .object({
    logs: z.array(z.string()),
    from: z.array(z.string()),
    fromLimit: count(1).optional(),
    tasks: z.string().optional(),
    out: z.string().min(1),
    models: z.array(z.string()),
    dataset: z.string().optional(),
    subset: z.string().optional(),
    dateFrom: z
      .string()
      .regex(/^\d{8}$/)
      .optional(),
    dateTo: z
      .string()
      .regex(/^\d{8}$/)
      .optional(),
    pattern: z.string().optional(),
    limit: count(1).optional(),
    decontaminate: z.array(z.string()).optional(),
    recipe: z.object({ name: z.string(), sql: z.string() }).strict().optional(),
    recipeTimeout: positive.optional(),
    balance: z.boolean().optional(),
    validationSize: positive.refine((n) => n < 1 || Number.isInteger(n), "a whole number of rows, or a fraction below 1").optional(),
    pairs: z.array(z.enum(PAIR_SOURCES)).optional(),
    pairsPerTask: count(1).optional(),
    maxLogBytes: count(1).optional(),
    validation: z.boolean(),
    format: z.enum(FORMATS),
    cleanCode: z.boolean(),
    transductionFilter: z.boolean(),
    transductionAugment: z.boolean(),
    keepTestFailures: z.boolean(),
    dropIdentity: z.boolean(),
    dropSingleColour: z.boolean(),
    maxPerTask: count(1).optional(),
    select: z.enum(SELECTIONS),
    dedup: z.boolean(),
    nearDedup: positive.max(1).optional(),
    against: z.array(z.string()).optional(),
    reasoning: z.boolean(),
    seed: z.number().int(),
    license: z
      .string()
      .refine((id) => HUB_LICENSES.has(id), "not a license id the Hub recognises (apache-2.0, mit, cc-by-4.0, ...; 'other' for any other)")
      .optional(),
    generation: count(0).optional(),
    limits: z.object({ timeoutSeconds: positive, memoryBytes: count(1) }).strict(),
    maxShardBytes: count(1).optional(),
  })
  .strict();

// Both ways: the schema and the interface cannot drift apart without a compile error.
type Parsed = z.infer<typeof buildOptionsSchema>;
const _schemaCoversInterface = (o: BuildOptions): Parsed => o;
const _interfaceCoversSchema = (o: Parsed): BuildOptions => o;
void _schemaCoversInterface;
void _interfaceCoversSchema;

/** Each problem of a configuration, one line each: the option, what it must be. */
export function optionProblems(options: unknown): string[] {
  const parsed = buildOptionsSchema.safeParse(options);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".") || "(options)"}: ${i.message}`);
}
