import pLimit from "p-limit";

/**
 * Weight in flight within a budget, first come first served: a waiter is let in only when it is
 * first in line and fits, so a heavy item waits for room instead of being overtaken for ever.
 * (async-mutex's Semaphore walked every unit of a free budget on each release: ~50 ms a build
 * with a budget of 16,384 attempts.)
 */
class WeightGate {
  private free: number;
  private readonly waiting: { weight: number; enter: () => void }[] = [];

  constructor(budget: number) {
    this.free = budget;
  }

  async run<R>(weight: number, work: () => Promise<R>): Promise<R> {
    if (this.waiting.length > 0 || weight > this.free) await new Promise<void>((enter) => this.waiting.push({ weight, enter }));
    else this.free -= weight;
    try {
      return await work();
    } finally {
      this.free += weight;
      while (this.waiting.length > 0 && this.waiting[0]!.weight <= this.free) {
        const next = this.waiting.shift()!;
        this.free -= next.weight;
        next.enter();
      }
    }
  }
}

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
  const gate = new WeightGate(budget);
  let failure: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    params.items.map((item) =>
      limit(() => {
        if (failure) return Promise.reject(failure.error);
        const weight = Math.ceil(params.weight(item));
        return gate
          .run(Number.isFinite(weight) ? Math.min(budget, Math.max(1, weight)) : 1, () => {
            // An item let in after a failure does not start either.
            if (failure) return Promise.reject(failure.error);
            return params.run(item);
          })
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
