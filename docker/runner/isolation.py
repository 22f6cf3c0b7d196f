"""Isolation layers applied from Python with ctypes: Landlock for the filesystem and TCP, and a
seccomp allowlist compiled once by the fork server and loaded by every child."""

import ctypes
import errno
import os

LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi():
    abi = LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(abi, 0)


def landlock_ruleset(read_paths):
    """A Landlock ruleset: the filesystem read-only and limited to read_paths, no TCP, signals and
    abstract sockets scoped. Returns (ruleset fd, ABI), or (-1, 0) when the kernel has no Landlock.
    One ruleset can be applied by many processes (restrict): the zygote builds the children's once."""
    abi = landlock_abi()
    if abi <= 0:
        return -1, 0
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
    return ruleset, abi


def restrict(ruleset):
    """Puts the calling process (and all it forks) under the ruleset, on top of any it is under."""
    if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
    if LIBC.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")


# Everything else is refused with EPERM, including every syscall this libseccomp cannot name
# (newer ones such as fchmodat2): an allowlist fails closed where a denylist silently skips.
ALLOWED_SYSCALLS = (
    # memory of its own
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mbind", "get_mempolicy",
    # reading what the sandbox shows, and the fds it holds
    "read", "readv", "pread64", "preadv", "preadv2", "lseek", "close", "close_range", "fstat",
    "newfstatat", "stat", "lstat", "statx", "fstatfs", "statfs", "getdents64", "access",
    "faccessat", "faccessat2", "readlink", "readlinkat", "getcwd", "chdir", "fchdir", "fcntl",
    "dup", "dup2", "dup3", "ioctl", "fadvise64",
    # writing to its private result pipe and /dev/null: no fd of the host is open
    "write", "writev",
    # signals and timers of its own
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
    "rt_sigtimedwait", "sigaltstack", "setitimer", "getitimer", "alarm", "pause",
    # time and waiting
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    "select", "pselect6", "poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "sched_yield",
    # looking at itself
    "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getgroups",
    "getresuid", "getresgid", "getpgrp", "getpgid", "getsid", "uname", "sysinfo", "getrusage",
    "times", "getrlimit", "setrlimit", "sched_getaffinity", "sched_getparam",
    "sched_getscheduler", "getpriority", "getcpu",
    # the runtime
    "futex", "set_robust_list", "rseq", "set_tid_address", "arch_prctl", "getrandom",
    "restart_syscall", "exit", "exit_group",
)
# open(2) flags that write or create: open and openat are allowed only without them.
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Allowed only on the calling process itself (pid argument 0): never the fork server, never another process.
SELF_ONLY = (("prlimit64", 0),)
OPEN_CALLS = (("open", 1), ("openat", 2))

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO_EPERM = 0x00050000 | errno.EPERM
SCMP_CMP_EQ = 4
SCMP_CMP_MASKED_EQ = 7


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _libseccomp():
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add.argtypes = None  # variadic: argument comparisons follow the count
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_export_pfc.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def _filter_context(lib):
    ctx = lib.seccomp_init(SCMP_ACT_ERRNO_EPERM)
    if not ctx:
        raise OSError(errno.EINVAL, "seccomp_init failed")
    allowed = 0

    def add(name, *cmps):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            return 0
        rc = lib.seccomp_rule_add(ctypes.c_void_p(ctx), ctypes.c_uint32(SCMP_ACT_ALLOW), ctypes.c_int(nr), ctypes.c_uint(len(cmps)), *cmps)
        if rc != 0:
            raise OSError(-rc, "seccomp_rule_add failed for " + name)
        return 1

    for name in ALLOWED_SYSCALLS:
        allowed += add(name)
    for name, pid in SELF_ONLY:
        allowed += add(name, _ArgCmp(0, SCMP_CMP_EQ, pid, 0))
    for name, flags_arg in OPEN_CALLS:
        allowed += add(name, _ArgCmp(flags_arg, SCMP_CMP_MASKED_EQ, WRITE_FLAGS, 0))
    return ctx, allowed


def _export(lib, ctx, exporter):
    read_fd, write_fd = os.pipe()
    try:
        if exporter(ctypes.c_void_p(ctx), write_fd) != 0:
            raise OSError(errno.EIO, "seccomp export failed")
        os.close(write_fd)
        write_fd = -1
        chunks = []
        while True:
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)


def compile_filter():
    """The allowlist as a BPF program (bytes) and its rule count, or (None, 0) without libseccomp.

    Compiled once in the fork server: each child then loads it with one prctl (cheap), instead of
    building it again with ~100 libseccomp calls per fork.
    """
    lib = _libseccomp()
    if lib is None:
        return None, 0
    ctx, allowed = _filter_context(lib)
    try:
        return _export(lib, ctx, lib.seccomp_export_bpf), allowed
    finally:
        lib.seccomp_release(ctypes.c_void_p(ctx))


def export_pfc():
    """The allowlist in libseccomp's readable PFC form, for the syscall-coverage test."""
    lib = _libseccomp()
    if lib is None:
        raise OSError(errno.ENOENT, "libseccomp.so.2 is not installed")
    ctx, _ = _filter_context(lib)
    try:
        return _export(lib, ctx, lib.seccomp_export_pfc).decode()
    finally:
        lib.seccomp_release(ctypes.c_void_p(ctx))


def filter_loader(bpf):
    """Loads a compiled filter into the calling process (a child about to run a program). The
    fork server builds the loader once: a child that built the ctypes structures itself would
    copy the pages it touched doing so, ~0.4 ms a fork on a machine with costly page faults."""
    buffer = ctypes.create_string_buffer(bpf, len(bpf))
    prog = _SockFprog(len(bpf) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    prog_ref = ctypes.byref(prog)
    prctl, get_errno = LIBC.prctl, ctypes.get_errno

    def load():
        if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(get_errno(), "prctl(NO_NEW_PRIVS) failed")
        if prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog_ref, 0, 0) != 0:
            raise OSError(get_errno(), "loading the seccomp filter failed")

    load.keep_alive = (buffer, prog)
    return load
