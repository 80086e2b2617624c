"""What the worker refuses, stands in for and notes · 工作进程拒绝、替代和记录的东西.

The student's code runs in the worker's process; these pieces make an honest notebook
work there (magics and ``get_ipython()`` do nothing, prints go nowhere, pyplot is loaded
only when used) and note what a submission tried (an autodiff library imported, the
grader's own modules reached for, the audit events worth a flag: files outside the
scratch folder, new processes, the network). The notes are flags in the report; the
sandbox, not this module, is what stops them.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .worker import Worker

__all__ = ["AUDIT_FILE", "AUDIT_NETWORK", "AUDIT_PROCESS", "LAZY", "Shell",
           "Sink", "clip", "writing"]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Sink(io.TextIOBase):
    """Where the student's prints go: counted, then dropped."""

    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.count += len(text)
        return len(text)


class Shell:
    """Stands in for ``get_ipython()``: magics do nothing, hooks are refused and noted."""

    def __init__(self, worker: Worker):
        object.__setattr__(self, "_worker", worker)

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    def run_cell_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    def system(self, *args: Any, **kwargs: Any) -> None:
        self._worker.flag("shell_command")

    def getoutput(self, *args: Any, **kwargs: Any) -> list:
        self._worker.flag("shell_command")
        return []

    def __getattr__(self, name: str) -> Any:
        self._worker.flag(f"ipython_hook:{name}")
        raise AttributeError(f"get_ipython().{name} is not available while grading")

    def __setattr__(self, name: str, value: Any) -> None:
        self._worker.flag(f"ipython_hook:{name}")
        raise AttributeError(f"get_ipython().{name} is not available while grading")


class _Blocker:  # its name and _Lazy's are what tests/hostile's submissions look for
    """A meta-path finder that refuses autodiff libraries (a second layer: their files are
    not in the sandbox at all) and notes attempts to reach the grader's own modules."""

    def __init__(self, worker: Worker, names: set[str]):
        self.worker = worker
        self.names = names
        here = os.path.dirname(os.path.abspath(__file__))
        self.runtime = {os.path.splitext(n)[0] for n in os.listdir(here)}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        root, _, rest = name.partition(".")
        if root == "grader" and rest and rest.partition(".")[0] not in self.runtime:
            self.worker.flag(f"grader_internals:{clip(name, 100)}")  # not here to be found
            return None
        if root in self.names:
            if self.worker.mode != "defs":  # a demo cell's import is not graded code
                self.worker.flag(f"blocked_import:{root}")
            raise ImportError(
                f"`{root}` cannot be imported while grading: this exercise is written with "
                f"NumPy only · 评分时不能导入 `{root}`：本练习只能使用 NumPy。",
                name=name,
            )
        return None

    def find_module(self, name: str, path: Any = None) -> None:  # pragma: no cover - old API
        self.find_spec(name, path)


class _Lazy:
    """Defers modules that setup cells import but graded code rarely uses (pyplot: ~1 s).

    The module is created at import and executed on first attribute access
    (:class:`importlib.util.LazyLoader`), so a setup cell that configures plots still works.
    """

    def __init__(self, names: set[str]):
        self.names = names
        self.busy = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.names or self.busy:
            return None
        import importlib.util

        self.busy = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.busy = False
        if spec is None or spec.loader is None:
            return None
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


LAZY = {"matplotlib.pyplot"}

AUDIT_PROCESS = {
    "subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.fork", "os.forkpty",
    "os.spawn", "pty.spawn", "os.startfile",
}
AUDIT_NETWORK = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"}
AUDIT_FILE = {"open", "os.listdir", "os.scandir", "os.remove", "os.rename", "os.rmdir",
               "shutil.rmtree", "os.mkdir", "os.chmod", "os.truncate", "os.utime"}


def writing(args: tuple) -> bool:
    """Whether an ``open`` audit event creates or writes (its mode, or its os.open flags)."""
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
