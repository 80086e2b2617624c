"""Who is graded for what: one job per (student, assignment) · 评分任务.

:func:`plan` turns what :mod:`grader.record.collect` found into jobs; every finding of
collecting (renamed, late, duplicate, claims another student, ...) reaches the row
through :attr:`Job.flags`, and only there. ``--shard K/N`` keeps the students whose hash
falls in shard K (:func:`shard_of`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from grader.checks import messages as M
from grader.record.collect import Collection, Empty

__all__ = ["Job", "plan", "parse_shard", "shard_of"]

M.register(
    {
        "batch_bad_shard": (
            "--shard must be K/N with 1 ≤ K ≤ N, for example 2/4 (got {value}).",
            "--shard 的格式必须是 K/N，且 1 ≤ K ≤ N，例如 2/4（收到的是 {value}）。",
        ),
        "batch_nothing_collected": (
            "✗ Nothing could be graded: no file of this submission could be read ({reasons}).",
            "✗ 没有可评分的内容：这份提交中没有任何文件可以读取（{reasons}）。",
        ),
        "batch_files": (
            " (it holds only: {files})",
            "（其中只有：{files}）",
        ),
        "batch_unknown_assignment": (
            "the assignment could not be told from an empty folder",
            "无法从空文件夹判断是哪份作业",
        ),
    }
)


@dataclass
class Job:
    student: str
    assignment: str
    folder: Path
    origins: list[str] = field(default_factory=list)  # where the files came from
    # what collecting found (renamed:, late, duplicate:, claims_other_student:, …): the one
    # way collect's findings reach the row's flags
    flags: list[str] = field(default_factory=list)
    empty: str = ""  # bilingual reason when nothing gradable was submitted
    status: str = "empty"  # the row's status when nothing was graded (empty, too_large)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(M.bilingual("batch_bad_shard", value=text)) from None
    if not 1 <= k <= n:
        raise ValueError(M.bilingual("batch_bad_shard", value=text))
    return k, n


def shard_of(student: str, n: int) -> int:
    """1-based shard of a student: stable across runs, machines and class lists."""
    return int(hashlib.sha1(student.encode()).hexdigest(), 16) % n + 1


def plan(collection: Collection, staging: Path, assignments: list[str] | None) -> list[Job]:
    """A job per (student, assignment); an empty folder's assignment is the only one in
    scope (``assignments``, or the only one submitted), if there is just one."""
    jobs: dict[tuple[str, str], Job] = {}
    for item in collection.submissions:
        job = jobs.setdefault((item.student, item.assignment),
                              Job(item.student, item.assignment, staging / item.student /
                                  item.assignment))
        job.origins.append(item.origin)
        job.flags += [flag for flag in item.flags if flag not in job.flags]
    in_scope = sorted(assignments or {a for _, a in jobs})
    for empty in collection.empty:
        assignment = empty.assignment or (in_scope[0] if len(in_scope) == 1 else "")
        if (empty.student, assignment) not in jobs:
            jobs[(empty.student, assignment)] = Job(
                empty.student, assignment, staging / empty.student / (assignment or "_"),
                [empty.origin], list(empty.flags), _empty_reason(empty, assignment),
                empty.status)
    return sorted(jobs.values(), key=lambda j: (j.assignment, j.student))


def _empty_reason(empty: Empty, assignment: str) -> str:
    """Why a student with nothing collected got nothing: what was there, and why each file
    that could have been their work was not read."""
    if empty.reasons:  # each reason: an English line, then a Chinese line
        english = " | ".join(r.split("\n")[0] for r in empty.reasons)
        chinese = " | ".join(r.split("\n")[-1] for r in empty.reasons)
        reason = "\n".join([M.en("batch_nothing_collected", reasons=english),
                            M.zh("batch_nothing_collected", reasons=chinese)])
    else:
        files = M.bilingual("batch_files", files=", ".join(empty.files[:5])) if empty.files \
            else ""
        reason = M.bilingual("intake_empty_submission", files=_one_line(files))
    if not assignment:
        reason += "\n" + M.bilingual("batch_unknown_assignment")
    return reason


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))
