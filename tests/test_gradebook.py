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
    from sqlalchemy import text

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
    # the student hands in again with another answer: the grade given to the old one is
    # kept, but formgrader lists the answer for review again, and the row says why
    _assignment(tmp_path / "in" / "ann" / "09_tiny",
                "def add_bias(X):\n    return np.hstack([np.ones((len(X), 1)), X])",
                essay + " Without it every boundary passes through the origin.")
    again = grade(tmp_path / "in", out, options=Options(solutions=solutions), quiet=True,
                  jobs=1)[0]
    assert "answer_changed:why_bias" in again.flags
    again = grade(tmp_path / "in", out, options=Options(solutions=solutions), quiet=True,
                  jobs=1, force=True)[0]
    assert "answer_changed:why_bias" in again.flags  # said until the instructor has looked
    url = f"sqlite:///{out / 'gradebook.db'}"
    with Gradebook(url) as gb:
        manual = gb.find_grade("why_bias", "tiny", "09_tiny", "ann")
        assert manual.manual_score == 1.5 and manual.needs_manual_grade
        manual.needs_manual_grade = False  # reviewed in formgrader
        gb.db.commit()
    again = grade(tmp_path / "in", out, options=Options(solutions=solutions), quiet=True,
                  jobs=1, force=True)[0]  # the same answer once more: the review stands
    assert "answer_changed:why_bias" not in again.flags
    with Gradebook(url) as gb:
        manual = gb.find_grade("why_bias", "tiny", "09_tiny", "ann")
        assert manual.manual_score == 1.5 and not manual.needs_manual_grade
        # an override of an autograded score: the instructor took the point away by hand
        auto = gb.find_grade("test_add_bias", "tiny", "09_tiny", "ann")
        auto.manual_score = 0.0
        gb.db.commit()
        gb.db.execute(text("DELETE FROM nnfs_written_answer"))  # a gradebook from before
        gb.db.commit()
    # she hands in a wrong add_bias and another answer: the override is kept but reviewed
    # again (its autograded score changed), and so is the answer (no text on record)
    _assignment(tmp_path / "in" / "ann" / "09_tiny", "def add_bias(X):\n    return X",
                essay + " Or else every boundary passes through the origin.")
    again = grade(tmp_path / "in", out, options=Options(solutions=solutions), quiet=True,
                  jobs=1)[0]
    assert {"autograde_changed:test_add_bias", "answer_changed:why_bias"} <= set(again.flags)
    with Gradebook(url) as gb:
        auto = gb.find_grade("test_add_bias", "tiny", "09_tiny", "ann")
        assert auto.manual_score == 0 and auto.auto_score == 0 and auto.needs_manual_grade
        assert gb.find_grade("why_bias", "tiny", "09_tiny", "ann").needs_manual_grade


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


