"""Runs programs again, plainly and apart from arcforge's sandbox and cache, to check stored outputs.

stdin: JSON lines {"code": str, "inputs": [grid, ...]}; stdout: JSON lines [grid or null, ...].
"""
import copy
import json
import sys

import numpy as np

for line in sys.stdin:
    job = json.loads(line)
    namespace = {"__name__": "program"}
    outputs = []
    try:
        exec(compile(job["code"], "<program>", "exec"), namespace)
        for grid in job["inputs"]:
            np.random.seed(0)
            result = namespace["transform"](copy.deepcopy(grid))
            if isinstance(result, np.ndarray):
                result = result.tolist()
            outputs.append([[int(c) for c in row] for row in result])
    except Exception:
        outputs.append(None)
    print(json.dumps(outputs), flush=True)
