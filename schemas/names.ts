/**
 * Values that become parts of paths and repo names (a dataset, a subset, a split): letters,
 * digits, `.`, `_` and `-`, starting with a letter or digit, never `..`. Anything else is data
 * pretending to be a name, refused where it is read.
 */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Why `value` is not a name, or null when it is one. */
export function nameProblem(params: { what: string; value: string }): string | null {
  const { what, value } = params;
  if (NAME.test(value) && !value.includes("..")) return null;
  return `${what} ${JSON.stringify(value.slice(0, 100))} is not a name (letters, digits, '.', '_', '-'; no '..' or '/')`;
}
