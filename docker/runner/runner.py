"""arcforge sandbox runner: a fork server for untrusted `transform(grid)` programs.

Protocol (newline-delimited JSON, never pickle):
  stdin  <- {"id": str, "code": str, "inputs": [grid, ...], "stop"?: n}   one request per line
            (a failure on one of the first n inputs ends the program: the rest answer "skipped")
  fd 3   -> {"hello": {...}}                                    once, after start-up
  fd 3   -> {"id": str, "i": int, "status": ..., ...}           one line per input, in order
  fd 3   -> {"id": str, "done": true, "ms": float}              after the last input
  fd 3   -> {"beat": n}                                         every second while a program runs
(with --results-stdout the results go to the process's original stdout instead of fd 3: Docker
attaches only stdin, stdout and stderr; fd 1 itself is then pointed at /dev/null)

A program runs in a child (child.py) forked by one of two zygotes (zygote.py: one without numpy,
one with it), which never see job data; the child reads its job from its own pipe and reports on
another to this server. The child shares its process with the program, so the server trusts
nothing it says beyond its shape: exactly one answer per input, in order, each line under
MAX_LINE bytes, every grid checked again with the server's own copy of the grid rule. Anything
extra or malformed makes the program a crash.

Time: the child's CPU limit is its own (a CPU-time timer, RLIMIT_CPU). This server watches each
child's clock in /proc/<pid>/schedstat: time on a CPU, time runnable but waiting for one, and the
rest, off the CPU and not runnable (sleeping, blocked). A child starved by a busy machine is never
stopped; one that sleeps past the backstop is a timeout with reason "sleep" at once.

The import path is fixed: this folder, the interpreter's standard library and the folders given
with --path (its site-packages, numpy), never PYTHONPATH, the working folder or a .pth's folder.
Run it as `python -s -S runner.py --seed N --path ...` with PYTHONHASHSEED=N and no other PYTHON*
variable: not -I or -E, which would ignore PYTHONHASHSEED and hash strings under a random key in each
worker, so a program iterating a set of strings would answer differently by worker.

Self-contained on purpose: this folder also runs inside the Docker image, beside numpy only.
"""

import os
import sys


def _refuse_foreign_environment(argv, environ):
    """Fails closed unless string hashing is keyed by --seed and Python read no other variable of ours."""
    seed = argv[argv.index("--seed") + 1] if "--seed" in argv else "0"
    if sys.flags.ignore_environment:
        raise SystemExit("runner.py: started with -I or -E, which ignore PYTHONHASHSEED; start it with -s -S")
    if environ.get("PYTHONHASHSEED") != seed:
        raise SystemExit(f"runner.py: PYTHONHASHSEED must equal --seed ({seed}), found {environ.get('PYTHONHASHSEED')!r}")
    read = sorted(k for k in environ if k[:6] == "PYTHON" and k[6:7].isalpha() and k not in ("PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE"))
    if read:
        raise SystemExit("runner.py: refusing Python variables from the caller's environment: " + ", ".join(read))


def _fixed_import_path(argv):
    """This folder, then the standard library (all -s -S leaves), then each --path folder."""
    extra = []
    if "--path" in argv:
        extra = [p for p in argv[argv.index("--path") + 1].split(os.pathsep) if p and os.path.isabs(p)]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [here] + [p for p in sys.path if p and os.path.isabs(p) and p != here] + extra


_refuse_foreign_environment(sys.argv, os.environ)
_fixed_import_path(sys.argv)
# Never bytecode beside the runner, whoever starts it: a zygote holding modules loaded from .pyc
# files gave its children ~100 more pages to fault each (measured: 507 against 402).
sys.dont_write_bytecode = True

import gc  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import socket as socket_module  # noqa: E402
import time  # noqa: E402

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # seccomp forbids threads; numpy must not try to start any

from child import message, write_all  # noqa: E402
from grid_rule import normalise  # noqa: E402
from isolation import compile_filter, export_pfc, filter_loader, landlock_ruleset, restrict  # noqa: E402
from zygote import start_zygote  # noqa: E402

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

