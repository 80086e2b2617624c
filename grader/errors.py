"""Errors a person made on the command line · 命令行用法错误.

A :class:`UsageError` carries a complete bilingual message (English line, then Chinese
line); ``python -m grader`` prints it and exits with status 2, never with a traceback.
"""

from __future__ import annotations

from pathlib import Path

from grader.checks import messages as M

__all__ = ["UsageError", "require_assignments", "require_path"]

M.register(
    {
        "usage_unknown_assignment": (
            "No assignment {ident} in {root}; the assignments are: {known}.",
            "{root} 中没有作业 {ident}；现有的作业是：{known}。",
        ),
        "usage_no_such_path": (
            "{path} does not exist.",
            "{path} 不存在。",
        ),
    }
)


class UsageError(Exception):
    """A bilingual reason a command cannot do what was asked (exit status 2)."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


def require_assignments(ids: list[str] | None, root: Path) -> None:
    """Every id names an assignment folder of ``root`` (solutions/ or course/)."""
    from grader.paths import assignments

    known = assignments(root) if Path(root).is_dir() else []
    for ident in ids or []:
        if ident not in known:
            raise UsageError(M.bilingual("usage_unknown_assignment", ident=ident, root=root,
                                         known=", ".join(known) or "—"))


def require_path(path: Path) -> Path:
    if not Path(path).exists():
        raise UsageError(M.bilingual("usage_no_such_path", path=path))
    return Path(path)
