"""Hostile submissions against the trusted grader · 用恶意提交检验可信评分.

Every submission in ``tests/hostile/`` starts from a perfect answer and attacks the
grading (redefined helpers, input transformers, edited or deleted test cells, changed
points, gradebook writes, reading solutions, background processes, ``os._exit``,
endless and interrupt-ignoring loops, memory and fork bombs, torch, hard-coded answers,
finite differences, a forged channel). They are graded in one batch together with the
plain samples and the honest submissions of ``tests/honest/``, and:

* no hostile submission gets a point it does not deserve, and every cell it did not
  attack keeps its points;
* the report flags what happened;
* every other student's result is exactly what it would be alone, the gradebook holds
  exactly the CSV's scores, and no file outside the output folder changes, even seconds
  after grading (a detached process would have had its chance).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from grader import notebooks
from grader.course.samples import samples_for
from grader.record.batch import grade
from grader.record.notebook import Options
from grader.record.sandbox import Limits, bwrap_available
from tests import hostile_corpus

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not bwrap_available()[0],
                       reason="bubblewrap cannot run here: " + bwrap_available()[1]),
]

HOSTILE = hostile_corpus.corpus("hostile")
CANARIES = {"NNFS_COURSE_SECRET": "canary-course-secret", "PGPASSWORD": "canary-db-password"}
HONEST = hostile_corpus.corpus("honest")
ASSIGNMENTS = sorted({c.assignment for c in HOSTILE + HONEST})


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    submitted, out = root / "submitted", root / "out"
    plain = []
    for assignment in ASSIGNMENTS:
        for sample in samples_for(assignment):
            path = submitted / sample.student / assignment / sample.notebook_name
            notebooks.write_clean(sample.notebook, path)
            plain.append(sample)
    from grader.paths import SOLUTIONS

    for case in HOSTILE + HONEST:
        name, _ = hostile_corpus.perfect(case.assignment)
        path = submitted / case.name / case.assignment / name
        paths = {"SOLUTIONS": str(SOLUTIONS), "OUT": str(out), "SUBMITTED": str(submitted),
                 "NOTEBOOK": str(path)}
        _, nb = hostile_corpus.build(case, paths)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(__import__("nbformat").writes(nb), encoding="utf-8")
    before = _digest(submitted)
    options = Options(limits=Limits(cell_seconds=8, load_seconds=60))
    # Secrets the grader holds while grading: tests/hostile/secret_from_the_system.py hunts them.
    saved = {key: os.environ.get(key) for key in CANARIES}
    os.environ.update(CANARIES)
    try:
        results = grade(submitted, out, options=options, jobs=2, quiet=True)
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    time.sleep(6)  # a detached background process would act now
    return {
        "results": {(r.student, r.assignment): r for r in results},
        "plain": plain,
        "out": out,
        "changed": sorted(k for k, v in _digest(submitted).items() if before.get(k) != v),
    }


def _cells(result):
    return {c.grade_id: c for nb in result.notebooks for c in nb.cells}


@pytest.mark.parametrize("case", HOSTILE, ids=[c.name for c in HOSTILE])
def test_hostile_gets_no_undeserved_point(graded, case):
    result = graded["results"][(case.name, case.assignment)]
    cells = _cells(result)
    assert cells, result
    for ident, cell in cells.items():
        if "all" in case.zero or ident in case.zero:
            assert cell.score == 0, (ident, cell.detail)
        else:
            assert cell.score == cell.points, (ident, cell.detail)
    assert result.max_score == sum(c.points for c in cells.values())
    if case.status:
        assert result.status == case.status


@pytest.mark.parametrize("case", HOSTILE, ids=[c.name for c in HOSTILE])
def test_hostile_is_flagged(graded, case):
    result = graded["results"][(case.name, case.assignment)]
    for prefix in case.flags:
        assert any(flag.startswith(prefix) for flag in result.flags), (prefix, result.flags)


@pytest.mark.parametrize("case", HONEST, ids=[c.name for c in HONEST])
def test_honest_gets_full_marks(graded, case):
    result = graded["results"][(case.name, case.assignment)]
    for ident, cell in _cells(result).items():
        assert cell.score == cell.points, (ident, cell.detail)


def test_other_students_are_unaffected(graded):
    for sample in graded["plain"]:
        result = graded["results"][(sample.student, sample.assignment)]
        failed = {c.grade_id for c in _cells(result).values() if c.score < c.points}
        assert failed == set(sample.fails), (sample.student, sample.assignment)


def test_gradebook_holds_exactly_the_csv_scores(graded):
    import csv

    from nbgrader.api import Gradebook

    with open(graded["out"] / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(graded["results"])
    with Gradebook(f"sqlite:///{graded['out'] / 'gradebook.db'}") as gb:
        for row in rows:
            submission = gb.find_submission(row["assignment"], row["student"])
            assert float(submission.score) == float(row["score"]), row["student"]


def test_no_submitted_file_changes(graded):
    assert graded["changed"] == []


def test_hidden_failures_show_no_inputs(graded):
    for result in graded["results"].values():
        for cell in _cells(result).values():
            if "[hidden call" in cell.detail:
                for leak in ("seed=", "shape=", "Leak_", "inputs:", "Worst element"):
                    assert leak not in cell.feedback, (result.student, cell.grade_id, leak)


def test_feedback_never_shows_hidden_tests(graded):
    for path in (graded["out"] / "feedback").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text, path
        assert "seeds=[11, 12]" not in text, path  # 01's hidden add_bias seeds
    for path in (graded["out"] / "autograded").rglob("*.ipynb"):
        assert "HIDDEN TESTS" not in path.read_text(encoding="utf-8"), path


SLOW_WRAPPER = '''

import functools as _functools
import time as _time


def _slowly(function):
    @_functools.wraps(function)
    def slow(*args, **kwargs):
        _time.sleep(1.5)  # well under the cell limit, every time
        return function(*args, **kwargs)
    return slow


for _name, _value in list(globals().items()):
    if callable(_value) and getattr(_value, "__module__", None) == "__main__" and \\
            not _name.startswith("_") and not isinstance(_value, type):
        globals()[_name] = _slowly(_value)
'''


def test_correct_answers_that_sleep_under_every_limit_are_stopped_by_the_notebook_budget(
        tmp_path):
    """Each call stays under the cell limit; together they would hold the worker for long."""
    import copy

    name, perfect = hostile_corpus.perfect("01_perceptron")
    sleeper = copy.deepcopy(perfect)
    last = max(i for i, c in enumerate(sleeper.cells)  # the last code answer (not a written one)
               if notebooks.is_solution_cell(c) and c.cell_type == "code")
    sleeper.cells[last].source += SLOW_WRAPPER
    for student, nb in (("sleeper", sleeper), ("honest", perfect)):
        notebooks.write_clean(nb, tmp_path / "in" / student / "01_perceptron" / name)
    budget = 12.0
    options = Options(limits=Limits(cell_seconds=8, load_seconds=30, notebook_seconds=budget))
    results = {r.student: r for r in grade(tmp_path / "in", tmp_path / "out", options=options,
                                            jobs=2, quiet=True)}
    slow, honest = results["sleeper"], results["honest"]
    assert honest.score == honest.max_score and "time_budget" not in honest.flags
    assert slow.score < slow.max_score
    assert any(f.startswith("time_budget") for f in slow.flags), slow.flags
    assert any(f.startswith("slow:") for f in slow.flags), slow.flags
    assert slow.notebooks[0].seconds < budget + 8  # the budget, plus stopping one sandbox
    stopped = [c for c in slow.notebooks[0].cells if "time budget" in c.feedback]
    assert stopped and all(c.score == 0 and "时间预算" in c.feedback for c in stopped)
