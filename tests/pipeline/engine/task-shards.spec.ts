import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readTaskShard, TaskShardWriter } from "../../../pipeline/engine/task-shards.js";
import type { Attempt } from "../../../schemas/run-log.js";
import { tempDir } from "../../support/stage-harness.js";

const attempt = (n: number, code = "def transform(g):\n    return g", extra: Partial<Attempt> = {}): Attempt => ({
  id: `logs/big.json#${n}`,
  logFile: "logs/big.json",
  taskId: "0a1d4ef5",
  dataset: "arc-agi-1",
  taskKey: "arc-agi-1/0a1d4ef5",
  subset: null,
  model: "m",
  attemptNumber: n,
  code,
  reasoning: null,
  loggedTestCorrect: null,
  ...extra,
});

async function shard(attempts: Attempt[]) {
  const dir = await tempDir("arcforge-shards-");
  const writer = new TaskShardWriter(dir);
  for (const a of attempts) writer.attempt(a);
  const [written] = writer.close();
  return { written: written!, bytes: statSync(join(dir, "shards", written!.file)).size, content: readTaskShard({ dir, file: written!.file }) };
}

describe("task shards", () => {
  it("hold a program repeated 200,000 times as one attempt and its twins' numbers, every attempt counted", async () => {
    const { written, bytes, content } = await shard(Array.from({ length: 200_000 }, (_, k) => attempt(k + 1)));
    expect(written.attempts).toBe(200_000);
    expect(content.attempts).toHaveLength(1);
    expect(content.attempts[0]).toMatchObject({ id: "logs/big.json#1", attemptNumber: 1 });
    expect(content.attempts[0]!.twins!.numbers).toHaveLength(199_999);
    expect(bytes).toBeLessThan(1 << 20);
  });

  it("find twins interleaved with other programs, and never merge attempts that differ in more than their number", async () => {
    const attempts = Array.from({ length: 40 }, (_, k) =>
      attempt(k + 1, `def transform(g):\n    return ${k % 3 === 0 ? "g" : k % 3 === 1 ? "g[::-1]" : "g"}`, k % 3 === 2 ? { reasoning: "why" } : {}),
    );
    const { content } = await shard(attempts);
    expect(content.attempts.map((a) => [a.id, a.twins?.numbers.length ?? 0])).toEqual([
      ["logs/big.json#1", 13],
      ["logs/big.json#2", 12],
      ["logs/big.json#3", 12],
    ]);
  });

  it("find copies cycling through 64 programs, and read them one by one past that (memory stays 64 keys a task)", async () => {
    const cycling = (programs: number) => Array.from({ length: 4 * programs }, (_, k) => attempt(k + 1, `def transform(g):\n    return ${k % programs}`));
    expect((await shard(cycling(64))).content.attempts).toHaveLength(64);
    expect((await shard(cycling(65))).content.attempts).toHaveLength(4 * 65);
  });

  it("let the lowest attempt number stand for its twins, whatever order the file lists them in", async () => {
    const { content } = await shard([attempt(9), attempt(4), attempt(7)]);
    expect(content.attempts).toEqual([{ ...attempt(4), twins: { prefix: "logs/big.json#", numbers: [7, 9] } }]);
  });

  it("names a damaged shard whose twin line points at no attempt, instead of failing on undefined", async () => {
    const dir = await tempDir("arcforge-shards-");
    mkdirSync(join(dir, "shards"));
    writeFileSync(join(dir, "shards", "x.jsonl"), `${JSON.stringify({ twin: { of: 3, n: 2 } })}\n`);
    expect(() => readTaskShard({ dir, file: "x.jsonl" })).toThrow(/x\.jsonl names attempt line 3 as a twin's.*--fresh/);
  });
});
