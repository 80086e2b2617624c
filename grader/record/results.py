"""What grading a submission found · 评分结果.

A :class:`SubmissionResult` (one student, one assignment) holds a
:class:`NotebookResult` per notebook, which holds a :class:`CellResult` per test cell.
Every output (grades.csv, feedback, gradebook, report.json, stored results) is written
from these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CellResult", "NotebookResult", "SubmissionResult", "Totals", "WrittenAnswer"]


class Totals:
    """What a result made of parts scores, out of what: the sums over its :meth:`parts`
    (cells, notebooks, exercises), each with a ``score`` and ``points`` (or its own
    totals). The grade of record and the students' tools (``grader check``, the course
    map) add up the same way."""

    def parts(self) -> Iterable[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def score(self) -> float:
        return sum(part.score for part in self.parts())

    @property
    def max_score(self) -> float:
        return sum(part.max_score if isinstance(part, Totals) else part.points
                   for part in self.parts())


@dataclass
class WrittenAnswer:
    """A student's answer to a question answered in words: graded by hand (formgrader),
    never by the grader. Its points are not in ``score``/``max_score`` (the autograded
    total); ``answered`` says whether anything was written beyond the released stub;
    ``digest`` is a fingerprint of the text (empty for a result stored before it existed), so
    a grade given by hand is sent back for review when the answer changes."""

    grade_id: str
    points: float
    answered: bool = False
    digest: str = ""


@dataclass
class CellResult:
    grade_id: str
    points: float
    score: float = 0.0
    status: str = "failed"  # passed | failed
    feedback: str = ""  # safe to show the student: no hidden source or inputs
    detail: str = ""  # for the instructor: may name hidden seeds
    output: str = ""  # what the visible checks printed (pass lines)
    seconds: float = 0.0
    kind: str = ""  # CheckFailure.kind of a failure (not_done, wrong, numerical, ...)


@dataclass
class NotebookResult(Totals):
    student: str
    assignment: str
    notebook: str
    cells: list[CellResult] = field(default_factory=list)
    status: str = "ok"  # ok | blank | timeout | crashed | memory | processes | protocol
    #                     | unreadable | too_large | wrong_assignment | missing | empty | error
    flags: list[str] = field(default_factory=list)
    load_errors: dict[str, str] = field(default_factory=dict)
    sandbox: str = ""
    seconds: float = 0.0
    message: str = ""
    written: list[WrittenAnswer] = field(default_factory=list)

    def parts(self) -> list[CellResult]:
        return self.cells


@dataclass
class SubmissionResult(Totals):
    student: str
    assignment: str
    notebooks: list[NotebookResult] = field(default_factory=list)
    timestamp: str | None = None

    def parts(self) -> list[NotebookResult]:
        return self.notebooks

    @property
    def status(self) -> str:
        worst = [n.status for n in self.notebooks if n.status != "ok"]
        return worst[0] if worst else "ok"

    @property
    def written(self) -> list[WrittenAnswer]:
        """Every written answer of the submission, graded by hand (not in ``score``)."""
        return [answer for nb in self.notebooks for answer in nb.written]

    @property
    def by_hand_points(self) -> float:
        """Points of the written answers: they wait for a grade by hand (formgrader)."""
        return sum(answer.points for answer in self.written)

    @property
    def blank_answers(self) -> int:
        return sum(not answer.answered for answer in self.written)

    @property
    def flags(self) -> list[str]:
        seen: dict[str, None] = {}
        for nb in self.notebooks:
            for flag in nb.flags:
                seen.setdefault(flag, None)
        return list(seen)
