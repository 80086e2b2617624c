"""Starting and policing the sandboxed student process · 启动并看管沙箱中的学生进程.

On Linux with bubblewrap (Debian package ``bubblewrap``) each submission gets its
own sandbox: new user, pid, network, IPC, UTS and mount namespaces, an unprivileged
user with no capabilities, and a file system built from an allowlist
(:mod:`grader.record.world`): the interpreter, NumPy and friends, the sandbox runtime,
a size-limited private ``/tmp``. Nothing else of the machine exists there: no
``solutions/``, no reference implementation, no gradebook, no other submission, no
``/proc``, no host path. bubblewrap itself starts with an empty environment and reads
its arguments from a descriptor, so not even its own process holds a secret.

Limits: wall time per request (enforced here), CPU time, address space, file size
and open files (``setrlimit`` in the worker, before any student code); the memory and
processes of the whole sandbox in a control group where the grader may create one, a
seccomp filter against memory no limit would see (:mod:`grader.record.confine`), and a
watchdog thread here that kills the sandbox over its limits in any case. Killing the
sandbox's first process ends its pid namespace, so nothing a student started survives
the sandbox.

Without bubblewrap the worker runs as a plain child process with the same limits,
blocker and watchdog, and ``Sandbox.mode`` is ``"rlimits-only"``: the grade report
says so loudly, because such a worker can read any file the grader can.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from grader.record import confine, world
from grader.runtime import wire

__all__ = ["Limits", "Sandbox", "SandboxError", "bwrap_available", "sandbox_mode"]

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class Limits:
    """Per-submission limits. Times in seconds, sizes in MiB."""

    load_seconds: float = 120.0  # setup + solution cells
    cell_seconds: float = 120.0  # one test cell (all its check calls); nbgrader allows 300
    notebook_seconds: float = 300.0  # the whole notebook: loading and every test cell
    cpu_seconds: int = 600  # CPU time of the whole sandbox process
    memory_mb: int = 2048  # address space per process, and resident memory of all
    processes: int = 32  # processes and threads in the sandbox
    scratch_mb: int = 64  # the private /tmp
    file_mb: int = 32  # largest file the student may write
    restarts: int = 3  # fresh sandboxes after a crash, per submission
    descriptors: int = 64  # open files per process (pipes' buffers are memory too)

    def rlimits(self) -> dict[str, int]:
        return {
            "RLIMIT_AS": self.memory_mb * 2**20,
            "RLIMIT_CPU": int(self.cpu_seconds),
            "RLIMIT_FSIZE": self.file_mb * 2**20,
            "RLIMIT_NOFILE": self.descriptors,
            "RLIMIT_CORE": 0,
            "RLIMIT_NPROC": self.processes,
        }


class SandboxError(Exception):
    """The sandbox stopped: ``reason`` is timeout, memory, processes, crashed or protocol."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# --------------------------------------------------------------------- bwrap probe

_PROBE: dict[str, Any] = {}


def bwrap_available() -> tuple[bool, str]:
    """Whether bubblewrap can start a sandbox here (cached), and why not."""
    if "ok" in _PROBE:
        return _PROBE["ok"], _PROBE["why"]
    path = shutil.which("bwrap")
    ok, why = False, "bwrap is not installed (Debian package `bubblewrap`)"
    if path is not None:
        # --disable-userns needs bubblewrap >= 0.8 and a recent kernel: try without it too
        for disable in (True, False):
            _PROBE["disable_userns"] = disable
            args = [path, *_namespace_args(), "--ro-bind", "/", "/", "--", "/bin/sh", "-c", "exit 0"]
            try:
                proc = subprocess.run(args, capture_output=True, text=True, timeout=20)
                ok, why = proc.returncode == 0, proc.stderr.strip()[:300]
            except (OSError, subprocess.TimeoutExpired) as exc:
                ok, why = False, str(exc)
            if ok:
                break
    _PROBE.update(ok=ok, why=why)
    return ok, why


def sandbox_mode(requested: str = "auto") -> str:
    """``"bwrap"`` or ``"rlimits-only"`` for a request of auto, bwrap or none."""
    if requested == "none":
        return "rlimits-only"
    ok, why = bwrap_available()
    if ok:
        return "bwrap"
    if requested == "bwrap":
        raise RuntimeError(f"bubblewrap cannot run here · 无法使用 bubblewrap: {why}")
    return "rlimits-only"


def _namespace_args() -> list[str]:
    nested = ["--disable-userns"] if _PROBE.get("disable_userns", True) else []
    return ["--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", *nested,
            "--die-with-parent", "--new-session", "--cap-drop", "ALL"]


# ---------------------------------------------------------------------- the world

DEVICES = ("null", "zero", "full", "random", "urandom")
#: Imports the worker with the runtime first on its path; everything after ``-c`` is argv.
BOOT = "import sys; sys.path[:0] = {paths!r}; from grader.worker import main; main(sys.argv[1:])"


