import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtinRecipes, resolveRecipe } from "../../../pipeline/recipe/builtin-recipes.js";
import { writeProgramTable, type TableTask } from "../../../pipeline/recipe/program-table-db.js";
import { runRecipe } from "../../../pipeline/recipe/run-recipe.js";
import { rowId } from "../../../schemas/program-identity.js";
import type { ArcTask } from "../../../schemas/task.js";
import { tempDir } from "../../support/stage-harness.js";

const TASK: ArcTask = {
  train: [
    { input: [[1]], output: [[2]] },
    { input: [[3]], output: [[4]] },
  ],
  test: [{ input: [[5]], output: [[6]] }],
};

interface Spec {
  name: string;
  code: string;
  /** Train examples right (of 2), test examples right (of 1). */
  train?: number;
  test?: number;
  models?: string[];
  side?: number;
  failsAugment?: boolean | null;
}

/** A program-table row as the build writes it, from what a test cares about. */
function row(taskId: string, s: Spec): TableTask["rows"][number] {
  const train = s.train ?? 0;
  const test = s.test ?? 0;
  const side = s.side ?? 1;
  const grid = Array.from({ length: side }, () => Array.from({ length: side }, () => 1));
  return {
    id: s.name,
    values: {
      row_id: rowId({ dataset: "arc-agi-1", taskId, code: s.code }),
      dataset: "arc-agi-1",
      task_id: taskId,
      code: s.code,
      reasoning: "",
      model: (s.models ?? ["m"])[0],
      models: s.models ?? ["m"],
      generation: 0,
      copies: 1,
      attempt_id: s.name,
      source: "logs/x.json",
      run_timestamp: null,
      subset: null,
      correct_train_input: [train >= 1, train >= 2],
      correct_test_input: [test >= 1],
      predicted_train_output: [grid, grid],
      predicted_test_output: [grid],
      train_correct: train,
      test_correct: test,
      all_train_correct: train === 2,
      all_test_correct: test === 1,
      code_length: [...s.code].length,
      max_predicted_height: side,
      max_predicted_width: side,
      identity: false,
      single_colour: false,
      fails_augment: s.failsAugment ?? null,
    },
  };
}

/** Runs a built-in over made-up tasks: the picks' names per task, in the recipe's order. */
async function cut(recipe: string, tasks: { id: string; split?: string; rows: Spec[] }[]): Promise<Record<string, string[]>> {
  const dir = await tempDir("arcforge-recipe-");
  const path = join(dir, "table.duckdb");
  await writeProgramTable({
    path,
    tasks: tasks.map((t) => ({ dataset: "arc-agi-1", taskId: t.id, split: t.split ?? "training", task: TASK, rows: t.rows.map((s) => row(t.id, s)) })),
  });
  const picks = await runRecipe({ dbPath: path, recipe: resolveRecipe(recipe), timeoutSeconds: 60, tempDir: join(dir, "tmp") });
  return Object.fromEntries([...picks].map(([key, list]) => [key.split("/")[1]!, list.map((p) => p.id)]));
}

const code = (length: number, fill = "x") => `${fill.repeat(length - 1)}\n`;

describe("the built-in recipes, on made-up program tables", () => {
  it("lists each built-in with its rules in one line", () => {
    expect(builtinRecipes().map((r) => r.name)).toEqual(["fully-correct-50", "partial-100", "partial-max-60", "partials-for-refinement-10"]);
    for (const r of builtinRecipes()) expect(r.rules).not.toContain("\n");
  });

  it("partial-100: at least one right, 2.5x the shortest best exactly kept, white-space copies deduplicated, 41x41 predictions and evaluation tasks out, ties by each key", async () => {
    const picks = await cut("partial-100", [
      {
        id: "aaaaaaaa",
        rows: [
          { name: "best", code: code(10), train: 2, test: 1 },
          { name: "at-cap", code: code(25, "y"), train: 2, test: 1 },
          { name: "over-cap", code: code(26, "z"), train: 2, test: 1 },
          { name: "collapsed-under-cap", code: `${"w".repeat(20)}\n\n\n\n\n\nw\n`, train: 2, test: 1 },
          { name: "huge-grid", code: code(11, "h"), train: 2, test: 1, side: 41 },
          { name: "none-right", code: code(12, "n"), train: 0, test: 0 },
          { name: "model-b", code: "def f(x):  return x\n", train: 1, models: ["b"] },
          { name: "model-b-spaced-copy", code: "DEF f(x):    return   x\n", train: 1, models: ["a"] },
          { name: "model-a", code: "def g(x):  return x\n", train: 1, models: ["a"] },
          { name: "code-later", code: "def i(x):  return x\n", train: 1, models: ["a"] },
          { name: "code-earlier", code: "def h(x):  return x\n", train: 1, models: ["a"] },
        ],
      },
      { id: "eeeeeeee", split: "evaluation", rows: [{ name: "eval", code: code(10), train: 2, test: 1 }] },
    ]);
    expect(picks).toEqual({ aaaaaaaa: ["best", "collapsed-under-cap", "at-cap", "model-a", "code-earlier", "code-later", "model-b"] });
  });

  it("fully-correct-50: every example right, 50 per task by code", async () => {
    const rows: Spec[] = Array.from({ length: 55 }, (_, k) => ({
      name: `p${String(k).padStart(2, "0")}`,
      code: `${String(k).padStart(2, "0")}${"x".repeat(18)}\n`,
      train: 2,
      test: 1,
    }));
    const picks = await cut("fully-correct-50", [{ id: "aaaaaaaa", rows: [...rows, { name: "partial", code: code(20, "q"), train: 1, test: 1 }] }]);
    expect(picks.aaaaaaaa).toEqual(rows.slice(0, 50).map((r) => r.name));
  });

  it("partials-for-refinement-10: partly right, test not solved, not failing augmentation; 10 by success then md5(code)", async () => {
    const partial: Spec[] = Array.from({ length: 12 }, (_, k) => ({ name: `p${k}`, code: `def f${k}(x): return x\n`, train: k < 3 ? 2 : 1 }));
    const picks = await cut("partials-for-refinement-10", [
      {
        id: "aaaaaaaa",
        rows: [
          ...partial,
          { name: "solved", code: code(10), train: 0, test: 1 },
          { name: "none", code: code(11), train: 0 },
          { name: "augment", code: code(12), train: 2, failsAugment: true },
        ],
      },
    ]);
    const { createHash } = await import("node:crypto");
    const md5 = (s: string) => createHash("md5").update(s).digest("hex");
    const expected = [...partial]
      .sort((a, b) => b.train! - a.train! || (md5(a.code) < md5(b.code) ? -1 : 1))
      .slice(0, 10)
      .map((r) => r.name);
    expect(picks.aaaaaaaa).toEqual(expected);
  });

  it("partial-max-60: a train example right, 60 by test right, train right, then row_id descending", async () => {
    const rows: Spec[] = Array.from({ length: 65 }, (_, k) => ({
      name: `p${k}`,
      code: `def f${k}(x): return x\n`,
      train: 1 + (k % 2),
      test: k % 3 === 0 ? 1 : 0,
    }));
    const picks = await cut("partial-max-60", [{ id: "aaaaaaaa", rows: [...rows, { name: "test-only", code: code(10), train: 0, test: 1 }] }]);
    const id = (s: Spec) => rowId({ dataset: "arc-agi-1", taskId: "aaaaaaaa", code: s.code });
    const expected = [...rows]
      .sort((a, b) => b.test! - a.test! || b.train! - a.train! || (id(a) < id(b) ? 1 : -1))
      .slice(0, 60)
      .map((r) => r.name);
    expect(picks.aaaaaaaa).toEqual(expected);
  });
});

