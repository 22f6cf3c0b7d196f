"""arcforge sandbox runner: a fork server for untrusted `transform(grid)` programs.

Protocol (newline-delimited JSON, never pickle):
  stdin  <- {"id": str, "code": str, "inputs": [grid, ...]}   one request per line
  fd 3   -> {"hello": {...}}                                    once, after start-up
  fd 3   -> {"id": str, "i": int, "status": ..., ...}           one line per input, in order
  fd 3   -> {"id": str, "done": true, "ms": float}              after the last input
(with --results-stdout the results go to the process's original stdout instead of fd 3: Docker
attaches only stdin, stdout and stderr; fd 1 itself is then pointed at /dev/null)

A program runs in a forked child (child.py) that reports on a private pipe. The child shares
its process with the program, so the server trusts nothing it says beyond its shape: exactly
one answer per input, in order, each line under MAX_LINE bytes, every grid checked again with
the server's own copy of the grid rule. Anything extra or malformed makes the program a crash.

Self-contained on purpose: this folder also runs inside the Docker image, beside numpy only.
"""

import gc
import json
import os
import resource
import select
import signal
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # seccomp forbids threads; numpy must not try to start any

import numpy as np  # noqa: E402  (imported once here, shared by every forked child)

from child import message, run_child, write_all  # noqa: E402
from grid_rule import normalise  # noqa: E402
from isolation import compile_filter, export_pfc, filter_loader, landlock  # noqa: E402

# Cheap modules programs use, imported once so children share them. Heavy ones (scipy) are not:
# a bigger server makes every fork dearer; their import time is kept off the clock instead.
PRELOAD = ("collections", "copy", "itertools", "math", "functools", "heapq", "typing", "re")
PRELOADED = []
for _module in PRELOAD:
    try:
        __import__(_module)
        PRELOADED.append(_module)
    except ImportError:
        pass

