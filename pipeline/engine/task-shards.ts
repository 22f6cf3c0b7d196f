import { createHash, type Hash } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Drop } from "../../schemas/drop.js";
import type { Attempt } from "../../schemas/run-log.js";
import type { ArcTask } from "../../schemas/task.js";
import { twinKey, withTwins } from "../../schemas/twins.js";
import { canonicalJson } from "../common/canonical-json.js";
import { CacheError } from "../common/errors.js";
import { eachJsonLineSync, gzipPiece } from "../common/json-lines.js";
import { sha256 } from "../common/sha256.js";

/** One task's part of a reader's output: a gzipped JSON-lines file in the reader's cache entry. */
export interface TaskShard {
  taskKey: string;
  dataset: string;
  taskId: string;
  /** File name inside the entry's `shards/` folder. */
  file: string;
  /** Of the file's bytes: what the task's later stages are keyed on. */
  sha256: string;
  attempts: number;
  drops: number;
  /** The shard holds a task embedded in the input (a log's task_data, a dataset row's grids). */
  embedded: boolean;
}

/**
 * A line of a shard: an attempt, a twin of an earlier attempt line (its index among them, and the
 * twin's number), an attempt's drop, or an embedded task (once per distinct task).
 */
export type ShardLine = { attempt: Attempt } | { twin: { of: number; n: number } } | { drop: Drop } | { task: ArcTask; digest: string };

export interface ShardContent {
  attempts: Attempt[];
  drops: Drop[];
  /** The distinct tasks the inputs embedded, by digest (attempts name theirs in taskDigest). */
  tasks: Record<string, ArcTask>;
}

/** What identifies an embedded task: equal grids, equal digest. */
export const taskDigest = (task: ArcTask) => sha256(canonicalJson(task)).slice(0, 32);

/** Flush a task's lines at this size, and every task's when all pending lines reach BUFFER_TOTAL. */
const BUFFER_TASK = 1 << 16;
const BUFFER_TOTAL = 1 << 25;
/**
 * Twins are found among a task's most recent distinct attempts: a file repeating one program (or
 * dozens, interleaved) a million times is held as that many numbers, while memory stays 64 keys
 * (about 6 KB) per task. Copies cycling through more programs than that are read one by one.
 */
const TWIN_WINDOW = 64;

interface Open {
  shard: TaskShard;
  hash: Hash;
  pending: string[];
  pendingBytes: number;
  /** Digests of the embedded tasks already written to this shard. */
  tasks: Set<string>;
  /** Attempt lines written so far. */
  written: number;
  /** Twin keys of the latest distinct attempts, least recent first, with their line index. */
  recent: Map<string, number>;
}

/**
 * Splits a reader's stream of attempts into one file per task, in arrival order, through small
 * buffers: memory is bounded by the buffers, not by the corpus. Later stages then hold one task
 * at a time.
 */
export class TaskShardWriter {
  private readonly open = new Map<string, Open>();
  private pendingTotal = 0;

  constructor(private readonly dir: string) {
    mkdirSync(join(dir, "shards"), { recursive: true });
  }

  attempt(attempt: Attempt): void {
    const { embeddedTask, ...rest } = attempt;
    const entry = this.entry(attempt.dataset, attempt.taskId);
    // Each distinct embedded task once per shard, not once per attempt; every attempt names its own.
    if (embeddedTask) {
      const digest = taskDigest(embeddedTask);
      if (!entry.tasks.has(digest)) {
        entry.tasks.add(digest);
        entry.shard.embedded = true;
        this.write(entry, { task: embeddedTask, digest });
      }
      rest.taskDigest = digest;
    }
    entry.shard.attempts++;
    const key = twinKey(rest);
    const of = key === undefined ? undefined : entry.recent.get(key);
    if (key !== undefined) {
      entry.recent.delete(key);
      entry.recent.set(key, of ?? entry.written);
      if (entry.recent.size > TWIN_WINDOW) entry.recent.delete(entry.recent.keys().next().value!);
    }
    if (of !== undefined) this.write(entry, { twin: { of, n: rest.attemptNumber } });
    else {
      entry.written++;
      this.write(entry, { attempt: rest });
    }
  }

  drop(params: { dataset: string; drop: Drop & { taskId: string } }): void {
    const entry = this.entry(params.dataset, params.drop.taskId);
    entry.shard.drops++;
    this.write(entry, { drop: params.drop });
  }

  /** Writes what is pending; the shards by task key. */
  close(): TaskShard[] {
    for (const entry of this.open.values()) this.flush(entry);
    return [...this.open.values()]
      .map((e) => ({ ...e.shard, sha256: e.hash.digest("hex") }))
      .sort((a, b) => (a.taskKey < b.taskKey ? -1 : a.taskKey > b.taskKey ? 1 : 0));
  }

  private entry(dataset: string, taskId: string): Open {
    const taskKey = `${dataset}/${taskId}`;
    let found = this.open.get(taskKey);
    if (!found) {
      const file = `${sha256(taskKey).slice(0, 24)}.jsonl.gz`;
      found = {
        shard: { taskKey, dataset, taskId, file, sha256: "", attempts: 0, drops: 0, embedded: false },
        hash: createHash("sha256"),
        pending: [],
        pendingBytes: 0,
        tasks: new Set(),
        written: 0,
        recent: new Map(),
      };
      this.open.set(taskKey, found);
    }
    return found;
  }

  private write(entry: Open, line: ShardLine): void {
    const text = `${JSON.stringify(line)}\n`;
    entry.hash.update(text);
    entry.pending.push(text);
    entry.pendingBytes += text.length;
    this.pendingTotal += text.length;
    if (entry.pendingBytes >= BUFFER_TASK) this.flush(entry);
    if (this.pendingTotal >= BUFFER_TOTAL) for (const e of this.open.values()) this.flush(e);
  }

  private flush(entry: Open): void {
    if (entry.pending.length === 0) return;
    appendFileSync(join(this.dir, "shards", entry.shard.file), gzipPiece(entry.pending.join("")));
    this.pendingTotal -= entry.pendingBytes;
    entry.pending = [];
    entry.pendingBytes = 0;
  }
}

/**
 * A shard's attempts (each with its twins), drops and embedded tasks, in the order they were
 * written; a twin's number is all that is held of it.
 */
export function readTaskShard(params: { dir: string; file: string }): ShardContent {
  const path = join(params.dir, "shards", params.file);
  const content: ShardContent = { attempts: [], drops: [], tasks: {} };
  const twins = new Map<number, number[]>();
  try {
    eachJsonLineSync<ShardLine>(path, (line) => {
      if ("attempt" in line) content.attempts.push(line.attempt);
      else if ("twin" in line) {
        const numbers = twins.get(line.twin.of) ?? [];
        numbers.push(line.twin.n);
        twins.set(line.twin.of, numbers);
      } else if ("drop" in line) content.drops.push(line.drop);
      else content.tasks[line.digest] = line.task;
    });
  } catch (error) {
    // A shard never written holds nothing (asked for first, not checked for: most are there).
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return content;
    throw error;
  }
  for (const [of, numbers] of twins) {
    const first = content.attempts[of];
    // Only a damaged cache entry names an attempt line the shard does not hold.
    if (!first) throw new CacheError(`the task shard ${path} names attempt line ${of} as a twin's, and holds no such line; run the build again with --fresh`);
    content.attempts[of] = withTwins(first, numbers);
  }
  return content;
}
