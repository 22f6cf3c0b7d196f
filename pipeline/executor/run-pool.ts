/**
 * Runs `execute` over `jobs` with `workers` loops, each bound to one worker index, pulling
 * jobs lazily (memory stays bounded by the worker count) and yielding results as they finish.
 */
export async function* runPool<J, R>(params: {
  jobs: Iterable<J> | AsyncIterable<J>;
  workers: number;
  execute: (worker: number, job: J) => Promise<R>;
}): AsyncGenerator<R> {
  const source = Symbol.asyncIterator in params.jobs ? params.jobs[Symbol.asyncIterator]() : params.jobs[Symbol.iterator]();
  let pulling: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const pull = (): Promise<IteratorResult<J>> => {
    const next = pulling.then(() => (stopped ? { done: true as const, value: undefined } : source.next()));
    pulling = next.catch(() => undefined);
    return next as Promise<IteratorResult<J>>;
  };

  const ready: R[] = [];
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let running = Math.max(1, params.workers);
  const loops = Array.from({ length: running }, async (_, worker) => {
    try {
      for (let next = await pull(); !next.done && !failure; next = await pull()) {
        ready.push(await params.execute(worker, next.value));
        notify();
      }
    } catch (error) {
      failure ??= { error };
    } finally {
      running--;
      notify();
    }
  });

  try {
    while (true) {
      while (ready.length > 0) yield ready.shift()!;
      if (failure) throw failure.error;
      if (running === 0) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stopped = true;
    await Promise.allSettled(loops);
  }
}
