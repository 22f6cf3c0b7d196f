"""arcforge sandbox runner: a fork server for untrusted `transform(grid)` programs.

Protocol (newline-delimited JSON, never pickle):
  stdin  <- {"id": str, "code": str, "inputs": [grid, ...]}   one request per line
  fd 3   -> {"hello": {...}}                                    once, after start-up
(with --results-stdout the results go to the process's original stdout instead of fd 3: Docker
attaches only stdin, stdout and stderr; fd 1 itself is then pointed at /dev/null)
  fd 3   -> {"id": str, "i": int, "status": ..., ...}           one line per input
  fd 3   -> {"id": str, "done": true, "ms": float}              after the last input
A program runs in a forked child that writes its outcomes on a private pipe; fds 0-2 of
the child point at /dev/null, so nothing a program prints can reach the protocol.

Self-contained on purpose: this file also runs inside the Docker image, beside numpy only.
"""

import builtins
import ctypes
import errno
import gc
import json
import os
import random
import resource
import select
import signal
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # seccomp forbids threads; numpy must not try to start any

import numpy as np  # noqa: E402  (imported once here, shared by every forked child)

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

RUNNER_VERSION = 1
MAX_SIDE = 30
MESSAGE_CHARS = 500


class SoftTimeout(BaseException):
    """Raised by the CPU-time timer; BaseException so `except Exception` cannot catch it."""


# ---------------------------------------------------------------- output normalisation
def normalise(value):
    """Return (grid, None) for a valid grid or (None, reason).

    Valid: a non-empty list (or 2-D numpy array) of non-empty rows of equal length, at most
    30x30, every cell an int 0-9. bool is not an int here; floats are rejected even when
    integral, because ARC grids hold colours, not numbers.
    """
    if isinstance(value, np.ndarray):
        if value.ndim != 2:
            return None, "not_2d"
        if value.dtype == np.bool_:
            return None, "bool"
        if value.dtype.kind == "f":
            return None, "float"
        if value.dtype.kind not in "iu" and value.dtype != object:
            return None, "not_int"
        value = value.tolist()
    if not isinstance(value, list):
        return None, "not_2d"
    if len(value) == 0:
        return None, "empty"
    rows = []
    width = None
    for row in value:
        if isinstance(row, np.ndarray):
            if row.ndim != 1:
                return None, "not_2d"
            row = row.tolist()
        if not isinstance(row, list):
            return None, "not_2d"
        if len(row) == 0:
            return None, "empty"
        if width is None:
            width = len(row)
        elif len(row) != width:
            return None, "ragged"
        cells = []
        for cell in row:
            if isinstance(cell, (list, tuple, np.ndarray)):
                return None, "not_2d"
            if isinstance(cell, (bool, np.bool_)):
                return None, "bool"
            if isinstance(cell, (float, np.floating)):
                return None, "float"
            if not isinstance(cell, (int, np.integer)):
                return None, "not_int"
            cell = int(cell)
            if cell < 0 or cell > 9:
                return None, "out_of_range"
            cells.append(cell)
        rows.append(cells)
    if len(rows) > MAX_SIDE or width > MAX_SIDE:
        return None, "too_large"
    return rows, None


