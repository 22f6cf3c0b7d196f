import TinyQueue from "tinyqueue";

interface Head<T> {
  item: T;
  key: string;
  source: number;
  rest: Iterator<T>;
}

/**
 * One stream, sorted by `key`, from sources that each are: holds one item per source, so a
 * source may be generated as it is read. Each item comes with its source's index; equal keys
 * come in source order.
 */
export function* mergeSorted<T>(params: { sources: Iterable<T>[]; key: (item: T) => string }): Generator<[T, number]> {
  const queue = new TinyQueue<Head<T>>([], (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.source - b.source));
  const advance = (source: number, rest: Iterator<T>) => {
    const next = rest.next();
    if (!next.done) queue.push({ item: next.value, key: params.key(next.value), source, rest });
  };
  params.sources.forEach((source, i) => advance(i, source[Symbol.iterator]()));
  for (let head = queue.pop(); head; head = queue.pop()) {
    yield [head.item, head.source];
    advance(head.source, head.rest);
  }
}
