import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where the Hub's own clients keep a saved token, in their order: HF_TOKEN_PATH, then $HF_HOME/token. */
export function tokenFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "huggingface");
  return [...(env.HF_TOKEN_PATH ? [env.HF_TOKEN_PATH] : []), join(home, "token")];
}

/**
 * The token as the Hub's clients find it: --token, then HF_TOKEN, then the file `huggingface-cli
 * login` saved (HF_TOKEN_PATH, else $HF_HOME/token), trimmed. Says where it came from, never what it is.
 */
export function resolveToken(options: { token?: string }, env: NodeJS.ProcessEnv = process.env): { token: string; source: string } | undefined {
  if (options.token) return { token: options.token, source: "--token" };
  if (env.HF_TOKEN?.trim()) return { token: env.HF_TOKEN.trim(), source: "HF_TOKEN" };
  for (const file of tokenFiles(env)) {
    const token = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
    if (token) return { token, source: file };
  }
  return undefined;
}
