"""Reads programs (a JSON list) on stdin; prints a JSON list of the ones where clean_code's scan
and Python's tokenizer disagree on comments or on the lines inside multi-line strings."""

import importlib.util
import io
import json
import sys
import tokenize

spec = importlib.util.spec_from_file_location("clean_code", sys.argv[1])
clean_code = importlib.util.module_from_spec(spec)
spec.loader.exec_module(clean_code)


def by_tokenize(source):
    comments, protected = [], set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments.append((tok.start[0], tok.start[1], tok.end[0], tok.end[1], ""))
        elif tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
            protected.update(range(tok.start[0] + 1, tok.end[0] + 1))
    return comments, protected


disagree = [p for p in json.load(sys.stdin) if clean_code._comments_and_protected(p) != by_tokenize(p)]
print(json.dumps(disagree))
