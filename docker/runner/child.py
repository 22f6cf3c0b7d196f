"""The child that runs one untrusted program on its inputs, under every limit.

Forked by the zygote (zygote.py), it holds two pipe ends: it reads its job ({"code", "inputs",
"indices"}) from one once the sandbox is in force, and reports on the other to the fork server:
first {"ready": true} (or {"fatal": ...} if the sandbox could not be put in force), then one
line per input, in order. The fork server trusts none of these lines beyond their shape."""

import builtins
import json
import os
import random
import resource
import signal
import sys
import time

from grid_rule import normalise

MESSAGE_CHARS = 500


class SoftTimeout(BaseException):
    """Raised by the CPU-time timer; BaseException so `except Exception` cannot catch it."""


_armed = False


def _on_prof(signum, frame):
    if _armed:
        raise SoftTimeout()


def _arm(seconds):
    global _armed
    _armed = seconds > 0
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.05 if seconds > 0 else 0)


_real_import = builtins.__import__


def _import_off_the_clock(name, *args, **kwargs):
    """Importing scipy in a fresh child costs ~0.9 s of CPU here; counting it against the time
    limit would make a verdict depend on the machine. Only installed modules can be imported
    (programs cannot write files), and the wall-clock backstop still bounds the whole run."""
    if name in sys.modules:
        return _real_import(name, *args, **kwargs)
    remaining, interval = signal.getitimer(signal.ITIMER_PROF)
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    try:
        return _real_import(name, *args, **kwargs)
    finally:
        if remaining > 0:
            signal.setitimer(signal.ITIMER_PROF, remaining, interval)


class _SeededNumpy:
    """On sys.meta_path of a child forked without numpy: if its program imports numpy after all
    (it named neither numpy nor scipy, so under another name), numpy is seeded the moment it has
    loaded, however it was imported, as the zygote with numpy has it. The program's draws then do
    not depend on the zygote it ran in. It finds nothing itself: it wraps the loader found after it."""

    def __init__(self, seed):
        self.seed = seed

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "numpy":
            return None
        for finder in sys.meta_path:
            spec = None if finder is self else getattr(finder, "find_spec", lambda *_: None)(fullname, path, target)
            if spec is not None:
                spec.loader = _SeedingLoader(spec.loader, self.seed)
                return spec
        return None


class _SeedingLoader:
    def __init__(self, loader, seed):
        self.loader, self.seed = loader, seed

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        module.random.seed(self.seed)

    def __getattr__(self, name):
        return getattr(self.loader, name)


def message(exc):
    text = "%s: %s" % (type(exc).__name__, exc)
    return text[:MESSAGE_CHARS]


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _run_one(code, grid, state):
    """Run transform on one input; module-level code runs once, inside the first input's limit."""
    try:
        if not state["loaded"]:
            state["loaded"] = True
            try:
                exec(compile(code, "<program>", "exec"), state["namespace"])
            except SoftTimeout:
                state["load_outcome"] = {"status": "timeout", "reason": "cpu"}
                raise
            except BaseException as exc:
                state["load_outcome"] = {"status": "error", "message": message(exc)}
        if "load_outcome" in state:
            return dict(state["load_outcome"])
        transform = state["namespace"].get("transform")
        if not callable(transform):
            return {"status": "error", "message": "NameError: the program defines no transform function"}
        result = transform(grid)
        # Checking what the program returned runs on its clock too: a result of millions of rows
        # is the program's cost, bounded by its limit. What passes is at most 30x30 small ints.
        grid, reason = normalise(result)
        _arm(0)
        return {"status": "ok", "grid": grid} if reason is None else {"status": "invalid_output", "reason": reason}
    except SoftTimeout:
        _arm(0)
        return {"status": "timeout", "reason": "cpu"}
    except MemoryError:
        _arm(0)
        return {"status": "memory"}
    except BaseException as exc:
        _arm(0)
        return {"status": "error", "message": message(exc)}


def _read_job(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            os.close(fd)
            return json.loads(b"".join(chunks))
        chunks.append(chunk)


def _close_all_but(keep):
    """Closes every fd from 3 up but those kept, a range at a time (one syscall per range)."""
    low = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 4096)


def run_child(job_fd, out_fd, limits):
    """Run one program on the inputs its job names; never returns."""
    try:
        os.setpgid(0, 0)
        for fd in (0, 1, 2):
            os.dup2(limits["devnull"], fd)
        ruleset = limits.get("child_ruleset", -1)
        _close_all_but({job_fd, out_fd, ruleset})
        # The job comes from the fork server, not the program: read before the filter, which
        # leaves a child nothing to set its own CPU limit with.
        job = _read_job(job_fd)
        code, inputs, indices, stop = job["code"], job["inputs"], job["indices"], job.get("stop", 0)
        if limits["memory"]:
            cap = limits["base_vm"] + limits["memory"]
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        cpu = int(limits["timeout"] * len(indices) * 2) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        signal.signal(signal.SIGPROF, _on_prof)
        builtins.__import__ = _import_off_the_clock
        random.seed(limits["seed"])  # random re-seeds itself after fork (os.register_at_fork); numpy does not
        if "numpy" not in sys.modules:
            sys.meta_path.insert(0, _SeededNumpy(limits["seed"]))
        if ruleset >= 0:
            # A Landlock layer of its own, without the /proc the fork server reads clocks from.
            limits["restrict"](ruleset)
            os.close(ruleset)
        if limits["load_filter"] is not None:
            limits["load_filter"]()
    except BaseException as exc:  # a broken sandbox must not run the program
        write_all(out_fd, (json.dumps({"fatal": message(exc)}) + "\n").encode())
        os._exit(70)
    write_all(out_fd, b'{"ready": true}\n')

    state = {"namespace": {"__name__": "arc_program", "__builtins__": builtins}, "loaded": False}
    for position, index in enumerate(indices):
        started = time.perf_counter()
        cpu_started = time.process_time()
        try:
            _arm(limits["timeout"])
            outcome = _run_one(code, inputs[position], state)
        except SoftTimeout:  # fired inside a handler of _run_one: the limit was still reached
            outcome = {"status": "timeout", "reason": "cpu"}
        finally:
            _arm(0)
        outcome["i"] = index
        outcome["ms"] = round((time.perf_counter() - started) * 1000, 3)
        outcome["cpu"] = round((time.process_time() - cpu_started) * 1000, 3)
        try:
            line = json.dumps(outcome)
        except BaseException as exc:
            line = json.dumps({"i": index, "status": "crash", "message": message(exc)})
        write_all(out_fd, (line + "\n").encode())
        if index < stop and outcome["status"] != "ok":
            break  # the fork server needs nothing after a failure that decides the program
    os._exit(0)
