/** The last ```python block that defines transform(...), or null. Models often draft, then correct. */
export function extractCode(text: string): string | null {
  const blocks = [...text.matchAll(/```(?:python|py|python3)?[ \t]*\n([\s\S]*?)```/gi)].map((m) => m[1]!);
  for (let i = blocks.length - 1; i >= 0; i--) {
    if (/^\s*def\s+transform\s*\(/m.test(blocks[i]!)) return `${blocks[i]!.trimEnd()}\n`;
  }
  return null;
}
