/** "a 1, b 2" in key order (a prefix cut from each key), or "none": how the summary lists counts. */
export const countList = (counts: Record<string, number>, strip = ""): string =>
  Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k.replace(strip, "")} ${v}`)
    .join(", ") || "none";
