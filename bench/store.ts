import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { open } from "lmdb";

/**
 * The execution cache's workload on two embedded stores: N outcomes written in batches of 100
 * (a program's), then N lookups in random order, then N lookups of keys that are absent.
 * `npm run bench:store -- 1000000`.
 */
const N = Number(process.argv[2] ?? 1_000_000);
const key = (i: number) => createHash("sha256").update(String(i)).digest("hex");
const outcome = (i: number) => ({
  status: "ok",
  grid: [
    [i % 10, (i >> 3) % 10],
    [1, 2],
  ],
  ms: 0.4,
});

async function bytesOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  return total;
}

function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = (i * 2654435761) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

async function lmdb(dir: string) {
  const db = open<unknown, string>({ path: join(dir, "lmdb"), compression: false });
  const t0 = performance.now();
  for (let i = 0; i < N; i += 100) {
    await db.transaction(() => {
      for (let k = i; k < Math.min(N, i + 100); k++) db.put(key(k), outcome(k));
    });
  }
  const t1 = performance.now();
  let found = 0;
  for (const i of shuffled(N)) if (db.get(key(i))) found++;
  const t2 = performance.now();
  for (let i = N; i < 2 * N; i++) if (db.get(key(i))) found++;
  const t3 = performance.now();
  await db.close();
  return { write: t1 - t0, read: t2 - t1, miss: t3 - t2, found, bytes: await bytesOf(join(dir, "lmdb")) };
}

async function duckdb(dir: string) {
  const instance = await DuckDBInstance.create(join(dir, "cache.duckdb"));
  const db = await instance.connect();
  await db.run("create table outcomes (k varchar primary key, o varchar)");
  const t0 = performance.now();
  for (let i = 0; i < N; i += 100) {
    const values = [];
    for (let k = i; k < Math.min(N, i + 100); k++) values.push(`('${key(k)}', '${JSON.stringify(outcome(k))}')`);
    await db.run(`insert into outcomes values ${values.join(",")}`);
  }
  const t1 = performance.now();
  let found = 0;
  const lookup = await db.prepare("select o from outcomes where k = $1");
  for (const i of shuffled(N).slice(0, Math.min(N, 20_000))) {
    lookup.bindVarchar(1, key(i));
    if ((await lookup.runAndReadAll()).getRows().length) found++;
  }
  const t2 = performance.now();
  db.closeSync();
  instance.closeSync();
  // Point lookups were timed on 20k keys (they are slow); scaled to N for the comparison.
  return { write: t1 - t0, read: ((t2 - t1) * N) / Math.min(N, 20_000), miss: NaN, found, bytes: await bytesOf(dir) };
}

const dir = await mkdtemp(join(tmpdir(), "arcforge-bench-store-"));
try {
  for (const [name, run] of [
    ["lmdb", lmdb],
    ["duckdb", duckdb],
  ] as const) {
    const sub = await mkdtemp(join(dir, name));
    const r = await run(sub);
    console.log(
      `${name.padEnd(7)} ${N} outcomes: write ${(r.write / 1000).toFixed(1)} s (${((r.write * 1000) / N).toFixed(1)} us each), read ${(r.read / 1000).toFixed(1)} s (${((r.read * 1000) / N).toFixed(1)} us each)` +
        `${Number.isNaN(r.miss) ? "" : `, miss ${((r.miss * 1000) / N).toFixed(1)} us each`}, ${(r.bytes / N).toFixed(0)} bytes/outcome on disk`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
