"""Strip comments, docstrings and blank lines from Python programs, with Python's own parser.

Reads {"id", "code"} lines on stdin, writes {"id", "code", "status"} lines on stdout, where
status is "cleaned", "unchanged", "unparsable" (the original is not valid Python) or "failed"
(the cleaned code no longer compiles); in the last two "code" is the original and "error" says why.
Only ast.parse, a regular expression and compile touch the code: nothing here executes it.
"""

import ast
import json
import re
import sys

CLEANER_VERSION = 1


_SCOPES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BLOCKS = (ast.stmt, ast.excepthandler, ast.match_case)


def _docstrings(tree):
    """(start, end, only statement) of every docstring: first string statement of a body.

    Definitions only ever stand in statement lists, so the walk follows statements (and except
    and case clauses) and never enters expressions: ast.walk visited every node and cost most of
    the cleaning time.
    """
    found = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            body = node.body
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.append(((first.lineno, first.col_offset), (first.end_lineno, first.end_col_offset), len(body) == 1))
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                stack.extend(child for child in value if isinstance(child, _BLOCKS))
    return found


def _char_col(line, byte_col):
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


# In code that parses, a comment or string starts at the first '#' or quote outside any other,
# and a string ends where the tokenizer ends it (a backslash escapes the next character, in raw
# strings too): one regular-expression pass finds the comments and multi-line strings tokenize
# finds (checked on 4,790 real programs), in a tenth of the time of Python's pure-Python tokenizer.
# Lines are split at "\n", as tokenize reads them.
_STRINGS_AND_COMMENTS = re.compile(
    r"#[^\r\n]*"
    r'|"""(?:\\[\s\S]|[^\\])*?"""'
    r"|'''(?:\\[\s\S]|[^\\])*?'''"
    r'|"(?:\\[\s\S]|[^"\\\r\n])*"'
    r"|'(?:\\[\s\S]|[^'\\\r\n])*'"
)


def _comments_and_protected(source):
    """Comments as (line, col, end line, end col), and the lines inside multi-line strings; 1-based lines, char cols."""
    starts = [0]
    position = source.find("\n")
    while position != -1:
        starts.append(position + 1)
        position = source.find("\n", position + 1)
    comments, protected = [], set()
    line = 1
    for match in _STRINGS_AND_COMMENTS.finditer(source):
        start, end = match.span()
        while line < len(starts) and starts[line] <= start:
            line += 1
        if source[start] == "#":
            col = start - starts[line - 1]
            comments.append((line, col, line, col + end - start, ""))
            continue
        end_line = line
        while end_line < len(starts) and starts[end_line] < end:
            end_line += 1
        protected.update(range(line + 1, end_line + 1))
    return comments, protected


def clean(source, tree):
    lines = source.splitlines(keepends=True)
    removals = []  # (start line, start col, end line, end col, replacement), 1-based lines, char cols
    for (sl, sc), (el, ec), only in _docstrings(tree):
        removals.append((sl, _char_col(lines[sl - 1], sc), el, _char_col(lines[el - 1], ec), "pass" if only else ""))
    # protected: lines inside multi-line strings, whose blank lines are part of a value
    comments, protected = _comments_and_protected(source)
    removals.extend(comments)
    for sl, sc, el, ec, replacement in sorted(removals, reverse=True):
        head = lines[sl - 1][:sc]
        tail = lines[el - 1][ec:]
        lines[sl - 1 : el] = [head + replacement + tail] + [""] * (el - sl)
        protected.difference_update(range(sl + 1, el + 1))
    kept = []
    for number, line in enumerate(lines, start=1):
        if number in protected:
            kept.append(line)
        elif line.strip():
            kept.append(line.rstrip() + "\n")
    cleaned = "".join(kept).rstrip("\n") + "\n"
    compile(cleaned, "<cleaned>", "exec")
    return cleaned


def _describe(exc):
    return ("%s: %s" % (type(exc).__name__, exc))[:300]


def main():
    for raw in sys.stdin:
        if not raw.strip():
            continue
        request = json.loads(raw)
        code = request["code"]
        try:
            tree = ast.parse(code)
        except BaseException as exc:  # SyntaxError, RecursionError, MemoryError on hostile input
            answer = {"code": code, "status": "unparsable", "error": _describe(exc)}
        else:
            try:
                cleaned = clean(code, tree)
                answer = {"code": cleaned, "status": "unchanged" if cleaned == code else "cleaned"}
            except BaseException as exc:
                answer = {"code": code, "status": "failed", "error": _describe(exc)}
        answer["id"] = request["id"]
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
