"""Starting and policing the sandboxed student process · 启动并看管沙箱中的学生进程.

On Linux with bubblewrap (Debian package ``bubblewrap``) each submission gets its
own sandbox: new user, pid, network, IPC, UTS and mount namespaces; a read-only
view of the system, the Python installation and the ``grader`` package only (no
``solutions/``, no gradebook, no other submission, no output folder); a private
``/tmp`` of limited size as its only writable place; no network; an unprivileged
user with no capabilities. The autodiff libraries' folders are hidden unless the
exercise allows them, and an import blocker refuses them anyway.

Limits: wall time per request (enforced here), CPU time, address space, file
size and open files (``setrlimit`` in the worker, before any student code), and
processes and resident memory of the whole sandbox (a watchdog thread here that
kills the sandbox; RLIMIT_NPROC is also set but does not bind when the grader
runs as root, because the sandbox user then maps to root outside). Killing the
sandbox's first process ends its pid namespace, so nothing a student started
survives the sandbox.

Without bubblewrap the worker runs as a plain child process with the same
limits, blocker and watchdog, and ``Sandbox.mode`` is ``"rlimits-only"``: the
grade report says so loudly, because such a worker can read any file the grader
can.
"""

from __future__ import annotations

import contextlib
import importlib.util
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
from pathlib import Path
from typing import Any

from . import wire
from .worker import BLOCKED_DEFAULT

__all__ = ["Limits", "Sandbox", "SandboxError", "bwrap_available", "sandbox_mode"]

GRADER_DIR = Path(__file__).resolve().parent
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class Limits:
    """Per-submission limits. Times in seconds, sizes in MiB."""

    load_seconds: float = 120.0  # setup + solution cells
    cell_seconds: float = 120.0  # one test cell (all its check calls); nbgrader allows 300
    cpu_seconds: int = 600  # CPU time of the whole sandbox process
    memory_mb: int = 2048  # address space per process, and resident memory of all
    processes: int = 32  # processes and threads in the sandbox
    scratch_mb: int = 64  # the private /tmp
    file_mb: int = 32  # largest file the student may write
    restarts: int = 3  # fresh sandboxes after a crash, per submission

    def rlimits(self) -> dict[str, int]:
        return {
            "RLIMIT_AS": self.memory_mb * 2**20,
            "RLIMIT_CPU": int(self.cpu_seconds),
            "RLIMIT_FSIZE": self.file_mb * 2**20,
            "RLIMIT_NOFILE": 256,
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
            args = [path, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc",
                    "--dev", "/dev", "--", "/bin/sh", "-c", "exit 0"]
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


# ------------------------------------------------------------------------- mounts

_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group",
        "nsswitch.conf", "fonts", "alternatives", "matplotlibrc", "mime.types")


def _module_dirs(names: tuple[str, ...]) -> list[str]:
    found = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        for location in spec.submodule_search_locations or []:
            found.append(os.path.realpath(location))
        if spec.origin and not spec.submodule_search_locations and spec.origin.endswith(".py"):
            found.append(os.path.realpath(spec.origin))
    return found


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def bwrap_args(limits: Limits, blocked: tuple[str, ...], protected: list[str],
               info_fd: int) -> list[str]:
    # The private /tmp comes first: the course itself may live under /tmp (a CI clone), and
    # later binds of the venv and grader/ must land on top of it, not be hidden by it.
    args = ["bwrap", *_namespace_args(), "--hostname", "sandbox",
            "--size", str(limits.scratch_mb * 2**20), "--tmpfs", "/tmp"]
    mounted: list[str] = []

    def ro(path: str) -> None:
        real = os.path.realpath(path)
        if os.path.exists(real) and not _under(real, mounted):
            args.extend(["--ro-bind", real, real])
            mounted.append(real)

    ro("/usr")
    for link in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(link):
            args.extend(["--symlink", os.readlink(link), link])
        elif os.path.isdir(link):
            ro(link)
    for prefix in {sys.base_prefix, sys.prefix, sys.exec_prefix,
                   os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}:
        ro(prefix)
    if sys.prefix != os.path.realpath(sys.prefix):
        args.extend(["--symlink", os.path.realpath(sys.prefix), sys.prefix])
    ro(str(GRADER_DIR))
    for name in _ETC:
        path = os.path.join("/etc", name)
        if os.path.lexists(path):
            ro(path)
    args.extend(["--proc", "/proc", "--dev", "/dev"])
    # Hide what the student must not see, if it sits under something mounted above.
    for path in [*_module_dirs(blocked), *protected]:
        real = os.path.realpath(path)
        if _under(real, mounted) and os.path.exists(real):
            if os.path.isdir(real):
                args.extend(["--tmpfs", real, "--remount-ro", real])
            else:
                args.extend(["--ro-bind", "/dev/null", real])
    cache = font_cache()
    if cache:
        args.extend(["--ro-bind", cache, f"/tmp/.matplotlib/{os.path.basename(cache)}"])
    args.extend(["--chdir", "/tmp", "--info-fd", str(info_fd), "--clearenv"])
    for key, value in _environment("/tmp", protected).items():
        args.extend(["--setenv", key, value])
    return args


