"""The physical limit for bench:sandbox: a persistent worker that exec's each program in a fresh
dict in its own process. No fork, no isolation, no limits, no timeout; state can leak between
programs. Never used to build anything; only measured against.

stdin  <- {"id": str, "code": str, "inputs": [grid, ...]}
stdout -> {"id": str, "n": int}   once the program has run on every input
"""

import json
import sys

import numpy as np


def main():
    out = sys.stdout
    for raw in sys.stdin:
        request = json.loads(raw)
        namespace = {"__name__": "arc_program"}
        try:
            exec(compile(request["code"], "<program>", "exec"), namespace)
        except BaseException:
            pass
        transform = namespace.get("transform")
        for grid in request["inputs"]:
            try:
                result = transform(grid)
                if isinstance(result, np.ndarray):
                    result = result.tolist()
                json.dumps(result)
            except BaseException:
                pass
        out.write(json.dumps({"id": request["id"], "n": len(request["inputs"])}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