def bwrap_args(limits: Limits, allowed: tuple[str, ...], info_fd: int,
               seccomp_fd: int | None) -> list[str]:
    """bubblewrap's options for one sandbox: the allowlisted world of :mod:`.world`."""
    plan = world.world(allowed)
    args = [*_namespace_args(), "--hostname", "sandbox"]
    for text, path in plan.symlinks:
        args += ["--symlink", text, path]
    for mount in plan.mounts:
        args += ["--ro-bind", mount.source, mount.target]
    args += ["--size", str(limits.scratch_mb * 2**20), "--tmpfs", "/tmp",
             "--size", str(2**16), "--tmpfs", "/dev"]
    for name in DEVICES:
        args += ["--dev-bind", f"/dev/{name}", f"/dev/{name}"]
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp",
             "--info-fd", str(info_fd)]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args.append("--clearenv")
    for key, value in world.environment("/tmp", plan.library_path).items():
        args += ["--setenv", key, value]
    return args


def sandbox_command(allowed: tuple[str, ...] = ()) -> list[str]:
    """The worker's command line inside the sandbox (all neutral paths)."""
    boot = BOOT.format(paths=world.world(allowed).python_path)
    return [world.EXECUTABLE, "-I", "-S", "-c", boot]


class _RuntimeLink:
    """Without bubblewrap: a folder where ``grader`` is a link to the runtime, so the
    worker imports the same stand-ins as in the sandbox (not the grader package)."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="nnfs-runtime-")
        os.symlink(world.runtime_dir(), os.path.join(self.folder.name, "grader"))

    def argv(self) -> list[str]:
        boot = BOOT.format(paths=[self.folder.name])
        return [sys.executable, "-I", "-c", boot]

    def cleanup(self) -> None:
        self.folder.cleanup()


# ------------------------------------------------------------------------ sandbox


@dataclass
class Sandbox:
    """One sandboxed worker process and the pipes to it."""

    limits: Limits = field(default_factory=Limits)
    mode: str = "bwrap"
    allowed: tuple[str, ...] = ()  # imports an exercise allows (mounted in the sandbox)

    def __post_init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.dead: SandboxError | None = None
        self.child_pid: int | None = None
        self.peak_processes = 0
        self.peak_rss_mb = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._link: _RuntimeLink | None = None
        self._group: confine.ControlGroup | None = None
        self._stderr = None
        self.pending_flags: list[str] = []
        # what a request that runs out of time reports: its own limit, or the notebook's
        self.timeout_reason = "timeout"

    @property
    def memory_limit(self) -> str:
        """Which memory limit applied: a control group, or the resident-memory watchdog."""
        kind = self._group.kind if self._group is not None else "none"
        return kind if kind != "none" else "rss-watchdog"

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        flag_r, flag_w = os.pipe()
        os.set_blocking(flag_r, False)
        os.set_blocking(flag_w, False)
        fds = [req_r, rep_w, flag_w]
        self._group = confine.ControlGroup(self.limits.memory_mb * 2**20, self.limits.processes)
        self._stderr = tempfile.TemporaryFile()
        info_r = None
        extra: list[int] = []
        if self.mode == "bwrap":
            info_r, info_w = os.pipe()
            program = confine.seccomp_program()
            seccomp = _data_fd(program) if program else None
            args = bwrap_args(self.limits, self.allowed, info_w, seccomp)
            args_fd = _data_fd(b"".join(a.encode() + b"\0" for a in args))
            extra = [info_w, args_fd, *([seccomp] if seccomp is not None else [])]
            # bubblewrap reads its options from a descriptor (its command line names no
            # host path) and starts with an empty environment (it holds no secret either).
            argv = ["bwrap", "--args", str(args_fd), "--", *sandbox_command(self.allowed),
                    *map(str, fds)]
            env, cwd = {}, "/"
        else:
            self._scratch = tempfile.TemporaryDirectory(prefix="nnfs-sandbox-")
            self._link = _RuntimeLink()
            argv = [*self._link.argv(), *map(str, fds)]
            env, cwd = world.environment(self._scratch.name), self._scratch.name
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                pass_fds=(*fds, *extra), env=env, cwd=cwd, start_new_session=True,
            )
        finally:
            for fd in (*fds, *extra):
                os.close(fd)
        self._req, self._rep, self._flags = req_w, rep_r, flag_r
        self._flag_text = b""
        if info_r is not None:
            self.child_pid = _read_child_pid(info_r)
            os.close(info_r)
        else:
            self.child_pid = self.proc.pid
        # Into the control group before the first request: no student code has run yet.
        if self.child_pid is not None and self._group.kind != "none":
            if not self._group.join(self.child_pid):
                self._group.remove()
                self._group.kind = "none"
        self._monitor = threading.Thread(target=self._watch, daemon=True)
        self._monitor.start()

    def read_flags(self) -> list[str]:
        """What the worker noted so far (it writes each note the moment it happens)."""
        fd = getattr(self, "_flags", None)
        if fd is None:
            return []
        while len(self._flag_text) < 2**20:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                break
            self._flag_text += chunk
        lines = self._flag_text.split(b"\n")
        self._flag_text = lines.pop()
        return [line.decode("utf-8", "replace")[:300] for line in lines if line.strip()][:500]

    def close(self) -> None:
        self.kill(None)
        self.pending_flags = self.read_flags()
        for fd in (getattr(self, "_req", None), getattr(self, "_rep", None),
                   getattr(self, "_flags", None)):
            if fd is not None:
                wire.forget(fd)
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._req = self._rep = self._flags = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        for folder in (self._scratch, self._link):
            if folder is not None:
                folder.cleanup()
        self._scratch = self._link = None
        if self._group is not None:
            self._group.remove()

    def kill(self, error: SandboxError | None) -> None:
        with self._lock:
            if error is not None and self.dead is None:
                self.dead = error
            self._stop.set()
            proc = self.proc
            if proc is None:
                return
            for pid in filter(None, {self.child_pid, proc.pid}):
                with contextlib.suppress(OSError):
                    if self.mode == "bwrap":
                        os.kill(pid, signal.SIGKILL)
                    else:
                        os.killpg(pid, signal.SIGKILL)
            if self.mode != "bwrap":
                for pid in _session_members(proc.pid):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read(4000).decode("utf-8", "replace")

    # ------------------------------------------------------------- requests
    def request(self, payload: dict, buffers: list, timeout: float) -> tuple[Any, list]:
        """Send one request and wait for its reply, at most ``timeout`` seconds."""
        if self.dead is not None:
            raise self.dead
        deadline = time.monotonic() + max(timeout, 0.001)
        try:
            wire.write_frame(self._req, payload, buffers)
            reply = wire.read_frame(self._rep, deadline)
        except wire.Timeout:
            self.kill(SandboxError(self.timeout_reason, f"{timeout:g} s"))
            raise self.dead from None  # type: ignore[misc]
        except (wire.Closed, BrokenPipeError, OSError) as exc:
            self._died(exc)
            raise self.dead from None  # type: ignore[misc]
        except wire.ProtocolError as exc:
            self.kill(SandboxError("protocol", str(exc)))
            raise self.dead from None  # type: ignore[misc]
        if self.dead is not None:  # the watchdog fired while we read
            raise self.dead
        return reply

    def _died(self, exc: BaseException) -> None:
        if self.dead is None and self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
            if self._group is not None and self._group.over_limit():
                self.kill(SandboxError("memory", f"over {self.limits.memory_mb} MiB "
                                                 f"({self._group.kind})"))
                return
            code = self.proc.returncode
            detail = f"exit status {code}" if code is not None else str(exc)
            if code is not None and code < 0:
                detail = f"killed by signal {-code}"
            self.kill(SandboxError("crashed", detail))
        else:
            self.kill(SandboxError("crashed", str(exc)))

    # ------------------------------------------------------------- watchdog
    def _watch(self) -> None:
        limit_rss = self.limits.memory_mb * 2**20
        group = self._group
        while not self._stop.wait(0.05):
            root = self.child_pid
            if root is None:
                continue
            if self.mode == "bwrap":
                members = _descendants(root)
            else:
                members = _session_members(self.proc.pid) if self.proc else []
            count = sum(_threads(pid) for pid in members)
            rss = sum(_rss(pid) for pid in members)
            self.peak_processes = max(self.peak_processes, len(members))
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20,
                                   group.peak_mb() if group is not None else 0.0)
            if count > self.limits.processes + 8:
                self.kill(SandboxError("processes", f"{len(members)} processes"))
                return
            if rss > limit_rss or group is not None and group.over_limit():
                self.kill(SandboxError("memory", f"{max(rss, 0) / 2**20:.0f} MiB resident"))
                return
            if group is not None and group.process_limit_hit():
                self.kill(SandboxError("processes", f"more than {self.limits.processes}"))
                return


def _data_fd(data: bytes) -> int:
    """A descriptor to read ``data`` from (an unlinked temporary file, at offset 0)."""
    handle = tempfile.TemporaryFile()
    handle.write(data)
    handle.flush()
    fd = os.dup(handle.fileno())
    handle.close()
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _read_child_pid(fd: int) -> int | None:
    data = b""
    deadline = time.monotonic() + 30
    import select

    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        with contextlib.suppress(ValueError):
            return int(json.loads(data.decode()).get("child-pid"))
    return None


def _descendants(root: int) -> list[int]:
    found, todo = [], [root]
    while todo and len(found) < 5000:
        pid = todo.pop()
        found.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as handle:
                    todo.extend(int(c) for c in handle.read().split())
            except OSError:
                continue
    return found


def _session_members(sid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:
                members.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return members


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0
