"""Limits the kernel enforces on a whole sandbox · 由内核强制的沙箱整体限制.

Two mechanisms, each on its own:

* a **control group** per sandbox (cgroup v2, or the v1 ``memory`` and ``pids``
  hierarchies) whose memory limit counts *everything* the sandbox holds: its
  processes' memory, files in its private ``/tmp``, anonymous shared memory, pipes'
  buffers. Reaching it gets the sandbox killed by the kernel; the grader reads the
  group's counters to say why. Used where the grader may create one (root, or a
  delegated cgroup v2 subtree); :attr:`ControlGroup.kind` names what applied.
* a **seccomp filter** (always, with bubblewrap) that refuses the system calls that
  create memory no file system limit sees: ``memfd_create`` and System V
  ``shmget``; syscalls of another ABI (i386, x32) are refused too.

Without a control group the grader's watchdog sums resident memory and the private
folders are size-limited tmpfs, and the report says which limits applied.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import platform
import struct
import time
from pathlib import Path

__all__ = ["ControlGroup", "seccomp_program"]

# ------------------------------------------------------------------------ seccomp

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000 | errno.EPERM
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_ARCH = {  # machine: (AUDIT_ARCH, {name: number}, first number of a foreign ABI or None)
    "x86_64": (0xC000003E, {"memfd_create": 319, "shmget": 29}, 0x40000000),
    "aarch64": (0xC00000B7, {"memfd_create": 279, "shmget": 194}, None),
}
DENIED = ("memfd_create", "shmget")


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def seccomp_program(machine: str | None = None) -> bytes | None:
    """A classic-BPF seccomp filter for bubblewrap's ``--seccomp``; None on other CPUs."""
    arch = _ARCH.get(machine or platform.machine())
    if arch is None:
        return None
    audit, numbers, foreign = arch
    body = [_insn(_LD_W_ABS, 0, 0, 0)]  # the system call number
    checks = []
    if foreign is not None:
        checks.append((_JGE_K, foreign))
    checks += [(_JEQ_K, numbers[name]) for name in DENIED]
    for index, (code, value) in enumerate(checks):
        remaining = len(checks) - index - 1
        body.append(_insn(code, remaining + 1, 0, value))  # -> deny (past the allow)
    body += [_insn(_RET_K, 0, 0, _RET_ALLOW), _insn(_RET_K, 0, 0, _RET_ERRNO)]
    head = [
        _insn(_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        _insn(_JEQ_K, 1, 0, audit),  # our ABI: go on; any other ABI: refuse
        _insn(_RET_K, 0, 0, _RET_ERRNO),
    ]
    return b"".join(head + body)


# ----------------------------------------------------------------------- cgroups

_ROOT = Path("/sys/fs/cgroup")
_COUNTER = itertools.count()


def _own_group(controller: str | None) -> Path | None:
    """This process's group in the v1 hierarchy of ``controller``, or in v2 (None)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controller is None and controllers == "":
            base = _ROOT / "unified" if (_ROOT / "unified").is_dir() else _ROOT
            return base / path.lstrip("/")
        if controller is not None and controller in controllers.split(","):
            return _ROOT / controller / path.lstrip("/")
    return None


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


class ControlGroup:
    """One sandbox's control group(s): created, joined by the sandbox, read, removed."""

    def __init__(self, memory_bytes: int, processes: int):
        self.kind = "none"  # "cgroup2" | "cgroup1" | "none"
        self.paths: list[Path] = []  # the memory group first (v1: then the pids group)
        self.memory_path: Path | None = None
        name = f"nnfs-{os.getpid()}-{next(_COUNTER)}"
        if not self._v2(name, memory_bytes, processes):
            self._v1(name, memory_bytes, processes)

    # ----------------------------------------------------------------- create
    def _v2(self, name: str, memory_bytes: int, processes: int) -> bool:
        parent = _own_group(None)
        if parent is None or not (parent / "cgroup.controllers").is_file():
            return False
        try:
            enabled = (parent / "cgroup.subtree_control").read_text().split()
        except OSError:
            return False
        if "memory" not in enabled:
            return False  # not delegated to us; enabling it would move our own processes
        group = parent / name
        try:
            group.mkdir()
        except OSError:
            return False
        self.paths = [group]
        if not _write(group / "memory.max", str(memory_bytes)):
            self.remove()
            return False
        _write(group / "memory.swap.max", "0")  # absent without swap accounting: fine
        if "pids" in enabled:
            _write(group / "pids.max", str(processes))
        self.kind, self.memory_path = "cgroup2", group
        return True

    def _v1(self, name: str, memory_bytes: int, processes: int) -> None:
        parent = _own_group("memory")
        if parent is None or not parent.is_dir():
            return
        group = parent / name
        try:
            group.mkdir()
        except OSError:
            return
        self.paths = [group]
        if not _write(group / "memory.limit_in_bytes", str(memory_bytes)):
            self.remove()
            return
        _write(group / "memory.memsw.limit_in_bytes", str(memory_bytes))  # no swap either
        self.kind, self.memory_path = "cgroup1", group
        pids = _own_group("pids")
        if pids is not None and pids.is_dir():
            with contextlib.suppress(OSError):
                (pids / name).mkdir()
                self.paths.append(pids / name)
                _write(pids / name / "pids.max", str(processes))

    # ------------------------------------------------------------------- use
    def join(self, pid: int) -> bool:
        """Move ``pid`` (the sandbox's first process, before any student code runs) in."""
        ok = bool(self.paths)
        for path in self.paths:
            ok = _write(path / "cgroup.procs", str(pid)) and ok
        return ok

    def over_limit(self) -> bool:
        """Whether the kernel refused or killed for memory in this group."""
        if self.memory_path is None:
            return False
        try:
            if self.kind == "cgroup2":
                for line in (self.memory_path / "memory.events").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key in ("oom_kill", "oom", "max") and int(value) > 0:
                        return True
                return False
            return int((self.memory_path / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def process_limit_hit(self) -> bool:
        """Whether a fork or thread was refused because the group had ``processes`` already."""
        for path in self.paths:
            try:
                for line in (path / "pids.events").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "max" and int(value) > 0:
                        return True
            except (OSError, ValueError):
                continue
        return False

    def peak_mb(self) -> float:
        if self.memory_path is None:
            return 0.0
        name = "memory.peak" if self.kind == "cgroup2" else "memory.max_usage_in_bytes"
        try:
            return int((self.memory_path / name).read_text()) / 2**20
        except (OSError, ValueError):
            return 0.0

    def remove(self) -> None:
        """Remove the groups once their processes are gone (the kernel refuses before)."""
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.paths = []
