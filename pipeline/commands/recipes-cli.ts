import type { Command } from "commander";
import { builtinRecipes } from "../recipe/builtin-recipes.js";

/** `arcforge recipes`: the built-in recipes, each with its rules in one line. */
export function registerRecipesCommand(program: Command): void {
  program
    .command("recipes")
    .description("list the built-in dataset recipes (SQL over the program table; use with build --recipe <name>)")
    .action(() => {
      const recipes = builtinRecipes();
      const width = Math.max(...recipes.map((r) => r.name.length));
      for (const r of recipes) process.stdout.write(`${r.name.padEnd(width)}  ${r.rules}\n`);
      process.stdout.write(
        "\nA recipe is one SELECT over the views programs and tasks returning row_id (and optionally rank); see the README's Recipes section.\n",
      );
    });
}
