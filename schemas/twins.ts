import { createHash } from "node:crypto";

/**
 * Attempts of one file that are the same in everything but their attempt number (a dataset of a
 * million copies of one program, a log repeating an answer), read as one record: the first by
 * attempt number stands for the others, which are listed here by number. A twin's id is `prefix`
 * followed by its number, as every reader spells an id.
 */
export interface Twins {
  prefix: string;
  /** Ascending; each at least the record's own attempt number. */
  numbers: number[];
}

interface Twinned {
  id: string;
  attemptNumber: number;
  twins?: Twins;
}

/** How many attempts a record stands for. */
export const weightOf = (record: { twins?: Twins }): number => 1 + (record.twins?.numbers.length ?? 0);

/** The sum of weights (a loop: a task of a million records must not build an array to sum). */
export function totalWeight(records: readonly { twins?: Twins }[]): number {
  let total = 0;
  for (const r of records) total += weightOf(r);
  return total;
}

/** How many attempts a drop stands for: its record (unless only the twins are dropped) and its twins. */
export const dropWeight = (drop: { twins?: Twins; twinsOnly?: true }): number => (drop.twinsOnly ? 0 : 1) + (drop.twins?.numbers.length ?? 0);

export const twinIds = (twins: Twins | undefined): string[] => (twins ? twins.numbers.map((n) => `${twins.prefix}${n}`) : []);

/** The id without its attempt number: what every twin's id starts with. */
const idPrefix = (record: Twinned) => record.id.slice(0, record.id.length - String(record.attemptNumber).length);

/**
 * What makes two attempts twins: everything but the id's number and the attempt number, hashed.
 * Undefined when the id does not end in its attempt number (its twins' ids could not be spelled).
 */
export function twinKey(attempt: Twinned): string | undefined {
  if (!Number.isInteger(attempt.attemptNumber) || !attempt.id.endsWith(String(attempt.attemptNumber))) return undefined;
  const prefix = idPrefix(attempt);
  return createHash("sha256")
    .update(JSON.stringify([prefix, { ...attempt, id: 0, attemptNumber: 0 }]))
    .digest("base64");
}

/** A record with its twins' numbers: the lowest number of the group stands for it. */
export function withTwins<T extends Twinned>(record: T, numbers: number[]): T {
  const prefix = idPrefix(record);
  const all = [record.attemptNumber, ...(record.twins?.numbers ?? [])];
  for (const n of numbers) all.push(n);
  all.sort((a, b) => a - b);
  return { ...record, id: `${prefix}${all[0]}`, attemptNumber: all[0]!, twins: { prefix, numbers: all.slice(1) } };
}

/** Each twin as a record of its own, after the record (for outputs that keep every copy). */
export function expandTwins<T extends Twinned>(records: readonly T[]): T[] {
  const out: T[] = [];
  for (const record of records) {
    if (!record.twins) {
      out.push(record);
      continue;
    }
    const { twins, ...one } = record;
    out.push(one as T);
    for (const n of twins.numbers) out.push({ ...one, id: `${twins.prefix}${n}`, attemptNumber: n } as T);
  }
  return out;
}
