import { Semaphore } from "async-mutex";
import pLimit from "p-limit";

/**
 * Runs `run` over every item, at most `concurrency` at once and with the items' weights in flight
 * summing to at most `budget`; an item heavier than the budget runs alone. First come, first
 * served: a heavy item waits for room instead of being overtaken for ever. Results keep item order.
 * When one item fails, no other starts, and the failure is raised once those running have ended:
 * nothing keeps working (executing, writing the cache) after the caller has closed what it uses.
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
  let failure: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    params.items.map((item) =>
      limit(() => {
        if (failure) return Promise.reject(failure.error);
        return gate
          .runExclusive(() => params.run(item), Math.min(budget, Math.max(1, Math.ceil(params.weight(item)))))
          .catch((error: unknown) => {
            failure ??= { error };
            throw error;
          });
      }),
    ),
  );
  if (failure) throw failure.error;
  return settled.map((result) => (result as PromiseFulfilledResult<R>).value);
}