RUNNER_VERSION = 4
# A 30x30 grid is ~2.7 KB of JSON and messages are cut at 500 characters: a longer line is a lie.
MAX_LINE = 64 * 1024
# Without schedstat (a kernel that does not keep it) a child stopped by the wall clock with less
# CPU time than the limit is tried again this often before the verdict is a wall-clock timeout.
WALL_RETRIES = 2
# How often a running child's clock is read, and how often the server says it is alive.
POLL_SECONDS = 0.02
BEAT_SECONDS = 1.0
STATUS_FIELDS = {
    "ok": ("grid",),
    "error": ("message",),
    "timeout": ("reason",),
    "memory": (),
    "crash": ("message",),
    "invalid_output": ("reason",),
}
TIMEOUT_REASONS = ("cpu", "wall_clock", "sleep")
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


class Zygote:
    """The fork server's side of the zygote: spawns children, hears how each one ended."""

    def __init__(self, limits, others=()):
        self.control, self.pid = start_zygote(limits, [other.control for other in others])
        self.exits = {}
        self.forgotten = set()

    def spawn(self, job_fd, result_fd):
        socket_module.send_fds(self.control, [b"spawn"], [job_fd, result_fd])
        os.close(job_fd)
        os.close(result_fd)
        while True:
            reply = self._receive(None)
            if "pid" in reply:
                return reply["pid"]

    def wait(self, pid):
        """(status, CPU seconds) of a child that was killed or has exited."""
        while pid not in self.exits:
            self._receive(10.0)
        return self.exits.pop(pid)

    def forget(self, pid):
        """A child whose every answer came: how it ended decides nothing, so it is not waited for."""
        if self.exits.pop(pid, None) is None:
            self.forgotten.add(pid)

    def _receive(self, timeout):
        if not select.select([self.control], [], [], timeout)[0]:
            raise RuntimeError("the zygote did not answer")
        data = self.control.recv(4096)
        if not data:
            raise RuntimeError("the zygote is gone")
        reply = json.loads(data)
        if "exit" in reply:
            if reply["exit"] in self.forgotten:
                self.forgotten.discard(reply["exit"])
            else:
                self.exits[reply["exit"]] = (reply["status"], reply["cpu"])
        return reply


