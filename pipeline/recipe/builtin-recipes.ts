import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../common/errors.js";
import { packageRoot } from "../common/paths.js";
import type { Recipe } from "./run-recipe.js";

const BUILTIN_DIR = join(packageRoot(), "pipeline", "recipe", "builtin");

/** The built-in recipes: their names and the rules their leading comment states, in one line. */
export function builtinRecipes(): { name: string; rules: string }[] {
  return readdirSync(BUILTIN_DIR)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((file) => {
      const comment = readFileSync(join(BUILTIN_DIR, file), "utf8")
        .split("\n")
        .filter((l) => l.startsWith("--"))
        .map((l) => l.replace(/^--\s?/, ""))
        .join(" ");
      const name = file.replace(/\.sql$/, "");
      return { name, rules: comment.replace(new RegExp(`^${name}:\\s*`), "") };
    });
}

/** `--recipe <name | file.sql>`: a built-in by name, else a SQL file. */
export function resolveRecipe(value: string): Recipe {
  const builtin = join(BUILTIN_DIR, `${value}.sql`);
  if (/^[\w-]+$/.test(value) && existsSync(builtin)) return { name: value, sql: readFileSync(builtin, "utf8") };
  if (existsSync(value)) return { name: value, sql: readFileSync(value, "utf8") };
  throw new InputError(
    `--recipe ${value}: neither a built-in recipe (${builtinRecipes()
      .map((r) => r.name)
      .join(", ")}; see 'arcforge recipes') nor a SQL file`,
  );
}