RUNNER_VERSION = 2
# A 30x30 grid is ~2.7 KB of JSON and messages are cut at 500 characters: a longer line is a lie.
MAX_LINE = 64 * 1024
# A child stopped by the wall clock with less CPU time than the limit is tried again this often
# before the verdict is a wall-clock timeout: a busy machine must not decide verdicts.
WALL_RETRIES = 2
STATUS_FIELDS = {
    "ok": ("grid",),
    "error": ("message",),
    "timeout": ("reason",),
    "memory": (),
    "crash": ("message",),
    "invalid_output": ("reason",),
}
TIMEOUT_REASONS = ("cpu", "wall_clock")
GRID_REASONS = ("not_2d", "empty", "ragged", "bool", "float", "not_int", "out_of_range", "too_large")
RLIMITS = sorted(getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_"))


class Violation(Exception):
    """The child said something a correct child never says."""


def check_outcome(raw, index):
    """The outcome a child line may stand for, re-checked; Violation when it cannot stand."""
    try:
        outcome = json.loads(raw)
    except Exception as exc:  # also RecursionError from deeply nested JSON
        raise Violation("a line that is not JSON (%s)" % type(exc).__name__)
    if type(outcome) is not dict or outcome.get("i") != index:
        raise Violation("an answer for input %r where input %d was next" % (outcome.get("i") if type(outcome) is dict else None, index))
    status = outcome.get("status")
    if status not in STATUS_FIELDS:
        raise Violation("an unknown status for input %d" % index)
    clean = {"status": status, "i": index}
    for field in ("ms", "cpu"):
        value = outcome.get(field)
        clean[field] = float(value) if type(value) in (int, float) and 0 <= value < 1e9 else 0.0
    if status in ("error", "crash"):
        clean["message"] = str(outcome.get("message", ""))[:500]
    elif status == "timeout":
        clean["reason"] = outcome.get("reason") if outcome.get("reason") in TIMEOUT_REASONS else "cpu"
    elif status == "invalid_output":
        if outcome.get("reason") not in GRID_REASONS:
            raise Violation("an unknown invalid_output reason for input %d" % index)
        clean["reason"] = outcome["reason"]
    elif status == "ok":
        grid, reason = normalise(outcome.get("grid"))
        if reason is None:
            clean["grid"] = grid
        else:
            clean = {"status": "invalid_output", "reason": reason, "i": index, "ms": clean["ms"], "cpu": clean["cpu"]}
    return clean


def run_program(request, limits):
    """Exactly one outcome per input, in input order."""
    code, inputs = request["code"], request["inputs"]
    results = {}
    pending = list(range(len(inputs)))
    wall_kills = {}
    hard = limits["timeout"] * 2 + 0.5  # wall-clock backstop; the CPU-time timer decides first
    try:
        while pending:
            assert_limits(limits)
            done, stuck = _run_child(code, inputs, pending, limits, hard)
            for outcome in done:
                results[outcome["i"]] = outcome
                pending.remove(outcome["i"])
            if stuck is None:
                continue
            index, verdict = stuck
            if verdict is None:  # stopped by the wall clock with CPU time to spare: try again
                wall_kills[index] = wall_kills.get(index, 0) + 1
                if wall_kills[index] <= WALL_RETRIES:
                    continue
                verdict = {"status": "timeout", "reason": "wall_clock", "ms": hard * 1000}
            results[index] = dict(verdict, i=index)
            pending.remove(index)
    except Violation as violation:
        text = "the program broke the sandbox protocol: it sent " + str(violation)
        return [{"status": "crash", "message": text[:500], "i": i, "ms": 0} for i in range(len(inputs))]
    return [results[i] for i in range(len(inputs))]


def _run_child(code, inputs, pending, limits, hard):
    """One child over the pending inputs: the outcomes it gave, and the input it stopped at with
    its verdict (None when the wall clock stopped a child that had CPU time to spare)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        run_child(code, [inputs[i] for i in pending], list(pending), write_fd, limits)
    os.close(write_fd)
    done, buffer, ready, eof, fatal = [], b"", False, False, None
    deadline = time.monotonic() + hard
    try:
        # Read until the child is gone, not just until the last answer: a line after it is a forgery.
        while not eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_fd], [], [], remaining)[0]:
                break
            chunk = os.read(read_fd, 1 << 16)
            eof = not chunk
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if not ready:
                    ready, fatal = _first_line(line)
                    if fatal is not None:
                        raise RuntimeError("sandbox set-up failed in the child: " + fatal)
                    continue
                if len(done) == len(pending):
                    raise Violation("an answer after the last input")
                done.append(check_outcome(line, pending[len(done)]))
                deadline = time.monotonic() + hard
            if len(buffer) > MAX_LINE:
                raise Violation("a result line longer than %d bytes" % MAX_LINE)
        if eof and buffer:
            raise Violation("an unterminated line")
    finally:
        _kill_group(pid)
        os.close(read_fd)
        _, status, usage = os.wait4(pid, 0)
    if len(done) == len(pending):
        return done, None
    index = pending[len(done)]
    if not eof:
        cpu = usage.ru_utime + usage.ru_stime - sum(o["cpu"] for o in done) / 1000
        if cpu < limits["timeout"]:
            return done, (index, None)
        return done, (index, {"status": "timeout", "reason": "cpu", "ms": hard * 1000})
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        return done, (index, {"status": "timeout", "reason": "cpu", "ms": 0})
    return done, (index, {"status": "crash", "message": _describe_exit(status), "ms": 0})


def _first_line(line):
    try:
        first = json.loads(line)
    except ValueError:
        raise Violation("a line before the sandbox was ready")
    if first == {"ready": True}:
        return True, None
    if type(first) is dict and type(first.get("fatal")) is str:
        return False, first["fatal"]
    raise Violation("a line before the sandbox was ready")


def assert_limits(limits):
    """The server's own limits are what they were at start-up: no program may have changed them
    for the programs after it (seccomp should make this impossible; this makes it certain)."""
    for resource_id, expected in limits["own_rlimits"].items():
        if resource.getrlimit(resource_id) != expected:
            try:
                resource.setrlimit(resource_id, expected)
            except (OSError, ValueError) as exc:
                raise RuntimeError("the fork server's rlimit %d was changed and cannot be restored: %s" % (resource_id, exc))


def _kill_group(pid):
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _describe_exit(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return "killed by " + signal.Signals(sig).name
        except ValueError:
            return "killed by signal %d" % sig
    return "process exited with code %d before returning" % os.WEXITSTATUS(status)


def runtime_paths():
    """Everything a program may read: the Python runtime, its packages and shared libraries."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(np.__file__))}
    paths.update(p for p in sys.path if p)
    paths.update(("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache"))
    return sorted(p for p in paths if os.path.exists(p))


def parse_args(args):
    limits = {"timeout": 1.0, "memory": 1 << 30, "seccomp": True, "landlock": True, "seed": 0}
    while args:
        flag = args.pop(0)
        if flag == "--timeout":
            limits["timeout"] = float(args.pop(0))
        elif flag == "--memory":
            limits["memory"] = int(args.pop(0))
        elif flag == "--seed":
            limits["seed"] = int(args.pop(0))
        elif flag == "--no-seccomp":
            limits["seccomp"] = False
        elif flag == "--no-landlock":
            limits["landlock"] = False
        elif flag == "--results-stdout":
            limits["results_stdout"] = True
        elif flag == "--export-seccomp-pfc":
            sys.stdout.write(export_pfc())
            raise SystemExit(0)
        else:
            raise SystemExit("runner.py: unknown option " + flag)
    return limits


def main():
    limits = parse_args(sys.argv[1:])
    out = os.fdopen(os.dup(1) if limits.get("results_stdout") else 3, "wb", buffering=0)
    limits["devnull"] = os.open(os.devnull, os.O_RDWR)  # opened before Landlock hides /dev
    os.dup2(limits["devnull"], 1)
    with open("/proc/self/statm") as statm:
        limits["base_vm"] = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    bpf, rules = compile_filter() if limits["seccomp"] else (None, 0)
    limits["load_filter"] = filter_loader(bpf) if bpf is not None else None
    abi = landlock(runtime_paths()) if limits["landlock"] else 0
    limits["own_rlimits"] = {r: resource.getrlimit(r) for r in RLIMITS}
    layers = {"landlock_abi": abi, "seccomp": rules > 0, "seccomp_rules": rules, "seccomp_mode": "allowlist", "uid": os.getuid(), "rlimits": True}
    hello = {"hello": {"runner": RUNNER_VERSION, "python": sys.version.split()[0], "numpy": np.__version__, "layers": layers, "preloaded": PRELOADED, "seed": limits["seed"]}}

    def emit(msg):
        write_all(out.fileno(), (json.dumps(msg) + "\n").encode())

    emit(hello)
    # numpy is seeded here, not in the child (its seeding costs ~18 ms a fork): every child
    # starts from the same state, so the same program on the same inputs gives the same outputs.
    np.random.seed(limits["seed"])
    gc.freeze()  # keep the forked children from copying pages just to update GC headers
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        started = time.perf_counter()
        request = json.loads(raw)
        try:
            outcomes = run_program(request, limits)
        except BaseException as exc:
            emit({"id": request.get("id"), "fatal": message(exc)})
            raise SystemExit(70)
        out_lines = [json.dumps(dict(o, id=request["id"])) for o in outcomes]
        out_lines.append(json.dumps({"id": request["id"], "done": True, "ms": round((time.perf_counter() - started) * 1000, 3)}))
        write_all(out.fileno(), ("\n".join(out_lines) + "\n").encode())


if __name__ == "__main__":
    main()
