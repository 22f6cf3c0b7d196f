import { createWriteStream, renameSync } from "node:fs";
import { once } from "node:events";

/**
 * One JSON document a line, streamed to a temporary file and renamed into place: never one string
 * for the whole file (V8 strings stop at ~512 MiB), and a reader never sees half a file.
 */
export async function writeJsonLines(path: string, values: Iterable<unknown> | AsyncIterable<unknown>): Promise<number> {
  const tmp = `${path}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  let lines = 0;
  for await (const value of values) {
    if (!out.write(JSON.stringify(value) + "\n")) await once(out, "drain");
    lines++;
  }
  out.end();
  await once(out, "finish");
  renameSync(tmp, path);
  return lines;
}