class ChildClock:
    """A child's time since its current input began: on a CPU, runnable but waiting, and the rest."""

    def __init__(self, pid, hard):
        # Opened once and read again from offset 0: a reading costs one syscall, and once the child
        # is gone it fails instead of reading whichever process took its pid.
        try:
            self.fd = os.open("/proc/%d/schedstat" % pid, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.fd = -1
        self.hard = hard
        self.started = time.monotonic()
        first = self._read()
        self.available = first is not None
        self.base = first or (0.0, 0.0)

    def _read(self):
        if self.fd < 0:
            return None
        try:
            on_cpu, waiting = os.pread(self.fd, 128, 0).split()[:2]
            return int(on_cpu) / 1e9, int(waiting) / 1e9
        except (OSError, ValueError):
            return None

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def mark(self):
        self.started = time.monotonic()
        self.base = self._read() or (0.0, 0.0)

    def verdict(self):
        """None while the child may go on; "cpu", "sleep", or (without schedstat) "wall"."""
        wall = time.monotonic() - self.started
        if not self.available:
            return "wall" if wall > self.hard else None
        now = self._read()
        if now is None:
            return None  # gone: its exit decides
        on_cpu, waiting = now[0] - self.base[0], now[1] - self.base[1]
        if on_cpu > self.hard:
            return "cpu"
        if wall - on_cpu - waiting > self.hard:
            return "sleep"
        return None


def needs_numpy(code):
    """Whether a program runs in the zygote with numpy: it names numpy, or scipy, which imports it.
    Either zygote gives the same outputs (zygote.py); this only spares the others numpy's pages."""
    return "numpy" in code or "scipy" in code


def _decides(outcome, stop):
    """A failure on one of the first `stop` inputs: nothing after it can change the program's fate."""
    return outcome["i"] < stop and outcome["status"] != "ok"


def run_program(request, limits, zygote, beat):
    """Exactly one outcome per input, in input order. A failure on one of the first `stop` inputs
    decides the program: the inputs after it are not run and come back `skipped`."""
    code, inputs = request["code"], request["inputs"]
    stop = request.get("stop", 0)
    stop = stop if type(stop) is int and stop > 0 else 0
    results = {}
    pending = list(range(len(inputs)))
    wall_kills = {}
    hard = limits["timeout"] * limits["backstop_factor"] + limits["backstop_seconds"]
    try:
        while pending:
            if any(_decides(o, stop) for o in results.values()):
                for i in pending:
                    results[i] = {"status": "skipped", "i": i, "ms": 0}
                break
            assert_limits(limits)
            done, stuck = _run_child(zygote, code, inputs, pending, limits, hard, beat, stop)
            for outcome in done:
                results[outcome["i"]] = outcome
                pending.remove(outcome["i"])
            if stuck is None:
                continue
            index, verdict = stuck
            if verdict is None:  # no schedstat: stopped by the wall clock with CPU time to spare
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


def _run_child(zygote, code, inputs, pending, limits, hard, beat, stop):
    """One child over the pending inputs: the outcomes it gave, and the input it stopped at with
    its verdict (None when, without schedstat, the wall clock stopped a child with CPU to spare).
    A failure on an input below `stop` ends the child there: nothing after it is needed."""
    job_r, job_w = os.pipe()
    result_r, result_w = os.pipe()
    pid = zygote.spawn(job_r, result_w)
    try:
        write_all(job_w, json.dumps({"code": code, "inputs": [inputs[i] for i in pending], "indices": list(pending), "stop": stop}).encode())
    except OSError:
        pass  # the child died before reading its job: its exit says why
    finally:
        os.close(job_w)
    done, buffer, ready, eof, fatal, stopped, decided = [], b"", False, False, None, None, False
    clock = ChildClock(pid, hard)
    try:
        # Read until the child is gone, not just until the last answer: a line after it is a forgery.
        while not eof and not decided:
            beat()
            if not select.select([result_r], [], [], POLL_SECONDS)[0]:
                stopped = clock.verdict()
                if stopped:
                    break
                continue
            chunk = os.read(result_r, 1 << 16)
            eof = not chunk
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if not ready:
                    ready, fatal = _first_line(line)
                    if fatal is not None:
                        raise RuntimeError("sandbox set-up failed in the child: " + fatal)
                    clock.mark()
                    continue
                if len(done) == len(pending):
                    raise Violation("an answer after the last input")
                done.append(check_outcome(line, pending[len(done)]))
                clock.mark()
                if _decides(done[-1], stop):
                    decided = True
                    break
            if len(buffer) > MAX_LINE:
                raise Violation("a result line longer than %d bytes" % MAX_LINE)
        if eof and buffer and not decided:
            raise Violation("an unterminated line")
    except BaseException:
        zygote.forget(pid)
        raise
    finally:
        _kill_group(pid)
        clock.close()
        os.close(result_r)
    if decided or len(done) == len(pending):
        zygote.forget(pid)
        return done, None
    status, cpu_seconds = zygote.wait(pid)
    index = pending[len(done)]
    if stopped == "sleep":
        return done, (index, {"status": "timeout", "reason": "sleep", "ms": hard * 1000})
    if stopped == "cpu":
        return done, (index, {"status": "timeout", "reason": "cpu", "ms": hard * 1000})
    if stopped == "wall":
        cpu = cpu_seconds - sum(o["cpu"] for o in done) / 1000
        return done, (index, None if cpu < limits["timeout"] else {"status": "timeout", "reason": "cpu", "ms": hard * 1000})
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


def vm_size():
    """This process's address space in bytes: a child's memory limit counts from its zygote's."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def runtime_paths():
    """Everything a program may read: the Python runtime, its packages and shared libraries."""
    numpy = importlib.util.find_spec("numpy")
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(numpy.origin))}
    paths.update(p for p in sys.path if p)
    paths.update(("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache"))
    return sorted(p for p in paths if os.path.exists(p))


def parse_args(args):
    limits = {"timeout": 1.0, "memory": 1 << 30, "seccomp": True, "landlock": True, "seed": 0, "backstop_factor": 2.0, "backstop_seconds": 0.5}
    while args:
        flag = args.pop(0)
        if flag == "--timeout":
            limits["timeout"] = float(args.pop(0))
        elif flag == "--memory":
            limits["memory"] = int(args.pop(0))
        elif flag == "--seed":
            limits["seed"] = int(args.pop(0))
        elif flag == "--backstop":
            factor, seconds = args.pop(0).split(",")
            limits["backstop_factor"], limits["backstop_seconds"] = float(factor), float(seconds)
        elif flag == "--path":
            args.pop(0)  # applied at start-up, before numpy was imported
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
    limits["results_fd"] = out.fileno()
    limits["devnull"] = os.open(os.devnull, os.O_RDWR)  # opened before Landlock hides /dev
    os.dup2(limits["devnull"], 1)
    bpf, rules = compile_filter() if limits["seccomp"] else (None, 0)
    limits["load_filter"] = filter_loader(bpf) if bpf is not None else None
    abi = 0
    if limits["landlock"]:
        # This server reads its children's clocks in /proc; each child adds a layer without it.
        own, abi = landlock_ruleset(runtime_paths() + ["/proc"])
        if own >= 0:
            limits["child_ruleset"], _ = landlock_ruleset(runtime_paths())
            limits["restrict"] = restrict
            restrict(own)
            os.close(own)
    limits["own_rlimits"] = {r: resource.getrlimit(r) for r in RLIMITS}
    layers = {"landlock_abi": abi, "seccomp": rules > 0, "seccomp_rules": rules, "seccomp_mode": "allowlist", "uid": os.getuid(), "rlimits": True, "zygote": True}
    # Both zygotes before the first request is read: their memory never holds a job. The first
    # without numpy (zygote.py says why), the second with it.
    gc.freeze()  # keep the forked children from copying pages just to update GC headers
    lean = Zygote(dict(limits, base_vm=vm_size()))
    import numpy as np

    # numpy is seeded here, not in the child (its seeding costs ~18 ms a fork): every child
    # starts from the same state, so the same program on the same inputs gives the same outputs.
    np.random.seed(limits["seed"])
    gc.freeze()
    zygotes = {False: lean, True: Zygote(dict(limits, base_vm=vm_size()), [lean])}
    hello = {"hello": {"runner": RUNNER_VERSION, "python": sys.version.split()[0], "numpy": np.__version__, "layers": layers, "preloaded": PRELOADED, "seed": limits["seed"], "path": sys.path}}

    def emit(msg):
        write_all(out.fileno(), (json.dumps(msg) + "\n").encode())

    emit(hello)
    beats = {"last": time.monotonic(), "n": 0}

    def beat():
        now = time.monotonic()
        if now - beats["last"] >= BEAT_SECONDS:
            beats["last"], beats["n"] = now, beats["n"] + 1
            emit({"beat": beats["n"]})

    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        started = time.perf_counter()
        request = json.loads(raw)
        beats["last"] = time.monotonic()
        try:
            outcomes = run_program(request, limits, zygotes[needs_numpy(request["code"])], beat)
        except BaseException as exc:
            emit({"id": request.get("id"), "fatal": message(exc)})
            raise SystemExit(70)
        out_lines = [json.dumps(dict(o, id=request["id"])) for o in outcomes]
        out_lines.append(json.dumps({"id": request["id"], "done": True, "ms": round((time.perf_counter() - started) * 1000, 3)}))
        write_all(out.fileno(), ("\n".join(out_lines) + "\n").encode())


if __name__ == "__main__":
    main()
