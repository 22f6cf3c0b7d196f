const IDENTIFIER_START = /[A-Za-z_\u0080-\uffff]/;
const IDENTIFIER_PART = /[A-Za-z0-9_\u0080-\uffff]/;
const STRING_PREFIX = /^(?:[rRbBuUfF]{1,2})?(['"])/;

/**
 * The digits of every string, bytes and number literal of Python source, concatenated in source
 * order: digits spelled as `'707000707'`, `b"7\x00"` or `7, 0, 7` in one assignment after another
 * all land in one string, where an output's row-major digits can be looked for. Names (`grid2`)
 * and comments contribute nothing. A tokenizer's approximation, not a parser: source that Python
 * would reject still yields digits.
 */
export function literalDigits(code: string): string {
  const digits: string[] = [];
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    if (c === "#") {
      while (i < code.length && code[i] !== "\n") i++;
      continue;
    }
    const prefixed = IDENTIFIER_START.test(c) || c === "'" || c === '"' ? STRING_PREFIX.exec(code.slice(i, i + 3)) : null;
    if (prefixed) {
      i = scanString({ code, start: i + prefixed[0].length - 1, raw: /[rR]/.test(prefixed[0]), digits });
      continue;
    }
    if (IDENTIFIER_START.test(c)) {
      while (i < code.length && IDENTIFIER_PART.test(code[i]!)) i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(code[i + 1] ?? ""))) {
      const start = i;
      while (
        i < code.length &&
        (/[0-9A-Za-z_.]/.test(code[i]!) || (/[+-]/.test(code[i]!) && /[eE]/.test(code[i - 1]!) && !/^0[xX]/.test(code.slice(start, start + 2))))
      )
        i++;
      digits.push(
        code
          .slice(start, i)
          .replace(/^0[xXoObB]/, "")
          .replace(/[^0-9]/g, ""),
      );
      continue;
    }
    i++;
  }
  return digits.join("");
}

/** Consumes a string literal whose opening quote is at `start`; returns the index after it. */
function scanString(params: { code: string; start: number; raw: boolean; digits: string[] }): number {
  const { code, start } = params;
  const quote = code[start]!;
  const triple = code.startsWith(quote.repeat(3), start);
  const close = triple ? quote.repeat(3) : quote;
  let i = start + close.length;
  const body: string[] = [];
  while (i < code.length) {
    if (code[i] === "\\") {
      // Even in a raw string a backslash keeps the next quote from closing it.
      body.push(code.slice(i, i + 2));
      i += 2;
      continue;
    }
    if (code.startsWith(close, i)) return (params.digits.push(body.join("").replace(/[^0-9]/g, "")), i + close.length);
    if (!triple && code[i] === "\n") break;
    body.push(code[i]!);
    i++;
  }
  params.digits.push(body.join("").replace(/[^0-9]/g, ""));
  return i;
}
