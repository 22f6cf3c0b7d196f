import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLEANER_PATH, cleanPrograms } from "../../pipeline/cleaner/cleaner-pool.js";
import { writeDemoData } from "../../pipeline/orchestrator/demo-data.js";
import { tempDir } from "../support/stage-harness.js";

async function clean(code: string) {
  return (await cleanPrograms({ programs: [{ id: "p", code }] })).get("p")!;
}

/** Programs on which a scan for strings and comments could go wrong. */
const TRICKY = [
  'x = "a#b"  # c\n',
  "s = '''\n\n# not\n'''\n",
  's = r"\\"#"  # real\n',
  'x = f"{a!r}#"  # c\n',
  'x = "abc\\\n#def"\n# z\n',
  "a = 1 \\\n  + 2 # t\n",
  "b = b'#' # x\r\n\r\n",
  'x = """a\\""""\n',
  "u = '\\\\'  # q\n",
  'print("é#", 1)  # ü\n',
  "x=1\x0c\n# ff\ny=2\n",
  's="""\n#x\n\n"""#c\n',
  "t = ('''a''' '#' \"\"\"\n\"\"\")  # end\n",
  "def f():\n    '''doc # not'''\n    return 1  # one\n",
];

describe("clean-code", () => {
  it("finds the comments and multi-line strings Python's tokenizer finds, on tricky and demo programs", async () => {
    const logs = (await writeDemoData(join(await tempDir(), "demo"))).logs;
    const demo = readdirSync(logs, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".json"))
      .flatMap((e) =>
        [...readFileSync(join(e.parentPath, e.name), "utf8").matchAll(/"program":\s*("(?:\\.|[^"\\])*")/g)].map((m) => JSON.parse(m[1]!) as string),
      );
    expect(demo.length).toBeGreaterThan(5);
    const disagree = execFileSync("python3", [join(process.cwd(), "tests", "support", "scan_vs_tokenize.py"), CLEANER_PATH], {
      input: JSON.stringify([...TRICKY, ...demo]),
      encoding: "utf8",
    });
    expect(JSON.parse(disagree)).toEqual([]);
  });

  it("strips comments, docstrings and blank lines with Python's tokenizer", async () => {
    const code =
      'import numpy as np  # arrays\n\n\ndef transform(grid):\n    """Mirror.\n\n    Details."""\n    # a comment line\n\n    return grid[::-1]  # flip\n';
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
