"""The zygotes: the processes every program's child is forked from.

There are two, alike but for numpy: one forked before the fork server imports numpy, for the
programs that name neither numpy nor scipy (most of them), and one forked after, with numpy
imported and seeded. A child of the first forks and exits with ~16 MiB fewer pages to copy, fault
and unmap (~1 ms of CPU less per program here). A program of the first that imports numpy after
all (under another name) gets it seeded as the second has it (child.py), so its outputs do not
depend on the zygote it ran in; what it imports counts against its memory limit, as any module
that was not preloaded for it does.

Why no child can reach another program's data: the zygote is forked from the fork server before
the server reads its first request, and it never receives job data afterwards, only a pair of
pipe ends per child, over a socket (SCM_RIGHTS). A child is a copy of the zygote, so its memory
(the stack it could walk, freed objects it could read with ctypes) holds no program, input,
output or error text of any other child. Each child reads its own program and inputs from its
own pipe and writes its results to the fork server, not to the zygote. The zygote reaps children
and reports each one's exit status and CPU time; it decides nothing.

Messages on the control socket (SOCK_SEQPACKET, one message each):
  server -> zygote: b"spawn" with two fds (the child's job read end, result write end)
  zygote -> server: {"pid": n}  after each spawn;  {"exit": pid, "status": s, "cpu": seconds}
"""

import os
import select
import signal
import socket

from child import run_child

PR_SET_PDEATHSIG = 1


def start_zygote(limits, others=()):
    """Forks a zygote; returns (the server's end of its control socket, its pid). `others`: the
    control sockets of zygotes forked before it, which are not this one's to hold."""
    server_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        server_end.close()
        for other in others:
            other.close()
        try:
            _serve(zygote_end, limits)
        finally:
            os._exit(0)
    zygote_end.close()
    return server_end, pid


def _serve(control, limits):
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # never outlive the server
    for fd in (0, 1, 2):
        os.dup2(limits["devnull"], fd)
    if limits.get("results_fd") is not None:
        os.close(limits["results_fd"])  # the server's channel to Node is not the zygote's to hold
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        readable = select.select([control, wake_r], [], [])[0]
        if wake_r in readable:
            os.read(wake_r, 4096)
            _reap(control)
        if control not in readable:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, 64, 2)
        except InterruptedError:
            continue
        if not message:
            return  # the server is gone
        if message != b"spawn" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            control.close()
            os.close(wake_r)
            os.close(wake_w)
            run_child(fds[0], fds[1], limits)
        # Until the child exits, every page this process writes is copied: as little as can be
        # between a fork and the next wait (a child that has exited already wakes the loop).
        os.close(fds[0])
        os.close(fds[1])
        control.send(b'{"pid": %d}' % pid)


def _reap(control):
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.send(b'{"exit": %d, "status": %d, "cpu": %r}' % (pid, status, usage.ru_utime + usage.ru_stime))
