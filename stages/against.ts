import type { BuildOptions } from "../schemas/build-options.js";
import type { Drop } from "../schemas/drop.js";
import { gridsEqual } from "../schemas/grid.js";
import type { Outcome } from "../schemas/outcome.js";
import type { Row } from "../schemas/program.js";
import { type ArcTask, taskInputs } from "../schemas/task.js";
import { defineStage, type StageContext, type StageOutput } from "../pipeline/engine/stage.js";
import { fingerprintId } from "../pipeline/executor/runtime-fingerprint.js";
import { executeForStage } from "../pipeline/store/execute-cached.js";
import { CLEANER_HASH, cleanCodes } from "./clean-code.js";
import { ATTEMPTS, loadTasksStage } from "./load-tasks.js";
import { firstLike, NORMALISER_HASH, normalisedTokens, shingles } from "./near-dedup.js";
import { readAgainstStage } from "./read-against.js";

/** One published program as this build judges it: its cleaned code, run here on the task's inputs. */
interface Theirs {
  id: string;
  code: string;
  solves: boolean;
  behaviour: string;
}

const gridOf = (o: Outcome | undefined) => (o?.status === "ok" ? o.grid : []);

/**
 * The published side's programs of one task, judged like the build's own: cleaned as clean-code
 * cleans, executed in this sandbox (through the same execution cache, so a program the build ran
 * already costs nothing), never by the outputs it stored.
 */
async function judgeTheirs(params: { attempts: { id: string; code: string }[]; task: ArcTask; options: BuildOptions; context: StageContext }) {
  const { task, options, context } = params;
  const cleaned = options.cleanCode ? await cleanCodes({ codes: params.attempts.map((a) => a.code), context, stage: "against" }) : undefined;
  const codeOf = (raw: string) => cleaned?.get(raw)?.code ?? raw;
  const codes = [...new Set(params.attempts.map((a) => codeOf(a.code)))];
  const { outcomes, transient } = await executeForStage({
    stage: "against",
    namespace: "execute",
    jobs: codes.map((code, i) => ({ id: String(i), code, inputs: taskInputs(task) })),
    limits: options.limits,
    context,
  });
  const judged = new Map(
    codes.map((code, i) => {
      const results = outcomes.get(String(i)) ?? [];
      const test = results.slice(task.train.length);
      const solves = task.test.length > 0 && task.test.every((t, k) => gridsEqual(gridOf(test[k]), t.output));
      return [code, { solves, behaviour: JSON.stringify(results.slice(0, task.train.length).map(gridOf)) }];
    }),
  );
  const theirs: Theirs[] = params.attempts.map((a) => ({ id: a.id, code: codeOf(a.code), ...judged.get(codeOf(a.code))! }));
  return { theirs, transient };
}

/**
 * Dedup against what is already published (`--against`): a program whose task and dedup key
 * appear there is dropped already_published, naming the published program. Keys as dedup's: the
 * cleaned code of a test-solving program, the train outputs of another; with --near-dedup, also
 * structural likeness to a published test-solving program. Nothing on the published side changes.
 */
export const againstStage = defineStage<BuildOptions, Row, Row, undefined>({
  name: "against",
  version: 1,
  selects: true,
  sides: [ATTEMPTS, loadTasksStage],
  summary: ({ report, reportOf }) => {
    const read = reportOf(readAgainstStage);
    return read?.counts.sources
      ? [
          `already published (--against): ${read.counts.sources} sources, ${read.counts.rows} rows read; ` +
            `${report.dropped.already_published ?? 0} programs dropped; ${report.counts.against_programs ?? 0} published programs of these tasks compared`,
        ]
      : [];
  },
  idle: (options) => (options.against?.length ? undefined : "input"),
  async key(options, upstream, context) {
    // Without --against the key reads nothing of the task: the same for every task (a digest chained from the stage's upstream).
    if (!options.against?.length) return { against: null };
    const against = upstream.side(ATTEMPTS).data.against;
    if (!against) return { against: null };
    return {
      against: against.shards,
      clean: options.cleanCode ? CLEANER_HASH : null,
      limits: options.limits,
      runtime: fingerprintId(await context.fingerprint()),
      near: options.nearDedup === undefined ? null : { threshold: options.nearDedup, normaliser: NORMALISER_HASH },
    };
  },
  async run({ options, upstream, context }): Promise<StageOutput<Row, undefined>> {
    const rows = upstream.input.records;
    const against = upstream.side(ATTEMPTS).data.against;
    // Without --against the task's meta is not read: it is decoded from the cache for nothing (every rebuild).
    if (!options.against?.length || !against || rows.length === 0) return { records: rows, drops: [] };
    const task = Object.values(upstream.side(loadTasksStage).data.tasks)[0];
    if (!task) return { records: rows, drops: [] };
    const { theirs, transient } = await judgeTheirs({ attempts: against.attempts(), task, options, context });
    const byCode = new Map<string, string>();
    const byBehaviour = new Map<string, string>();
    for (const t of theirs) {
      if (!byCode.has(t.code)) byCode.set(t.code, t.id);
      if (!t.solves && !byBehaviour.has(t.behaviour)) byBehaviour.set(t.behaviour, t.id);
    }
    const drops: Drop[] = [];
    const drop = (row: Row, detail: string) => drops.push({ id: row.id, reason: "already_published", detail, taskId: row.taskId });
    const left: Row[] = [];
    for (const row of rows) {
      const same = row.solvesTest ? byCode.get(row.code) : byBehaviour.get(JSON.stringify(row.predictedTrain));
      if (same) drop(row, row.solvesTest ? `same code as ${same}` : `same train outputs as ${same}`);
      else left.push(row);
    }
    if (options.nearDedup !== undefined) await dropNearPublished({ rows: left, theirs, threshold: options.nearDedup, context, drop });
    const dropped = new Set(drops.map((d) => d.id));
    return {
      records: rows.filter((r) => !dropped.has(r.id)),
      drops,
      counts: { against_programs: theirs.length },
      ...(transient ? { uncacheable: `the sandbox failed on ${transient} execution(s)` } : {}),
    };
  },
});

/** With --near-dedup: a test-solving program structurally like a published test-solving one is published already. */
async function dropNearPublished(params: {
  rows: Row[];
  theirs: Theirs[];
  threshold: number;
  context: StageContext;
  drop: (row: Row, detail: string) => void;
}): Promise<void> {
  const solving = params.rows.filter((r) => r.solvesTest);
  const published = params.theirs.filter((t) => t.solves);
  if (solving.length === 0 || published.length === 0) return;
  const tokens = await normalisedTokens({ codes: [...solving.map((r) => r.code), ...published.map((t) => t.code)], context: params.context });
  const sets = published.flatMap((t) => {
    const found = tokens.get(t.code);
    return found ? [{ id: t.id, set: shingles(found) }] : [];
  });
  for (const row of solving) {
    const found = tokens.get(row.code);
    if (!found) continue;
    const match = firstLike({ set: shingles(found), among: sets, threshold: params.threshold });
    if (match) params.drop(row, `like ${match.id} (Jaccard ${match.similarity.toFixed(3)})`);
  }
}
