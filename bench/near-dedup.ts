import { nearDuplicates } from "../stages/near-dedup.js";

/**
 * MinHash LSH against exact all-pairs on one task's worth of test-solving programs: recall of the
 * exact drops, drops LSH makes that exact does not, and the time of each, in one run.
 * Programs are families of token sequences: each a base program with a few tokens changed, so
 * similarities spread over the thresholds users pick. Seeded: the same programs every run.
 */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function programs(params: { count: number; families: number; length: number; seed: number }) {
  const random = seeded(params.seed);
  const token = () => `t${Math.floor(random() * 400)}`;
  const bases = Array.from({ length: params.families }, () => Array.from({ length: params.length }, token));
  return Array.from({ length: params.count }, (_, i) => {
    const tokens = [...bases[Math.floor(random() * bases.length)]!];
    const edits = Math.floor(random() * 6);
    for (let e = 0; e < edits; e++) tokens[Math.floor(random() * tokens.length)] = token();
    return { id: `p${String(i).padStart(6, "0")}`, taskId: "bench", tokens };
  });
}

const count = Number(process.argv[2] ?? 6000);
const corpus = programs({ count, families: Math.round(count / 4), length: 120, seed: 7 });
for (const threshold of [0.9, 0.8, 0.7]) {
  let started = performance.now();
  const exact = new Set(nearDuplicates({ programs: corpus, threshold, lsh: false }).map((d) => d.id));
  const exactMs = performance.now() - started;
  started = performance.now();
  const lsh = new Set(nearDuplicates({ programs: corpus, threshold, lsh: true }).map((d) => d.id));
  const lshMs = performance.now() - started;
  const found = [...exact].filter((id) => lsh.has(id)).length;
  const extra = [...lsh].filter((id) => !exact.has(id)).length;
  process.stdout.write(
    `${count} programs, threshold ${threshold}: exact drops ${exact.size} in ${(exactMs / 1000).toFixed(1)} s; ` +
      `LSH drops ${lsh.size} in ${(lshMs / 1000).toFixed(1)} s; recall ${(found / Math.max(1, exact.size)).toFixed(5)}, ${extra} drops exact does not make\n`,
  );
}
