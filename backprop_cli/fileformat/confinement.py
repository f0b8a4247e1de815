"""The worker's processes, confined so that nothing the student's code does reaches past them (issue 20).

Linux with user namespaces (most distributions, and containers that allow them) gives the worker namespaces
of its own (user, mount, PID, network, IPC):
- the file system is read-only, with empty private /tmp, /var/tmp and /dev/shm as small as the output limit;
  no terminal (no controlling terminal, /dev/pts hidden), no network, no other process in sight;
- its limits are hard and it holds no capability, so its code cannot raise them, as root neither;
- killing it kills everything it started: its processes live in a PID namespace whose first process dies
  with it, and the kernel kills the rest (setsid, double forks and all).
Elsewhere the limits are hard all the same and capabilities dropped, there is no controlling terminal, and
the keeper is a child subreaper that kills every process left under it; the file system and the network
stay reachable (docs/safety.md says so).

Processes: backprop → keeper (the pid backprop knows; it never runs the student's code) → [init, PID 1 of
the new namespaces →] server (student.serve, the student's code). The keeper ends as the server did (its exit
code, or the signal that killed it), so backprop reads the server's fate from the keeper's.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import struct
import sys
import time
from collections.abc import Callable
from typing import NoReturn

# unshare(2) and mount(2) flags, from linux/sched.h and linux/mount.h
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x20000, 0x8000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MOUNT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": 1024, "nodiratime": 2048}
MOUNT_FLAGS["relatime"] = 1 << 21  # a locked mount keeps its flags: a remount must repeat them
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_SET_CHILD_SUBREAPER = 1, 24, 38, 47, 36
PRIVATE = ("/tmp", "/var/tmp", "/dev/shm")  # writable, empty, the worker's own
MAX_FILES = 128  # open files: each holds at most the output limit (memfd, a file in /tmp), so few
MAX_TASKS = 32  # processes and threads, inside the namespaces (counted per user namespace; root is exempt)
MAX_PIDS = 301  # the smallest pid_max Linux allows: a PID namespace holds at most about 300 tasks, root's too
STOP_GRACE = 1.0  # seconds the keeper has to kill its tree before backprop kills it

ISOLATED = False  # in the server: whether it runs in namespaces of its own (set by run)


def run(serve: Callable[[], None], limits, folder: str) -> NoReturn:
    """In the child just forked from backprop: confine, start the server, end as it ends. Never returns.
    folder: the student's, which stays in sight (read-only)."""
    global ISOLATED
    try:
        os.setsid()  # no controlling terminal (/dev/tty), out of the terminal's Ctrl-C
        _die_with_parent()
        ISOLATED = _isolate(limits.output, folder)
        if not ISOLATED:
            _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of the student's processes come back to the keeper
        status_r, status_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(status_r)
            if ISOLATED:
                _init(serve, status_w)
            _server(serve)
        os.close(status_w)
        _close_all_but(status_r)
        _keep(pid, status_r)
    finally:
        os._exit(70)


