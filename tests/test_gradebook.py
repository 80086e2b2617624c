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


INSTRUCTIONS = "## Why a bias? <b>Think</b> of a line through the origin."


def _assignment(folder, answer: str, essay: str, extra: tuple = ()) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("markdown", INSTRUCTIONS),
        _cell("code", "import numpy as np\nfrom grader import check_function"),
        _cell("code", answer, grade=False, solution=True, grade_id="add_bias"),
        _cell("code", 'check_function("add_bias", add_bias, seeds=[0], shapes=[(4, 2)])',
              grade=True, solution=False, grade_id="test_add_bias", points=1, locked=True),
        _cell("markdown", essay, grade=True, solution=True, grade_id="why_bias", points=2),
        *extra,
    ]
    nb.cells[1].metadata["tags"] = ["setup"]
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


def _tags(html: str) -> list[tuple[str, list]]:
    """Every element the browser would build from ``html``, with its attributes."""
    from html.parser import HTMLParser

    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Parser().feed(html)
    return found


HOSTILE = ("My answer <script>alert(1)</script><img src=x onerror=alert(2)> "
           "[click](javascript:alert(3)) [too](&#106;avascript:alert(4)) <javascript:alert(5)>\n"
           "```\n</code></pre><script>alert(6)</script>\n```")


def test_what_formgrader_shows_of_a_student_s_text_is_never_html(tmp_path):
    """formgrader renders markdown cells as they are: an answer's <script> would run in the
    instructor's browser with the instructor's Jupyter session. What the grade of record
    leaves for formgrader shows a student's text as text, and the instructor's as written."""
    from nbconvert.filters.markdown import markdown2html

    solutions = tmp_path / "solutions"
    _assignment(solutions / "09_tiny", "def add_bias(X):\n    ### BEGIN SOLUTION\n"
                "    return np.hstack([np.ones((len(X), 1)), X])\n    ### END SOLUTION",
                "### BEGIN SOLUTION\nThe bias is a weight on a constant input.\n### END SOLUTION")
    raw = nbformat.v4.new_raw_cell("<script>alert(7)</script>")
    note = _cell("markdown", "A note of mine: <iframe src=javascript:alert(8)></iframe>")
    _assignment(tmp_path / "in" / "ann" / "09_tiny",
                "def add_bias(X):\n    return np.hstack([np.ones((len(X), 1)), X])", HOSTILE,
                extra=(raw, note))
    _assignment(tmp_path / "in" / "bo" / "09_tiny", "def add_bias(X):\n    return X",
                "YOUR ANSWER HERE · 在这里写你的答案")
    out = tmp_path / "out"
    grade(tmp_path / "in", out, options=Options(solutions=solutions), quiet=True, jobs=1)
    autograded = notebooks.read(out / "autograded" / "ann" / "09_tiny" / "tiny.ipynb")
    html = "\n".join(markdown2html(c.source) for c in autograded.cells
                     if c.cell_type == "markdown")
    tags = _tags(html)
    assert not {t for t, _ in tags} & {"script", "img", "iframe"}, tags
    assert not [a for _, attrs in tags for a, _ in attrs if a.startswith("on")], tags
    links = [v for t, attrs in tags if t == "a" for a, v in attrs if a == "href"]
    assert all(v.startswith("#") for v in links), links  # the instructor's heading anchors only
    assert "alert(1)" in html and "alert(7)" in html  # shown, as text, for the instructor to read
    assert autograded.cells[0].source == INSTRUCTIONS  # the instructor's own text stays rendered
    assert "<b>Think</b>" in markdown2html(autograded.cells[0].source)
    assert not any(c.cell_type == "raw" for c in autograded.cells)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        blank = gb.find_grade("why_bias", "tiny", "09_tiny", "bo")
        assert blank.auto_score == 0 and not blank.needs_manual_grade  # as nbgrader's autograde
        assert gb.find_grade("why_bias", "tiny", "09_tiny", "ann").needs_manual_grade
