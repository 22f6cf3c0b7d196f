import { describe, expect, it } from "vitest";
import { cleanPrograms } from "../../pipeline/executor/clean-code-helper.js";

async function clean(code: string) {
  return (await cleanPrograms({ programs: [{ id: "p", code }] })).get("p")!;
}

describe("clean-code", () => {
  it("strips comments, docstrings and blank lines with Python's tokenizer", async () => {
    const code = 'import numpy as np  # arrays\n\n\ndef transform(grid):\n    """Mirror.\n\n    Details."""\n    # a comment line\n\n    return grid[::-1]  # flip\n';
    expect(await clean(code)).toEqual({ status: "cleaned", code: "import numpy as np\ndef transform(grid):\n    return grid[::-1]\n" });
  });

  it("keeps # inside strings and blank lines inside multi-line strings", async () => {
    const code = "def transform(grid):\n    s = '# not a comment'\n    t = '''a\n\nb'''\n    return grid\n";
    expect((await clean(code)).code).toBe(code);
  });

  it("replaces a docstring that is a body's only statement with pass, so the code still compiles", async () => {
    const result = await clean('def helper():\n    """only a docstring"""\n\ndef transform(grid):\n    return grid\n');
    expect(result.code).toBe("def helper():\n    pass\ndef transform(grid):\n    return grid\n");
  });

  it("keeps the original when the code does not parse, and says so", async () => {
    const result = await clean("def transform(grid)\n    return grid  # no colon above\n");
    expect(result.status).toBe("unparsable");
    expect(result.code).toContain("# no colon above");
    expect(result.error).toContain("SyntaxError");
  });

  it("answers every program of a batch, paired by id", async () => {
    const programs = Array.from({ length: 200 }, (_, i) => ({ id: `p${i}`, code: `def transform(g):\n    return g  # ${i}\n` }));
    const answers = await cleanPrograms({ programs });
    expect(answers.size).toBe(200);
    for (const p of programs) expect(answers.get(p.id)!.code).toBe("def transform(g):\n    return g\n");
  });
});
