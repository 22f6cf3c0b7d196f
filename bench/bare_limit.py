"""The physical limit of a cold build, for bench:limit: the same programs executed bare.

usage: bare_limit.py JOBS.jsonl TIMEOUT_SECONDS WORKERS
  JOBS.jsonl: {"id": str, "code": str, "train": [grid, ...], "test": [grid, ...]} per line
  -> {"seconds": s, "programs": n, "passed": n, "executions": n, "revalidations": n}

Persistent in-process workers (one per core), no isolation: each program is exec'd in a fresh
namespace, run on its train inputs then its test inputs under a per-input CPU limit, stopping at
its first failure (an error, a timeout or an output that is not a grid); a program that passes
runs a second time (the re-validation). Never used to build anything; only measured against.
"""

import json
import multiprocessing
import signal
import sys
import time

import numpy as np

TIMEOUT = float(sys.argv[2])


class CpuLimit(BaseException):
    pass


def on_limit(signum, frame):
    raise CpuLimit()


def is_grid(value):
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 30:
        return False
    width = None
    for row in value:
        if not isinstance(row, (list, tuple)) or not 1 <= len(row) <= 30 or (width is not None and len(row) != width):
            return False
        width = len(row)
        for cell in row:
            if isinstance(cell, bool) or not isinstance(cell, (int, np.integer)) or not 0 <= cell <= 9:
                return False
    return True


def limited(call):
    signal.setitimer(signal.ITIMER_PROF, TIMEOUT)
    try:
        return call()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def run_once(code, inputs):
    """Executions made, and whether every input gave a grid."""
    namespace = {"__name__": "arc_program"}
    try:
        limited(lambda: exec(compile(code, "<program>", "exec"), namespace))
    except BaseException:
        return 0, False
    transform = namespace.get("transform")
    if not callable(transform):
        return 0, False
    done = 0
    for grid in inputs:
        done += 1
        try:
            if not is_grid(limited(lambda: transform([list(row) for row in grid]))):
                return done, False
        except BaseException:
            return done, False
    return done, True


def job(line):
    request = json.loads(line)
    inputs = request["train"] + request["test"]
    executions, passed = run_once(request["code"], inputs)
    again = run_once(request["code"], inputs)[0] if passed else 0
    return executions, passed, again


def init():
    signal.signal(signal.SIGPROF, on_limit)


def main():
    with open(sys.argv[1]) as f:
        lines = f.readlines()
    started = time.perf_counter()
    with multiprocessing.Pool(int(sys.argv[3]), initializer=init) as pool:
        results = list(pool.imap_unordered(job, lines, chunksize=4))
    seconds = time.perf_counter() - started
    print(json.dumps({
        "seconds": seconds,
        "programs": len(lines),
        "passed": sum(1 for _, passed, _ in results if passed),
        "executions": sum(e for e, _, _ in results),
        "revalidations": sum(a for _, _, a in results),
    }))


if __name__ == "__main__":
    main()