def _formgrader_page(path) -> str:
    """The page formgrader's own template makes of an autograded notebook."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": "09_tiny", "notebook_id": "tiny", "submission_id": "s",
                 "index": 0, "total": 1, "base_url": "/b", "student": "s", "last_name": "",
                 "first_name": "", "notebook_path": "p"}
    return HTMLExporter(config=config).from_filename(str(path), resources=resources)[0]


def _active(html: str) -> set[str]:
    """What in ``html`` could run or load something: elements, handlers and URLs."""
    found = set()
    for tag, attrs in _tags(html):
        if tag in {"script", "img", "iframe", "svg", "object", "embed", "style", "link",
                   "meta", "form", "input", "base", "math", "textarea"}:
            found.add(f"{tag} {sorted(attrs)}")
        for name, value in attrs:
            if name.startswith("on") or "javascript:" in (value or "").lower() \
                    or (value or "").lower().startswith("data:"):
                found.add(f"{tag} {name}={value}")
    return found


def test_nothing_a_student_puts_in_the_file_becomes_markup_on_formgrader_s_page(tmp_path):
    """formgrader's template writes a cell's grade id into id="..." and its tags into
    class="...", unescaped. The copy it shows is made of the student's cell texts and the
    instructor's metadata only, so forged ids, tags, attachments, cell ids, notebook metadata
    and outputs never reach the page; what the student wrote is still there, as text."""
    solutions = tmp_path / "solutions"
    _assignment(solutions / "09_tiny", "def add_bias(X):\n    ### BEGIN SOLUTION\n"
                "    return np.hstack([np.ones((len(X), 1)), X])\n    ### END SOLUTION",
                "### BEGIN SOLUTION\nThe bias is a weight on a constant input.\n### END SOLUTION")
    answer = "def add_bias(X):\n    return np.hstack([np.ones((len(X), 1)), X])"
    payload = '"><img src=x onerror=alert(1)>'
    _assignment(tmp_path / "in" / "plain" / "09_tiny", answer, "A constant input.")
    forged = _cell("markdown", "Forged answer", grade=True, solution=True, task=False,
                   grade_id="q" + payload, points=100)
    forged_code = _cell("code", "x = 1", grade=False, solution=True, grade_id="s" + payload)
    tagged = _cell("markdown", INSTRUCTIONS)  # the instructor's own text, trusted as it is ...
    tagged.metadata["tags"] = ['"><script>alert(2)</script>']  # ... with a tag of its own
    tagged["attachments"] = {"x.svg": {"image/svg+xml": "PHN2ZyBvbmxvYWQ9YWxlcnQoMyk+"}}
    shown = _cell("code", "print('hi')")
    shown.outputs = [nbformat.v4.new_output("display_data",
                                            data={"text/html": "<script>alert(4)</script>"})]
    _assignment(tmp_path / "in" / "mallory" / "09_tiny", answer, "A constant input.",
                extra=(forged, forged_code, tagged, shown))
    path = tmp_path / "in" / "mallory" / "09_tiny" / "tiny.ipynb"
    nb = notebooks.read(path)
    nb.metadata["title"] = "<script>alert(5)</script>"
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json":
                              {"state": "</script><script>alert(6)</script>"}}
    nb.cells[4].metadata["nbgrader"]["points"] = "2<script>alert(7)</script>"
    nb.cells[2]["id"] = "x" * 65  # a cell id nbformat does not allow
    nbformat.write(nb, str(path))
    out = tmp_path / "out"
    results = {r.student: r for r in grade(tmp_path / "in", out,
                                           options=Options(solutions=solutions), quiet=True,
                                           jobs=1)}
    baseline = _active(_formgrader_page(out / "autograded" / "plain" / "09_tiny" / "tiny.ipynb"))
    copy_ = out / "autograded" / "mallory" / "09_tiny" / "tiny.ipynb"
    page = _formgrader_page(copy_)
    assert _active(page) - baseline == set()
    assert "Forged answer" in page and "alert(1)" not in page  # the text, without its id
    graded = notebooks.read(copy_)
    assert [notebooks.grade_id(c) for c in graded.cells if notebooks.grade_id(c)] == \
        ["add_bias", "test_add_bias", "why_bias"]
    assert graded.cells[4].metadata["nbgrader"]["points"] == 2  # the instructor's points
    assert all(list(c.metadata) in ([], ["nbgrader"]) for c in graded.cells)
    flags = results["mallory"].notebooks[0].flags
    assert "odd_grade_id:q???img?src?x?onerror?alert?1??" in flags, flags
    assert "odd_grade_id:s???img?src?x?onerror?alert?1??" in flags, flags
    assert "unknown_answer_cell:q???img?src?x?onerror?alert?1??" in flags, flags
    assert "points_changed:why_bias" in flags, flags
    assert not any("<" in flag or '"' in flag for flag in flags), flags
    assert results["mallory"].score == results["plain"].score == 1


def test_pages_that_cannot_be_written_cost_one_student_their_pages_not_the_class(
        tmp_path, monkeypatch, capsys):
    from grader.record import feedback

    solutions = tmp_path / "solutions"
    _assignment(solutions / "09_tiny", "def add_bias(X):\n    ### BEGIN SOLUTION\n"
                "    return np.hstack([np.ones((len(X), 1)), X])\n    ### END SOLUTION",
                "### BEGIN SOLUTION\nThe bias is a weight on a constant input.\n### END SOLUTION")
    answer = "def add_bias(X):\n    return np.hstack([np.ones((len(X), 1)), X])"
    for student in ("ann", "bo"):
        _assignment(tmp_path / "in" / student / "09_tiny", answer, "A constant input.")
    real = feedback.write_feedback

    def fragile(out, result, source, *args, **kwargs):
        if result.student == "ann":
            raise OSError(28, "No space left on device")
        return real(out, result, source, *args, **kwargs)

    monkeypatch.setattr(feedback, "write_feedback", fragile)
    out = tmp_path / "out"
    results = {r.student: r for r in grade(tmp_path / "in", out,
                                           options=Options(solutions=solutions), quiet=True,
                                           jobs=1)}
    assert results["ann"].score == results["bo"].score == 1
    assert "pages_failed" in results["ann"].flags and "pages_failed" not in results["bo"].flags
    assert (out / "autograded" / "bo" / "09_tiny" / "tiny.ipynb").is_file()
    err = capsys.readouterr().err
    assert "No space left on device" in err and "成绩不受影响" in err
    assert "ann" in (out / "grades.csv").read_text(encoding="utf-8")


def test_a_run_puts_back_into_the_gradebook_the_results_it_does_not_hold(tmp_path, capsys):
    """A gradebook deleted (or a new --db-url) must not leave the class's stored results out
    of formgrader and the LMS export: the next run writes them again, without grading."""
    import sqlite3

    from nbgrader.api import Gradebook

    solutions = tmp_path / "solutions"
    _assignment(solutions / "09_tiny", "def add_bias(X):\n    ### BEGIN SOLUTION\n"
                "    return np.hstack([np.ones((len(X), 1)), X])\n    ### END SOLUTION",
                "### BEGIN SOLUTION\nThe bias is a weight on a constant input.\n### END SOLUTION")
    for student in ("ann", "bo"):
        _assignment(tmp_path / "in" / student / "09_tiny",
                    "def add_bias(X):\n    return np.hstack([np.ones((len(X), 1)), X])",
                    "A constant input.")
    out = tmp_path / "out"
    options = Options(solutions=solutions)
    grade(tmp_path / "in", out, options=options, quiet=True, jobs=1)
    (out / "gradebook.db").unlink()
    capsys.readouterr()
    grade(tmp_path / "in", out, options=options, quiet=False, jobs=1)
    said = capsys.readouterr().out
    assert "2 stored results were not in the gradebook" in said and "没有重新评分" in said
    assert "2 submissions are unchanged since they were graded" in said  # none graded again
    assert "Grading " not in said
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for student in ("ann", "bo"):
            assert gb.find_submission("09_tiny", student).score == 1
            assert gb.find_grade("why_bias", "tiny", "09_tiny", student).needs_manual_grade
    grade(tmp_path / "in", out, options=options, quiet=False, jobs=1)
    assert "not in the gradebook" not in capsys.readouterr().out  # once put back, that is all
    (out / "gradebook.db").unlink()  # an empty database in its place (formgrader opened
    sqlite3.connect(out / "gradebook.db").close()  # before any run makes one, say): the same
    grade(tmp_path / "in", out, options=options, quiet=False, jobs=1)
    assert "2 stored results were not in the gradebook" in capsys.readouterr().out
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        assert gb.find_submission("09_tiny", "ann").score == 1


def test_a_new_gradebook_gets_the_schema_revision_alembic_reports(tmp_path):
    """open_gradebook reads the schema head in-process; nbgrader's own way (the `alembic heads`
    command of this environment) must name the same revision, and the new database carries it."""
    import os
    import sys

    import nbgrader.api
    from sqlalchemy import create_engine, text

    from grader.record.gradebook import open_gradebook, schema_revision

    bindir = os.path.dirname(sys.executable)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", bindir + os.pathsep + os.environ.get("PATH", ""))
        assert schema_revision() == nbgrader.api.get_alembic_version()
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    open_gradebook(url).close()
    with create_engine(url).connect() as connection:
        stamped = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert stamped == schema_revision()
    assert nbgrader.api.get_alembic_version is not schema_revision  # patched only while opening