_FONT_CACHE: list[str | None] = []


def font_cache() -> str | None:
    """Matplotlib's font list, built once here so no sandbox spends a second rebuilding it."""
    if not _FONT_CACHE:
        path = None
        try:
            import matplotlib
            from matplotlib import font_manager  # noqa: F401 - builds the cache if missing

            found = sorted(Path(matplotlib.get_cachedir()).glob("fontlist-*.json"))
            path = str(found[-1]) if found else None
        except Exception:  # matplotlib missing or broken: the sandbox builds its own
            path = None
        _FONT_CACHE.append(path)
    return _FONT_CACHE[0]


def _environment(home: str, protected: list[str] = ()) -> dict[str, str]:
    bindir = os.path.dirname(sys.executable)
    return {
        # The worker flags any attempt to open these, wherever they are (even under /tmp).
        "NNFS_PROTECTED": os.pathsep.join(os.path.realpath(p) for p in protected),
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",
        "NNFS_SANDBOX": "1",  # grader.plotting: no font search (it would start fc-list)
    }


# ------------------------------------------------------------------------ sandbox


@dataclass
class Sandbox:
    """One sandboxed worker process and the pipes to it."""

    limits: Limits = field(default_factory=Limits)
    mode: str = "bwrap"
    blocked: tuple[str, ...] = BLOCKED_DEFAULT
    protected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.dead: SandboxError | None = None
        self.child_pid: int | None = None
        self.peak_processes = 0
        self.peak_rss_mb = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._stderr = None
        self.pending_flags: list[str] = []

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        info_r, info_w = os.pipe()
        flag_r, flag_w = os.pipe()
        os.set_blocking(flag_r, False)
        os.set_blocking(flag_w, False)
        worker = [sys.executable, "-I", "-m", "grader.worker", str(req_r), str(rep_w), str(flag_w)]
        self._stderr = tempfile.TemporaryFile()
        if self.mode == "bwrap":
            argv = bwrap_args(self.limits, self.blocked, self.protected, info_w) + ["--", *worker]
            env, cwd, fds = None, None, (req_r, rep_w, info_w, flag_w)
        else:
            self._scratch = tempfile.TemporaryDirectory(prefix="nnfs-sandbox-")
            argv = worker
            env, cwd = _environment(self._scratch.name, self.protected), self._scratch.name
            fds = (req_r, rep_w, flag_w)
            cache = font_cache()
            if cache:
                os.makedirs(env["MPLCONFIGDIR"], exist_ok=True)
                shutil.copy(cache, env["MPLCONFIGDIR"])
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                pass_fds=fds, env=env, cwd=cwd, start_new_session=True,
            )
        finally:
            for fd in (req_r, rep_w, info_w, flag_w):
                os.close(fd)
        self._req, self._rep, self._info, self._flags = req_w, rep_r, info_r, flag_r
        self._flag_text = b""
        if self.mode != "bwrap":
            os.close(info_r)
            self._info = None
            self.child_pid = self.proc.pid
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
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

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
            self.kill(SandboxError("timeout", f"{timeout:g} s"))
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
            code = self.proc.returncode
            detail = f"exit status {code}" if code is not None else str(exc)
            if code is not None and code < 0:
                detail = f"killed by signal {-code}"
            self.kill(SandboxError("crashed", detail))
        else:
            self.kill(SandboxError("crashed", str(exc)))

    # ------------------------------------------------------------- watchdog
    def _watch(self) -> None:
        if self._info is not None:
            self.child_pid = _read_child_pid(self._info)
            os.close(self._info)
            self._info = None
        limit_rss = self.limits.memory_mb * 2**20
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
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20)
            if count > self.limits.processes + 8:
                self.kill(SandboxError("processes", f"{len(members)} processes"))
                return
            if rss > limit_rss:
                self.kill(SandboxError("memory", f"{rss / 2**20:.0f} MiB resident"))
                return


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
