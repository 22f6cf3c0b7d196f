import { describe, expect, it } from "vitest";
import type { Row } from "../../schemas/program.js";
import { summariseRows } from "../../stages/balance.js";
import { chooseValidation } from "../../stages/split.js";
import { row } from "../support/rows.js";

describe("validation split", () => {
  it("takes whole tasks, about min(10% of rows, 32), half from each group, never a task in both", () => {
    const rows: Row[] = [];
    for (let t = 0; t < 200; t++) for (let k = 0; k < 3; k++) rows.push(row(`t${t}#${k}`, { task: t.toString(16).padStart(8, "0"), correct: [t % 2 === 0] }));
    const chosen = chooseValidation({ tasks: summariseRows(rows), seed: 7 }).taskKeys;
    const validation = rows.filter((r) => chosen.has(r.taskKey));
    expect(validation.length).toBeGreaterThanOrEqual(30);
    expect(validation.length).toBeLessThanOrEqual(34);
    const correct = validation.filter((r) => Number.parseInt(r.taskId, 16) % 2 === 0).length;
    expect(Math.abs(correct - (validation.length - correct))).toBeLessThanOrEqual(3);
    expect(chooseValidation({ tasks: summariseRows(rows), seed: 7 }).taskKeys).toEqual(chosen);
    expect(chooseValidation({ tasks: summariseRows(rows), seed: 8 }).taskKeys).not.toEqual(chosen);
  });

  it("uses 10% when that is under 32 rows", () => {
    const rows: Row[] = [];
    for (let t = 0; t < 50; t++) rows.push(row(`t${t}#1`, { task: t.toString(16).padStart(8, "0"), correct: [t < 25] }));
    expect(chooseValidation({ tasks: summariseRows(rows), seed: 1 }).taskKeys.size).toBe(5);
  });
});
