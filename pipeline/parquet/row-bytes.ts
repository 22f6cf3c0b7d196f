/**
 * A row's size uncompressed, as Parquet holds it: 8 bytes a number, 1 a boolean, a string's UTF-8
 * bytes, 4 more for each list's and string's offsets. Cheap, deterministic, and above what ZSTD
 * writes for ARC rows, so a file cut by it stays under its limit.
 */
export function rowBytes(value: unknown): number {
  if (typeof value === "number") return 8;
  if (typeof value === "boolean") return 1;
  if (typeof value === "string") return Buffer.byteLength(value) + 4;
  if (Array.isArray(value)) {
    let total = 4;
    // A grid's cells are numbers: counted here, not by a call each (a build's rows hold millions).
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      total += typeof item === "number" ? 8 : rowBytes(item);
    }
    return total;
  }
  if (value && typeof value === "object") {
    let total = 0;
    for (const field of Object.values(value)) total += rowBytes(field);
    return total;
  }
  return 1;
}
