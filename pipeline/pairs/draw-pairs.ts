import { seededShuffle } from "../engine/seeded-shuffle.js";
import type { Row } from "../../schemas/program.js";

/** A candidate pair: a parent program and a child that repairs it, of one task. */
export interface Pair {
  parent: Row;
  child: Row;
  source: "multiturn" | "refined" | "hindsight";
  /** Hindsight: how much of the train set the parent gets right. */
  bucket?: Bucket;
}

export type Bucket = "zero" | "low" | "medium" | "max";
export const BUCKETS: Bucket[] = ["zero", "low", "medium", "max"];

const trainRight = (row: Row) => row.correctTrain.filter(Boolean).length;
export const solves = (row: Row) => row.correctTrain.every(Boolean) && row.solvesTest;

/** The child is better: strictly more train examples right, or as many and the test solved where the parent's is not. */
export function better(params: { parent: Row; child: Row }): boolean {
  const [p, c] = [trainRight(params.parent), trainRight(params.child)];
  return c > p || (c === p && params.child.solvesTest && !params.parent.solvesTest);
}

/** Within each multi-turn conversation, a turn's program is the child of the latest earlier verified turn's. */
export function multiturnPairs(rows: Row[]): Pair[] {
  const conversations = new Map<string, Row[]>();
  for (const row of rows) if (row.turn !== undefined) conversations.set(row.logFile, [...(conversations.get(row.logFile) ?? []), row]);
  const pairs: Pair[] = [];
  for (const turns of [...conversations.values()]) {
    turns.sort((a, b) => a.turn! - b.turn!);
    for (let t = 1; t < turns.length; t++) pairs.push({ parent: turns[t - 1]!, child: turns[t]!, source: "multiturn" });
  }
  return pairs;
}

/**
 * SOAR's hindsight pairing: parents are programs that do not solve the task, bucketed by train
 * examples right k of n (zero; low: 3k <= n; medium: 3k > n and k/n < 0.98; max: k/n >= 0.98);
 * children solve every train and test example. Each bucket's parents and the children are put in a
 * seeded order of their ids; buckets are visited in turn, each giving its next parent, paired with
 * the next child, cyclically, until `limit` pairs or no parent is left.
 */
export function hindsightPairs(params: { rows: Row[]; seed: number; limit: number }): Pair[] {
  const children = seededShuffle(params.rows.filter(solves), params.seed, (r) => r.id);
  if (children.length === 0) return [];
  const buckets = new Map<Bucket, Row[]>(BUCKETS.map((b) => [b, []]));
  for (const row of params.rows.filter((r) => !solves(r))) buckets.get(bucketOf(row))!.push(row);
  const queues = BUCKETS.map((b) => ({ bucket: b, parents: seededShuffle(buckets.get(b)!, params.seed, (r) => r.id), next: 0 })).filter(
    (q) => q.parents.length > 0,
  );
  const pairs: Pair[] = [];
  for (let _round = 0; pairs.length < params.limit && queues.some((q) => q.next < q.parents.length); _round++) {
    for (const queue of queues) {
      if (pairs.length >= params.limit || queue.next >= queue.parents.length) continue;
      pairs.push({ parent: queue.parents[queue.next++]!, child: children[pairs.length % children.length]!, source: "hindsight", bucket: queue.bucket });
    }
  }
  return pairs;
}

export function bucketOf(row: Row): Bucket {
  const k = trainRight(row);
  const n = row.correctTrain.length;
  if (k === 0) return "zero";
  if (3 * k <= n) return "low";
  if (k / n < 0.98) return "medium";
  return "max";
}
