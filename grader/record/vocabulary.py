"""One name for each exercise, in every output · 每个练习在所有输出中的同一个名字.

A notebook says "Exercise 1.3 · the perceptron learning algorithm"; the failure messages
say the same. The grader's results are kept per test cell (``test_pla_train``), so every
output (the terminal, grades, feedback, the class report, ``check`` and ``status``) names a
test cell by the exercise it checks: its number and its bilingual title, taken from the
exercise registry (:mod:`grader.checks.exercises`) through the exercise ids the test cell's
calls name (:attr:`grader.record.testcells.TestCall.exercise`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from grader.checks import messages as M
from grader.paths import SOLUTIONS

__all__ = ["ExerciseName", "names_for", "names_of", "exercise_name"]

_NUMBERED_EN = re.compile(r"^\s*Exercise\s+(?P<number>[0-9][0-9.]*[a-z]?)\s*[·:]\s*(?P<title>.*)$")
_NUMBERED_ZH = re.compile(r"^\s*练习\s*(?P<number>[0-9][0-9.]*[a-z]?)\s*[·:：]\s*(?P<title>.*)$")


@dataclass(frozen=True)
class ExerciseName:
    """How the notebook names the exercise a test cell checks."""

    grade_id: str  # the test cell, e.g. test_pla_train
    exercises: tuple[str, ...]  # the exercise ids it checks, e.g. ("pla_train",)
    number: str  # "1.3" ("" when the registry has no number for it)
    title: M.Text  # "the perceptron learning algorithm" / "感知机学习算法"
    points: float = 0.0

    @property
    def label(self) -> M.Text:
        """``Exercise 1.3 · the perceptron learning algorithm`` in each language."""
        if not self.number:
            return self.title
        return M.Text(f"Exercise {self.number} · {self.title.en}",
                      f"练习 {self.number} · {self.title.zh}")

    @property
    def short(self) -> str:
        """``1.3 the perceptron learning algorithm`` (English; for narrow tables)."""
        return f"{self.number} {self.title.en}".strip()

    @property
    def sort_key(self) -> tuple:
        parts = re.findall(r"\d+|[a-z]+", self.number)
        return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts) or ((2, self.grade_id),)


def exercise_name(grade_id: str, exercise_ids: list[str] | tuple[str, ...],
                  points: float = 0.0) -> ExerciseName:
    """The name of a test cell that checks ``exercise_ids`` (in the order the cell calls them)."""
    from grader.checks import exercises

    ids = tuple(dict.fromkeys(i for i in exercise_ids if i))
    numbers: list[str] = []
    english: list[str] = []
    chinese: list[str] = []
    for ident in ids:
        try:
            spec = exercises.get(ident)
        except KeyError:
            english.append(ident)
            chinese.append(ident)
            continue
        en = _NUMBERED_EN.match(spec.title_en)
        zh = _NUMBERED_ZH.match(spec.title_zh)
        if en and en["number"] not in numbers:
            numbers.append(en["number"])
        english.append(en["title"] if en else spec.title_en)
        chinese.append(zh["title"] if zh else spec.title_zh)
    if not english:
        english = chinese = [grade_id]
    return ExerciseName(grade_id, ids, "/".join(numbers), M.Text("; ".join(english),
                                                                  "；".join(chinese)), points)


def names_of(source) -> dict[str, ExerciseName]:
    """{test cell grade id: its exercise's name} for an :class:`AssignmentSource`."""
    found: dict[str, ExerciseName] = {}
    for book in getattr(source, "notebooks", []):
        for test in book.tests:
            found[test.grade_id] = exercise_name(
                test.grade_id, [call.exercise or "" for call in test.calls], test.points)
    return found


@functools.lru_cache(maxsize=32)
def _cached(assignment: str, solutions: str) -> dict[str, ExerciseName]:
    from grader.record.source import load_assignment

    return names_of(load_assignment(assignment, Path(solutions)))


def names_for(assignment: str, solutions: Path = SOLUTIONS) -> dict[str, ExerciseName]:
    """{grade id: name} of ``assignment``'s test cells, read from ``solutions/``."""
    return dict(_cached(assignment, str(Path(solutions).resolve())))
