"""Scores into nbgrader's gradebook · 把分数写入 nbgrader 成绩册.

The trusted grader writes the same rows nbgrader's own ``generate_assignment``
(assignment, notebooks, grade and solution cells) and ``autograde`` (student,
submission, one auto score per grade cell) would, through ``nbgrader.api``, so
``formgrader``, ``generate_feedback`` and ``export`` keep working. It also writes
the graded notebook to ``autograded/<student>/<assignment>/`` with the
instructor's *visible* test cells and their results as outputs (hidden tests are
never written there: nbgrader's feedback would show them).

Any database nbgrader accepts works (``sqlite:///...`` by default,
``postgresql://...`` for a class graded by several machines).
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from . import notebooks

if TYPE_CHECKING:  # pragma: no cover
    from .grade import AssignmentSource, SubmissionResult

__all__ = ["Writer", "write_autograded"]


class Writer:
    """One gradebook connection; ``record`` is idempotent (a re-run updates the same rows)."""

    def __init__(self, db_url: str):
        from nbgrader.api import Gradebook

        # nbgrader runs the `alembic` command of its own environment when it opens a database
        bindir = os.path.dirname(sys.executable)
        if bindir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
        self.gradebook = Gradebook(db_url)

    def close(self) -> None:
        self.gradebook.close()

    def add_assignment(self, source: AssignmentSource) -> None:
        gb = self.gradebook
        gb.update_or_create_assignment(source.name)
        for book in source.notebooks:
            name = Path(book.name).stem
            gb.update_or_create_notebook(name, source.name)
            for cell in book.cells:
                if cell["grade"]:
                    gb.update_or_create_grade_cell(
                        cell["grade_id"], name, source.name, max_score=cell["points"],
                        cell_type=cell["cell_type"])
                if cell["solution"]:
                    gb.update_or_create_solution_cell(cell["grade_id"], name, source.name)
                if cell["grade"] and not cell["solution"]:
                    gb.update_or_create_source_cell(
                        cell["grade_id"], name, source.name, cell_type=cell["cell_type"],
                        locked=True, source=cell["source"])

    def record(self, result: SubmissionResult, source: AssignmentSource) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy autoflush notes from nbgrader.api
            self._record(result, source)

    def _record(self, result: SubmissionResult, source: AssignmentSource) -> None:
        gb = self.gradebook
        if source.error:
            return
        gb.update_or_create_student(result.student)
        kwargs = {}
        if result.timestamp:
            with contextlib.suppress(Exception):
                from nbgrader.utils import parse_utc

                parse_utc(result.timestamp)
                kwargs["timestamp"] = result.timestamp
        submission = gb.update_or_create_submission(result.assignment, result.student, **kwargs)
        for nb_result in result.notebooks:
            name = Path(nb_result.notebook).stem
            for cell in nb_result.cells:
                try:
                    grade = gb.find_grade(cell.grade_id, name, result.assignment, result.student)
                except Exception:  # a cell the gradebook does not know (should not happen)
                    continue
                grade.auto_score = cell.score
                grade.needs_manual_grade = False
            for notebook in submission.notebooks:
                if notebook.name == name:
                    notebook.flagged = bool(nb_result.flags)
        gb.db.commit()


def _outputs(cell_result) -> list:
    outputs = []
    if cell_result.output:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=cell_result.output))
    if cell_result.status != "passed":
        text = cell_result.feedback or "failed"
        outputs.append(nbformat.v4.new_output("error", ename="CheckFailure", evalue=text,
                                              traceback=[text]))
    return outputs


def write_autograded(out: Path, result: SubmissionResult, folder: Path,
                     source: AssignmentSource) -> None:
    """``out/autograded/<student>/<assignment>/<notebook>`` with visible tests and results."""
    for nb_result in result.notebooks:
        if not nb_result.notebook:
            continue
        path = folder / nb_result.notebook
        candidates = [path] if path.is_file() else sorted(folder.glob("*.ipynb"))[:1]
        book = next((b for b in source.notebooks if b.name == nb_result.notebook), None)
        if not candidates or book is None:
            continue
        try:
            nb = notebooks.read(candidates[0])
        except Exception:
            continue
        results = {c.grade_id: c for c in nb_result.cells}
        tests = {t.grade_id: t for t in book.tests}
        seen = set()
        for cell in nb.cells:
            ident = notebooks.grade_id(cell)
            if notebooks.is_test_cell(cell) and ident in tests and ident not in seen:
                seen.add(ident)
                cell.source = tests[ident].visible
                cell.metadata["nbgrader"]["points"] = tests[ident].points
                if ident in results:
                    cell.outputs = _outputs(results[ident])
        for ident, test in tests.items():
            if ident in seen:
                continue
            cell = nbformat.v4.new_code_cell(test.visible)
            cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                         "grade_id": ident, "points": test.points,
                                         "schema_version": 3}
            if ident in results:
                cell.outputs = _outputs(results[ident])
            nb.cells.append(cell)
        target = out / "autograded" / result.student / result.assignment / nb_result.notebook
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(copy.deepcopy(nb), str(target))
