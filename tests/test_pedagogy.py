"""The notebooks teach a method and then ask students to use it (issues #19, #20).

For every assignment of the student release:

* no answer of a graded exercise is printed before the exercise: each exercise lists the
  formula text of its answer (``answer_text`` on its spec, next to the exercise) and none
  of it may appear in a cell above the exercise's solution cell, outside a folded
  ``<details>`` hint;
* exercises are headings (``### Exercise 3.3 · … · 练习 3.3 · …``), so JupyterLab's table
  of contents lists them, numbered as the exercise registry titles them;
* the notebook opens with goals, prerequisites, how to check one's work and a time
  estimate;
* 3 to 6 questions, auto-graded ones through grader.checks.questions and one or two
  graded by hand (nbgrader manual answer cells).

An assignment whose notebook does not do this yet is listed in ``NOT_YET`` with a strict
expected failure: the list says what is left, and finishing one makes its test pass
unexpectedly, which fails until it is taken off the list.
"""

from __future__ import annotations

import re

import pytest

from grader import notebooks
from grader.checks import exercises
from grader.checks.questions import Question
from grader.paths import COURSE, assignments
from grader.record.source import load_assignment

#: What each assignment does not do yet, per test (see the module docstring).
ALL = {"01_perceptron", "02_mlp", "03_backprop", "04_autodiff", "05_training", "06_autoencoders"}
DONE = {"01_perceptron", "02_mlp", "03_backprop", "04_autodiff", "05_training", "06_autoencoders"}
NOT_YET = {
    "answers": ALL - DONE,
    "headings": ALL - DONE,
    "opening": ALL - DONE,
    "questions": ALL - DONE,
}

_DETAILS = re.compile(r"<details>.*?</details>", re.S | re.I)
_HEADING = re.compile(r"^#{2,4}\s+(Exercise|Question)\s+(\d+\.\d+[a-z]?)\s+·\s+.+\s+·\s+"
                      r"(练习|问题)\s+(\d+\.\d+[a-z]?)\s+·\s+.+$", re.M)


def _release(assignment: str):
    return notebooks.read(sorted((COURSE / assignment).glob("*.ipynb"))[0])


def _text(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _squeeze(text: str) -> str:
    return re.sub(r"[\s`$]+", "", text).lower()


def _exercise_positions(assignment: str, nb) -> dict[str, int]:
    """Exercise id -> index of the solution cell its first test cell checks."""
    index = {notebooks.grade_id(c): i for i, c in enumerate(nb.cells) if notebooks.grade_id(c)}
    found: dict[str, int] = {}
    for book in load_assignment(assignment).notebooks:
        for test in book.tests:
            solution = test.grade_id.removeprefix("test_")
            for call in test.calls:
                if call.exercise and call.exercise not in found and solution in index:
                    found[call.exercise] = index[solution]
    return found


def _params(what: str) -> list:
    left = NOT_YET[what]
    return [pytest.param(a, marks=[pytest.mark.xfail(strict=True, reason="not done yet (NOT_YET)")]
                         if a in left else []) for a in assignments()]


@pytest.mark.parametrize("assignment", _params("answers"))
def test_no_answer_is_printed_before_its_exercise(assignment):
    nb = _release(assignment)
    positions = _exercise_positions(assignment, nb)
    listed, leaks = 0, []
    for ident, position in positions.items():
        spec = exercises.get(ident)
        fragments = [_squeeze(f) for f in getattr(spec, "answer_text", ())]
        listed += bool(fragments)
        before = _squeeze("\n".join(_DETAILS.sub("", _text(c)) for c in nb.cells[:position]))
        leaks += [(ident, f) for f in fragments if f in before]
    assert listed, "no exercise of this assignment lists its answer_text"
    assert not leaks, leaks


@pytest.mark.parametrize("assignment", _params("headings"))
def test_every_exercise_is_a_numbered_heading(assignment):
    nb = _release(assignment)
    text = "\n".join(_text(c) for c in nb.cells if c.cell_type == "markdown")
    headings = {m.group(2): m for m in _HEADING.finditer(text)}
    missing = []
    for ident in _exercise_positions(assignment, nb):
        spec = exercises.get(ident)
        number = re.search(r"(\d+\.\d+[a-z]?)", spec.title_en)
        if number and number.group(1) not in headings:
            missing.append((ident, spec.title_en))
    assert not missing, missing
    assert all(m.group(2) == m.group(4) for m in headings.values())


@pytest.mark.parametrize("assignment", _params("opening"))
def test_the_notebook_opens_with_goals_prerequisites_checking_and_time(assignment):
    opening = "\n".join(_text(c) for c in _release(assignment).cells[:8]).lower()
    for words in (("goal", "目标"), ("prerequisite", "先修"), ("validate", "grader check"),
                  ("float64", "1e-15"), ("minutes", "分钟")):
        assert all(w.lower() in opening for w in words), words


@pytest.mark.parametrize("assignment", _params("questions"))
def test_three_to_six_questions_one_or_two_graded_by_hand(assignment):
    nb = _release(assignment)
    auto = {call.exercise for book in load_assignment(assignment).notebooks
            for test in book.tests for call in test.calls
            if isinstance(exercises.all_exercises().get(call.exercise or ""), Question)}
    manual = [c for c in nb.cells if c.cell_type == "markdown"
              and notebooks.nbgrader_meta(c).get("grade")
              and notebooks.nbgrader_meta(c).get("solution")]
    assert 3 <= len(auto) + len(manual) <= 6, (sorted(auto), len(manual))
    assert 1 <= len(manual) <= 2 and auto
