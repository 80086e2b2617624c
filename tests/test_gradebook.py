"""grader.record.gradebook: what the grade of record leaves in nbgrader's gradebook."""

from __future__ import annotations

import nbformat
import pytest

from grader import notebooks
from grader.record.batch import grade
from grader.record.notebook import Options
from grader.record.sandbox import bwrap_available

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not bwrap_available()[0],
                                 reason="bubblewrap cannot run here: " + bwrap_available()[1])]


def _cell(kind: str, source: str, **nbgrader) -> nbformat.NotebookNode:
    cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "locked": False, **nbgrader}
    return cell


def _assignment(folder, answer: str, essay: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("code", "import numpy as np\nfrom grader import check_function"),
        _cell("code", answer, grade=False, solution=True, grade_id="add_bias"),
        _cell("code", 'check_function("add_bias", add_bias, seeds=[0], shapes=[(4, 2)])',
              grade=True, solution=False, grade_id="test_add_bias", points=1, locked=True),
        _cell("markdown", essay, grade=True, solution=True, grade_id="why_bias", points=2),
    ]
    nb.cells[0].metadata["tags"] = ["setup"]
    notebooks.write_clean(nb, folder / "tiny.ipynb")


def test_an_answer_graded_by_hand_waits_for_the_instructor_in_the_gradebook(tmp_path):
    from nbgrader.api import Gradebook

    solutions = tmp_path / "solutions"
    _assignment(solutions / "09_tiny", "def add_bias(X):\n    ### BEGIN SOLUTION\n"
                "    return np.hstack([np.ones((len(X), 1)), X])\n    ### END SOLUTION",
                "### BEGIN SOLUTION\nThe bias is a weight on a constant input.\n### END SOLUTION")
    essay = "A constant feature 1 lets theta[0] play the bias."
    _assignment(tmp_path / "in" / "ann" / "09_tiny",
                "def add_bias(X):\n    return np.hstack([np.ones((len(X), 1)), X])", essay)
    out = tmp_path / "out"
    result = grade(tmp_path / "in", out, options=Options(solutions=solutions), quiet=True,
                   jobs=1)[0]
    assert result.score == result.max_score == 1  # the autograded total leaves the essay out
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        manual = gb.find_grade("why_bias", "tiny", "09_tiny", "ann")
        assert manual.needs_manual_grade and manual.manual_score is None
        assert manual.max_score == 2
        auto = gb.find_grade("test_add_bias", "tiny", "09_tiny", "ann")
        assert auto.auto_score == 1 and not auto.needs_manual_grade
        manual.manual_score, manual.needs_manual_grade = 1.5, False  # graded in formgrader ...
        gb.db.commit()
    grade(tmp_path / "in", out, options=Options(solutions=solutions), quiet=True, jobs=1,
          force=True)  # ... and a regrade keeps that grade
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        manual = gb.find_grade("why_bias", "tiny", "09_tiny", "ann")
        assert manual.manual_score == 1.5 and not manual.needs_manual_grade
    autograded = notebooks.read(out / "autograded" / "ann" / "09_tiny" / "tiny.ipynb")
    assert any(essay in c.source for c in autograded.cells)  # formgrader shows what they wrote