def stop(pid: int) -> None:
    """backprop's side: end a keeper and all under it (its SIGTERM handler kills the tree), and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + STOP_GRACE
    while time.monotonic() < end:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        time.sleep(0.002)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


# ------------------------------------------------------------------ the keeper and init
def _keep(pid: int, status_r: int) -> NoReturn:
    def end(*_: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # init: the kernel then kills its whole namespace
        if ISOLATED:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        else:
            _kill_orphans()
        os._exit(0)

    signal.signal(signal.SIGTERM, end)
    _, status = os.waitpid(pid, 0)
    if ISOLATED:  # (its /proc is the namespace's now: no orphan of ours to look for there, and none left)
        told = os.read(status_r, 4)  # init wrote how the server ended
        status = struct.unpack("i", told)[0] if len(told) == 4 else status
    else:
        _kill_orphans()
    _mirror(status)


def _init(serve: Callable[[], None], status_w: int) -> NoReturn:
    """PID 1 of the new namespaces: its own /proc, the server as its child, every orphan reaped; ending (when the
    server ends, or the keeper dies) takes every process of the namespace with it."""
    try:
        _die_with_parent()
        with contextlib.suppress(OSError):  # a container may refuse it: the processes then stay in sight
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        with contextlib.suppress(OSError), open("/proc/sys/user/max_user_namespaces", "w") as limit:
            limit.write("1")  # the server's own, to lock the mounts (_lock); none for the student's code
        with contextlib.suppress(OSError), open("/proc/sys/kernel/pid_max", "w") as limit:
            limit.write(str(MAX_PIDS))  # Linux 6.14+: few processes in the namespace, root's too (see MAX_TASKS)
        pid = os.fork()
        if pid == 0:
            _server(serve)
        _close_all_but(status_w)
        while True:
            done, status = os.wait()
            if done == pid:
                os.write(status_w, struct.pack("i", status))
                os._exit(0)
    finally:
        os._exit(70)


def _server(serve: Callable[[], None]) -> NoReturn:
    try:
        if ISOLATED:
            _lock()
        _drop_privileges()
        _die_with_parent()
        serve()
    finally:
        os._exit(70)


def _mirror(status: int) -> NoReturn:
    """End as the server did: by the same signal (no core file), or with the same exit code."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        with contextlib.suppress(Exception):
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        with contextlib.suppress(Exception):  # (SIGKILL and SIGSTOP take no handler)
            signal.signal(number, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
        os.kill(os.getpid(), number)
        os._exit(128 + number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


def _kill_orphans() -> None:
    """As a subreaper: kill and reap every child until none is left (their children come back to us)."""
    for _ in range(10_000):
        children = _children()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        while True:
            try:
                if not os.waitpid(-1, os.WNOHANG)[0]:
                    break
            except ChildProcessError:
                return
        if not children:
            time.sleep(0.001)


def _children() -> list[int]:
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children") as listed:
            return [int(p) for p in listed.read().split()]
    except OSError:  # a kernel without that file: every process's parent, from its stat
        found = []
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
            with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().rpartition(")")[2].split()[1]) == me:
                    found.append(int(entry))
        return found


# ------------------------------------------------------------------ namespaces
def _isolate(private_size: int, folder: str) -> bool:
    """Namespaces of its own, with a read-only file system; False where the system allows none."""
    if not sys.platform.startswith("linux"):
        return False
    uid, gid = os.getuid(), os.getgid()
    if _libc().unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC) != 0:
        return False
    _map_ids(uid, gid)
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError:
        return True  # namespaces, but the mounts as they were: still a PID namespace to kill whole
    with open("/proc/self/mountinfo") as table:
        mounts = [line.split() for line in table]
    for fields in mounts:
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for option in fields[5].split(","):
            flags |= MOUNT_FLAGS.get(option, 0)
        with contextlib.suppress(OSError):
            _mount(None, point, None, flags)
    size = max(private_size, 4096)
    for private in PRIVATE:
        if os.path.commonpath([private, os.path.realpath(folder)]) == private:
            continue  # the student's folder is in it: it stays, read-only
        with contextlib.suppress(OSError):
            _mount("tmpfs", private, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    with contextlib.suppress(OSError):  # the terminals' device files: hidden
        _mount("tmpfs", "/dev/pts", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4096,mode=755")
    return True


def _lock() -> None:
    """A user and mount namespace inside the first: the read-only mounts come into it locked, so not even a
    process with every capability there can make them writable or uncover what the private ones hide."""
    uid, gid = os.getuid(), os.getgid()
    if _libc().unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0:
        _map_ids(uid, gid)


def _map_ids(uid: int, gid: int) -> None:
    with contextlib.suppress(OSError):
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as mapping:
                mapping.write(text)


def _drop_privileges() -> None:
    """No capability left (root's included): hard limits stay, /proc of other processes stays closed."""
    for number in range(64):
        if _prctl(PR_CAPBSET_DROP, number) != 0 and ctypes.get_errno() == 22:  # EINVAL: past the last one
            break
    _prctl(PR_CAP_AMBIENT, 4)  # PR_CAP_AMBIENT_CLEAR_ALL
    capset = getattr(_libc(), "capset", None)
    if capset is not None:
        header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        capset(ctypes.c_char_p(header), ctypes.create_string_buffer(24))  # effective, permitted, inheritable: 0
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def limit_resources(limits) -> None:
    """Hard limits (soft = hard): the student's code can lower them, never raise them."""
    import resource

    wanted = {resource.RLIMIT_CORE: 0, resource.RLIMIT_FSIZE: limits.output, resource.RLIMIT_NOFILE: MAX_FILES}
    with contextlib.suppress(OSError, ValueError), open("/proc/self/statm") as statm:
        start = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        wanted[resource.RLIMIT_AS] = start + limits.memory
    if not limits.per_call:  # the file's time in CPU seconds, for every thread: a bound for a runaway process
        wanted[resource.RLIMIT_CPU] = int(limits.timeout * (os.cpu_count() or 1)) + 10
    if ISOLATED:  # counted in the worker's own user namespace (elsewhere it would count the user's processes)
        wanted[resource.RLIMIT_NPROC] = MAX_TASKS
    for kind, value in wanted.items():
        with contextlib.suppress(ValueError, OSError, OverflowError):
            hard = resource.getrlimit(kind)[1]
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(kind, (value, value))


# ------------------------------------------------------------------ system calls
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> int:
    """prctl(2), or -1 where there is none (macOS)."""
    prctl = getattr(_libc(), "prctl", None)
    return -1 if prctl is None else prctl(option, ctypes.c_ulong(value), 0, 0, 0)


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda s: None if s is None else s.encode()  # noqa: E731 (four arguments, one rule)
    if _libc().mount(encode(source), encode(target), encode(kind), ctypes.c_ulong(flags), encode(data)) != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), target)


def _die_with_parent() -> None:
    """Killed when the process that started it ends, whatever the student's code is doing."""
    parent = os.getppid()
    with contextlib.suppress(Exception):
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)


def _close_all_but(fd: int) -> None:
    os.closerange(3, fd)
    os.closerange(fd + 1, 65536)
