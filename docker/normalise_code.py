"""Token sequences of Python programs with their own names erased, for structural near-duplicates.

Reads {"id", "code"} lines on stdin, writes {"id", "tokens"} lines (or {"id", "error"}) on stdout.
The program is parsed with ast; each run of import statements is sorted; the names it defines (local variables, arguments, functions and
classes it defines, import aliases) are renamed v0, v1, ... in order of first appearance; module
names, attributes, builtins and literals are kept. The tree is unparsed and tokenised with Python's
tokenizer, comments and layout tokens dropped. Only ast and tokenize touch the code: nothing here
executes it.
"""

import ast
import io
import json
import sys
import tokenize

NORMALISER_VERSION = 1

_LAYOUT = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}


def _defined(tree):
    """Every name the program binds itself; a name it only reads (a builtin, a module) is not here."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


class _Renamer(ast.NodeVisitor):
    """Renames defined names in visiting order (fields in source order), so the first seen is v0."""

    def __init__(self, defined):
        self.defined = defined
        self.mapping = {}

    def rename(self, name):
        if name not in self.defined:
            return name
        if name not in self.mapping:
            self.mapping[name] = "v%d" % len(self.mapping)
        return self.mapping[name]

    def visit_Name(self, node):
        node.id = self.rename(node.id)

    def visit_arg(self, node):
        node.arg = self.rename(node.arg)
        self.generic_visit(node)

    def visit_alias(self, node):
        if node.asname:
            node.asname = self.rename(node.asname)

    def visit_ExceptHandler(self, node):
        if node.name:
            node.name = self.rename(node.name)
        self.generic_visit(node)

    def _visit_def(self, node):
        node.name = self.rename(node.name)
        self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_def

    def visit_Global(self, node):
        node.names = [self.rename(n) for n in node.names]

    visit_Nonlocal = visit_Global


def _import_key(node):
    """What an import brings in, without the name it binds: the order of imports is no difference."""
    module = ("." * node.level + (node.module or "")) if isinstance(node, ast.ImportFrom) else ""
    return (module, [alias.name for alias in node.names])


def _sort_imports(tree):
    """Sorts each run of consecutive import statements in every statement list, before renaming."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            out, run = [], []
            for stmt in body + [None]:
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    run.append(stmt)
                    continue
                out.extend(sorted(run, key=_import_key))
                run = []
                if stmt is not None:
                    out.append(stmt)
            setattr(node, field, out)


def normalise(source):
    tree = ast.parse(source)
    _sort_imports(tree)
    _Renamer(_defined(tree)).visit(tree)
    text = ast.unparse(tree)
    return [tok.string for tok in tokenize.generate_tokens(io.StringIO(text).readline) if tok.type not in _LAYOUT]


def main():
    for raw in sys.stdin:
        if not raw.strip():
            continue
        request = json.loads(raw)
        try:
            answer = {"tokens": normalise(request["code"])}
        except BaseException as exc:  # SyntaxError, RecursionError, MemoryError on hostile input
            answer = {"error": ("%s: %s" % (type(exc).__name__, exc))[:300]}
        answer["id"] = request["id"]
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
