import { Semaphore } from "async-mutex";
import pLimit from "p-limit";

/**
 * Runs `run` over every item, at most `concurrency` at once and with the items' weights in flight
 * summing to at most `budget`; an item heavier than the budget runs alone. First come, first
 * served: a heavy item waits for room instead of being overtaken for ever. Results keep item order.
 */
export async function runBounded<T, R>(params: {
  items: T[];
  concurrency: number;
  budget: number;
  weight: (item: T) => number;
  run: (item: T) => Promise<R>;
}): Promise<R[]> {
  const limit = pLimit(Math.max(1, params.concurrency));
  const budget = Math.max(1, params.budget);
  const gate = new Semaphore(budget);
  return Promise.all(
    params.items.map((item) => limit(() => gate.runExclusive(() => params.run(item), Math.min(budget, Math.max(1, Math.ceil(params.weight(item))))))),
  );
}
