/**
 * The one line a failed command prints; with `--debug` (or ARCFORGE_DEBUG=1) the stack follows,
 * then each cause's, so a StageError shows where inside the stage it began.
 */
export function formatCliError(error: unknown, debug: boolean): string {
  const e = error instanceof Error ? error : new Error(String(error));
  const line = `arcforge: ${e.name === "Error" ? "" : `${e.name}: `}${e.message}\n`;
  if (!debug) return line;
  const stacks: string[] = [];
  for (let at: unknown = e; at instanceof Error; at = at.cause) stacks.push(stacks.length ? `caused by ${at.stack ?? at.message}` : (at.stack ?? at.message));
  return `${line}${stacks.join("\n")}\n`;
}

export const debugRequested = (argv: string[], env: NodeJS.ProcessEnv): boolean => argv.includes("--debug") || env.ARCFORGE_DEBUG === "1";
