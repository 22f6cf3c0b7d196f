import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { findPython } from "../executor/find-python.js";
import { packageRoot } from "../common/paths.js";

export type CleanStatus = "cleaned" | "unchanged" | "unparsable" | "failed";
export interface Cleaned {
  code: string;
  status: CleanStatus;
  error?: string;
  /** The helper process died before answering: this says nothing about the code, and is never cached. */
  helperDied?: true;
}

export const CLEANER_PATH = join(packageRoot(), "docker", "clean_code.py");

/** One helper process: requests by sequence number, so the same code may be asked twice at once. */
class Helper<A> {
  private readonly pending = new Map<number, { code: string; resolve: (answer: A) => void }>();
  private seq = 0;
  private stderr = "";
  dead = false;

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly died: (code: string, message: string) => A,
  ) {
    child.stderr.on("data", (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    child.stdin.on("error", () => undefined);
    // A spawn failure is followed by "close", which answers what was pending.
    child.on("error", () => undefined);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const { id, ...answer } = JSON.parse(line) as A & { id: number };
      this.pending.get(id)?.resolve(answer as A);
      this.pending.delete(id);
    });
    // The helper only parses and compiles (never runs) code; if it dies, what it had not answered keeps its original code.
    child.on("close", () => {
      this.dead = true;
      for (const { code, resolve } of this.pending.values()) resolve(this.diedAnswer(code));
      this.pending.clear();
    });
  }

  /** The helper died, which says nothing about the code. */
  private diedAnswer(code: string): A {
    return this.died(code, this.stderr.trim().split("\n").pop() ?? "no message");
  }

  ask(code: string): Promise<A> {
    const id = this.seq++;
    return new Promise((resolve) => {
      // Asked after it died: no answer would ever come.
      if (this.dead) return resolve(this.diedAnswer(code));
      this.pending.set(id, { code, resolve });
      this.child.stdin.write(`${JSON.stringify({ id, code })}\n`);
    });
  }

  close(): Promise<void> {
    if (this.dead) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.child.once("close", () => resolve()));
    this.child.stdin.end();
    return closed;
  }
}

/**
 * Python helper processes (one per core) that answer one JSON line per program and live as long as
 * the pool: a build asks task after task without starting Python again. They start on the first
 * request; a helper that dies is replaced for the next one. They parse code, never run it.
 */
class HelperPool<A> {
  private readonly helpers: (Promise<Helper<A>> | undefined)[];
  private next = 0;

  constructor(private readonly params: { python?: string; processes?: number; script: string; died: (code: string, message: string) => A }) {
    this.helpers = Array.from({ length: Math.max(1, params.processes ?? availableParallelism()) });
  }

  /** The answer for one program, from the next helper in turn. */
  async ask(code: string): Promise<A> {
    return (await this.helper(this.next++ % this.helpers.length)).ask(code);
  }

  private helper(index: number): Promise<Helper<A>> {
    let found = this.helpers[index];
    if (!found) {
      found = findPython({ python: this.params.python }).then(
        (python) =>
          new Helper(
            spawn(python.executable, ["-S", this.params.script], {
              stdio: ["pipe", "pipe", "pipe"],
              env: { PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" },
            }),
            this.params.died,
          ),
      );
      this.helpers[index] = found;
    }
    return found.then((h) => {
      if (!h.dead) return h;
      // Replaced once, by whichever caller sees the death first: a second replacement would orphan the first.
      if (this.helpers[index] === found) this.helpers[index] = undefined;
      return this.helper(index);
    });
  }

  async close(): Promise<void> {
    const helpers = this.helpers.splice(0, this.helpers.length, ...this.helpers.map(() => undefined));
    await Promise.all(helpers.map(async (h) => (await h?.catch(() => undefined))?.close()));
  }
}

/** Cleans programs with docker/clean_code.py. */
export class CleanerPool extends HelperPool<Cleaned> {
  constructor(params: { python?: string; processes?: number } = {}) {
    super({
      ...params,
      script: CLEANER_PATH,
      died: (code, message) => ({ code, status: "failed", helperDied: true, error: `the cleaner process died: ${message}` }),
    });
  }

  /** Every program's cleaned code, by id; `onAnswer` after each. */
  async clean(params: { programs: { id: string; code: string }[]; onAnswer?: () => void }): Promise<Map<string, Cleaned>> {
    const answers = await Promise.all(
      params.programs.map(async (program) => {
        const answer = await this.ask(program.code);
        params.onAnswer?.();
        return [program.id, answer] as const;
      }),
    );
    return new Map(answers);
  }
}

/** A program's normalised tokens (docker/normalise_code.py), or why there are none. */
export type Normalised = { tokens: string[] } | { error: string; helperDied?: true };

export const NORMALISER_PATH = join(packageRoot(), "docker", "normalise_code.py");

/** Normalises programs for structural near-duplicates: their own names erased, tokens kept. */
export class NormaliserPool extends HelperPool<Normalised> {
  constructor(params: { python?: string; processes?: number } = {}) {
    super({ ...params, script: NORMALISER_PATH, died: (_code, message) => ({ error: `the normaliser process died: ${message}`, helperDied: true }) });
  }
}

/** Cleans one batch in a pool of its own (started and closed here). */
export async function cleanPrograms(params: {
  programs: { id: string; code: string }[];
  python?: string;
  processes?: number;
  onProgress?: (done: number) => void;
}): Promise<Map<string, Cleaned>> {
  const pool = new CleanerPool({
    python: params.python,
    processes: Math.max(1, Math.min(params.processes ?? availableParallelism(), Math.ceil(params.programs.length / 200))),
  });
  let done = 0;
  try {
    return await pool.clean({ programs: params.programs, onAnswer: () => params.onProgress?.(++done) });
  } finally {
    await pool.close();
  }
}