describe("a recipe is one locked-down SELECT", () => {
  const table = async () => {
    const dir = await tempDir("arcforge-recipe-");
    const path = join(dir, "table.duckdb");
    await writeProgramTable({
      path,
      tasks: [{ dataset: "arc-agi-1", taskId: "aaaaaaaa", split: "training", task: TASK, rows: [row("aaaaaaaa", { name: "a", code: code(10), train: 1 })] }],
    });
    return { dir, path };
  };
  const attempt = async (sql: string, timeoutSeconds = 30) => {
    const { dir, path } = await table();
    const before = readFileSync(path);
    const result = await runRecipe({ dbPath: path, recipe: { name: "hostile.sql", sql }, timeoutSeconds, tempDir: join(dir, "tmp") }).then(
      () => "ran",
      (e: Error) => `${e.name}: ${e.message}`,
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    return { result, dir };
  };

  it.each([
    ["COPY programs TO '{dir}/stolen.csv'", /recipe hostile\.sql: .*not/],
    ["SELECT row_id FROM read_csv('/etc/passwd')", /RecipeError: recipe hostile\.sql: .*(disabled|Permission)/],
    ["INSTALL httpfs", /RecipeError: recipe hostile\.sql: a recipe is one SELECT statement; this one is not/],
    ["ATTACH '{dir}/other.db' AS other", /RecipeError: recipe hostile\.sql: a recipe is one SELECT statement; this one is not/],
    ["SET enable_external_access = true", /RecipeError: recipe hostile\.sql: a recipe is one SELECT statement; this one is not/],
    ["SELECT row_id FROM programs; DROP VIEW programs", /RecipeError: recipe hostile\.sql: a recipe is exactly one SELECT statement; this one has 2/],
    ["SELECT * FROM range(1e12)", /RecipeError: recipe hostile\.sql: line 1: Binder Error/],
    ["SELECT 1 AS x", /RecipeError: recipe hostile\.sql: its result has no row_id column \(it has: x\)/],
    ["SELECT 'nope' AS row_id", /RecipeError: recipe hostile\.sql: it returned row_id "nope", which is no row of the program table/],
    ["SELECT row_id FROM programs UNION ALL SELECT row_id FROM programs", /RecipeError: recipe hostile\.sql: it returned row_id \w+ twice/],
    ["SELECT row_id FROM programs\nWHERE nonsense_column > 1", /RecipeError: recipe hostile\.sql: line 2: .*nonsense_column/],
  ])("refuses %s with a clear error and touches nothing", async (sql, expected) => {
    const { dir } = await table();
    const { result } = await attempt(sql.replaceAll("{dir}", dir));
    expect(result).toMatch(expected);
    expect(existsSync(join(dir, "stolen.csv"))).toBe(false);
    expect(existsSync(join(dir, "other.db"))).toBe(false);
  });

  it("stops a recipe that runs past its time limit", async () => {
    const { result } = await attempt("SELECT row_id FROM programs, range(1000000000000) AS r(i) WHERE hash(i) = 0", 2);
    expect(result).toMatch(/RecipeError: recipe hostile\.sql: it ran past --recipe-timeout 2 s and was stopped/);
  });
});