# ---------------------------------------------------------------- isolation layers
LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS = 38
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock(read_paths):
    """Make the filesystem read-only and limited to read_paths; deny TCP; scope signals.

    Returns the Landlock ABI applied, or 0 when the kernel has none.
    """
    abi = LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi <= 0:
        return 0
    fs_all = (1 << 13) - 1  # ABI 1: execute .. make_sym
    if abi >= 2:
        fs_all |= 1 << 13  # refer
    if abi >= 3:
        fs_all |= 1 << 14  # truncate
    if abi >= 5:
        fs_all |= 1 << 15  # ioctl_dev
    attr = _RulesetAttr(fs_all, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    read_access = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read_file, read_dir
    for path in read_paths:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        allowed = read_access if os.path.isdir(path) else (1 << 0) | (1 << 2)
        rule = _PathBeneath(allowed, fd)
        if LIBC.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_add_rule failed for " + path)
        os.close(fd)
    if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
    if LIBC.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    os.close(ruleset)
    return abi


DENIED_SYSCALLS = (
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "execve", "execveat", "fork", "vfork", "clone", "clone3", "ptrace", "process_vm_readv",
    "process_vm_writev", "kill", "tkill", "tgkill", "mount", "umount2", "pivot_root", "chroot",
    "unshare", "setns", "bpf", "perf_event_open", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "userfaultfd", "keyctl", "add_key", "request_key", "memfd_create",
    "init_module", "finit_module", "delete_module", "kexec_load", "reboot", "swapon", "swapoff",
    "open_by_handle_at", "name_to_handle_at", "personality", "setuid", "setgid", "setreuid",
    "setregid", "setresuid", "setresgid", "setgroups", "mknod", "mknodat", "link", "linkat",
    "symlink", "symlinkat", "rename", "renameat", "renameat2", "unlink", "unlinkat", "mkdir",
    "mkdirat", "rmdir", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat",
    "truncate", "ftruncate", "pidfd_open", "pidfd_getfd", "pidfd_send_signal",
)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


SCMP_CMP_MASKED_EQ = 7
# open(2) flags that write or create: denied even where Landlock is missing.
WRITE_FLAGS = (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND)


def seccomp():
    """Deny process creation, sockets, signals to others and filesystem changes. Returns count."""
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError:
        return 0
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add.argtypes = None  # variadic: argument comparisons follow the count
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(0x7FFF0000)  # SCMP_ACT_ALLOW
    deny = 0x00050000 | errno.EPERM  # SCMP_ACT_ERRNO(EPERM)
    denied = 0
    for name in DENIED_SYSCALLS + ("openat2", "open_tree", "creat"):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            continue
        if lib.seccomp_rule_add(ctypes.c_void_p(ctx), ctypes.c_uint32(deny), ctypes.c_int(nr), ctypes.c_uint(0)) == 0:
            denied += 1
    for name, flags_arg in (("open", 1), ("openat", 2)):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        for flag in WRITE_FLAGS:
            cmp = _ArgCmp(flags_arg, SCMP_CMP_MASKED_EQ, flag, flag)
            if lib.seccomp_rule_add(ctypes.c_void_p(ctx), ctypes.c_uint32(deny), ctypes.c_int(nr), ctypes.c_uint(1), cmp) == 0:
                denied += 1
    LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if lib.seccomp_load(ctx) != 0:
        raise OSError(ctypes.get_errno(), "seccomp_load failed")
    return denied


def runtime_paths():
    """Everything a program may read: the Python runtime, its packages and shared libraries."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(np.__file__))}
    paths.update(p for p in sys.path if p)
    paths.update(("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache"))
    return sorted(p for p in paths if os.path.exists(p))


# ---------------------------------------------------------------- the child
def _run_one(code, grid, state):
    """Run transform on one input; module-level code runs once, inside the first input's limit."""
    try:
        if not state["loaded"]:
            state["loaded"] = True
            try:
                exec(compile(code, "<program>", "exec"), state["namespace"])
            except SoftTimeout:
                state["load_outcome"] = {"status": "timeout"}
                raise
            except BaseException as exc:
                state["load_outcome"] = {"status": "error", "message": _message(exc)}
        if "load_outcome" in state:
            return dict(state["load_outcome"])
        transform = state["namespace"].get("transform")
        if not callable(transform):
            return {"status": "error", "message": "NameError: the program defines no transform function"}
        result = transform(grid)
        _arm(0)
        grid, reason = normalise(result)
        return {"status": "ok", "grid": grid} if reason is None else {"status": "invalid_output", "reason": reason}
    except SoftTimeout:
        _arm(0)
        return {"status": "timeout"}
    except MemoryError:
        _arm(0)
        return {"status": "memory"}
    except BaseException as exc:
        _arm(0)
        return {"status": "error", "message": _message(exc)}


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


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
    (programs cannot write files), and the wall-clock kill still bounds the whole run."""
    if name in sys.modules:
        return _real_import(name, *args, **kwargs)
    remaining, interval = signal.getitimer(signal.ITIMER_PROF)
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    try:
        return _real_import(name, *args, **kwargs)
    finally:
        if remaining > 0:
            signal.setitimer(signal.ITIMER_PROF, remaining, interval)


def _message(exc):
    text = "%s: %s" % (type(exc).__name__, exc)
    return text[:MESSAGE_CHARS]


def run_child(code, inputs, indices, out_fd, limits):
    """Run one program on the given inputs; never returns."""
    try:
        os.setpgid(0, 0)
        for fd in (0, 1, 2):
            os.dup2(limits["devnull"], fd)
        os.closerange(3, out_fd)
        os.closerange(out_fd + 1, 4096)
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
        random.seed(0)  # random re-seeds itself after fork (os.register_at_fork); numpy does not
        if limits["seccomp"]:
            seccomp()
    except BaseException as exc:  # a broken sandbox must not run the program
        _write_all(out_fd, (json.dumps({"fatal": _message(exc)}) + "\n").encode())
        os._exit(70)

    state = {"namespace": {"__name__": "arc_program", "__builtins__": builtins}, "loaded": False}
    for position, index in enumerate(indices):
        started = time.perf_counter()
        try:
            _arm(limits["timeout"])
            outcome = _run_one(code, inputs[position], state)
        except SoftTimeout:  # fired inside a handler of _run_one: the limit was still reached
            outcome = {"status": "timeout"}
        finally:
            _arm(0)
        outcome["i"] = index
        outcome["ms"] = round((time.perf_counter() - started) * 1000, 3)
        try:
            line = json.dumps(outcome)
        except BaseException as exc:
            line = json.dumps({"i": index, "status": "crash", "message": _message(exc)})
        _write_all(out_fd, (line + "\n").encode())
    os._exit(0)


# ---------------------------------------------------------------- the server
def run_program(request, limits, emit):
    """Fork children until every input has exactly one outcome."""
    code, inputs = request["code"], request["inputs"]
    pending = list(range(len(inputs)))
    hard = limits["timeout"] * 2 + 0.5  # wall-clock backstop; the CPU-time timer decides first
    while pending:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            run_child(code, [inputs[i] for i in pending], pending, write_fd, limits)
        os.close(write_fd)
        buffer = b""
        deadline = time.monotonic() + hard
        eof = False
        fatal = None
        while pending and not eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                break
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                eof = True
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                outcome = _parse_child_line(line, pending)
                if outcome is None:
                    continue
                if "fatal" in outcome:
                    fatal = outcome["fatal"]
                    continue
                pending.remove(outcome["i"])
                emit(dict(outcome, id=request["id"]))
                deadline = time.monotonic() + hard
        timed_out = bool(pending) and not eof
        _kill_group(pid)
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
        if fatal is not None:
            raise RuntimeError("sandbox set-up failed in the child: " + fatal)
        if pending:
            index = pending.pop(0)
            if timed_out:
                outcome = {"status": "timeout", "i": index, "ms": hard * 1000}
            else:
                outcome = {"status": "crash", "i": index, "message": _describe_exit(status)}
            emit(dict(outcome, id=request["id"]))


def _parse_child_line(line, pending):
    try:
        outcome = json.loads(line)
    except ValueError:
        return None
    if not isinstance(outcome, dict):
        return None
    if "fatal" in outcome:
        return outcome
    if outcome.get("i") not in pending:
        return None  # forged or duplicated: the first answer for an input stands
    return outcome


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


def main():
    limits = {"timeout": 1.0, "memory": 1 << 30, "seccomp": True, "landlock": True}
    args = sys.argv[1:]
    while args:
        flag = args.pop(0)
        if flag == "--timeout":
            limits["timeout"] = float(args.pop(0))
        elif flag == "--memory":
            limits["memory"] = int(args.pop(0))
        elif flag == "--no-seccomp":
            limits["seccomp"] = False
        elif flag == "--no-landlock":
            limits["landlock"] = False
        elif flag == "--results-stdout":
            limits["results_stdout"] = True
        else:
            raise SystemExit("runner.py: unknown option " + flag)
    out = os.fdopen(os.dup(1) if limits.get("results_stdout") else 3, "wb", buffering=0)
    limits["devnull"] = os.open(os.devnull, os.O_RDWR)  # opened before Landlock hides /dev
    os.dup2(limits["devnull"], 1)
    with open("/proc/self/statm") as statm:
        limits["base_vm"] = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    abi = landlock(runtime_paths()) if limits["landlock"] else 0
    layers = {
        "landlock_abi": abi,
        "seccomp": limits["seccomp"] and _seccomp_available(),
        "uid": os.getuid(),
        "rlimits": True,
    }
    hello = {"hello": {"runner": RUNNER_VERSION, "python": sys.version.split()[0], "numpy": np.__version__, "layers": layers, "preloaded": PRELOADED}}

    def emit(message):
        _write_all(out.fileno(), (json.dumps(message) + "\n").encode())

    emit(hello)
    # numpy is seeded here, not in the child (its seeding costs ~18 ms a fork): every child
    # starts from the same state, so the same program on the same inputs gives the same outputs.
    np.random.seed(0)
    gc.freeze()  # keep the forked children from copying pages just to update GC headers
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        started = time.perf_counter()
        request = json.loads(raw)
        try:
            run_program(request, limits, emit)
        except BaseException as exc:
            emit({"id": request.get("id"), "fatal": _message(exc)})
            raise SystemExit(70)
        emit({"id": request["id"], "done": True, "ms": round((time.perf_counter() - started) * 1000, 3)})


def _seccomp_available():
    try:
        ctypes.CDLL("libseccomp.so.2")
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
