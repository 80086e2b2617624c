"""What a class run writes (issue #21, #22): one grades.csv layout, exercises.csv, totals.csv
(empty, not 0, for no submission), the LMS files against each format's documented header,
the feedback page (exercise titles, the student's own figures, nothing hidden) and the class
report page. No grading here: the results are made by hand, the LMS identities by collect."""

from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from grader.course.samples import samples_for
from grader.record.collect import collect
from grader.record.feedback import render as render_feedback
from grader.record.feedback import student_figures, write_feedback
from grader.record.lms import CANVAS_COLUMNS, MOODLE_WORKSHEET_COLUMNS, export
from grader.record.outputs import (
    EXERCISE_COLUMNS,
    GRADES_COLUMNS,
    exercise_names,
    write_collect_report,
    write_csv,
    write_exercises,
    write_report,
    write_totals,
)
from grader.record.progress import number
from grader.record.report_page import render as render_report
from grader.record.results import CellResult, NotebookResult, SubmissionResult, WrittenAnswer
from grader.record.source import load_assignment
from grader.record.summary import render as render_summary
from grader.record.summary import screen

PERCEPTRON, MLP = "01_perceptron", "02_mlp"
SOURCES = {a: load_assignment(a) for a in (PERCEPTRON, MLP)}
NAMES = exercise_names(SOURCES)


def _result(student: str, assignment: str, failing: tuple[str, ...] = (), status: str = "ok",
            flags: tuple[str, ...] = (), answered: bool = True) -> SubmissionResult:
    """A result as grading makes it: a cell per test, and the written answers (graded by hand)
    answered or left blank (unknown, none, when the grader failed)."""
    book = SOURCES[assignment].notebooks[0]
    cells = [CellResult(t.grade_id, t.points, 0.0 if t.grade_id in failing else t.points,
                        "failed" if t.grade_id in failing else "passed",
                        feedback=f"✗ {t.grade_id} failed" if t.grade_id in failing else "")
             for t in book.tests]
    written = [] if status == "error" else [WrittenAnswer(q.grade_id, q.points, answered)
                                            for q in book.written]
    return SubmissionResult(student, assignment, [NotebookResult(
        student, assignment, book.name, cells, status=status, flags=list(flags),
        message="grader broke" if status == "error" else "", written=written)])


def _rows(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with open(path, newline="", encoding=encoding) as handle:
        return list(csv.reader(handle))


CLASS = [
    _result("lina", PERCEPTRON),
    _result("wang", PERCEPTRON, failing=("test_pla_train", "test_margin"), flags=("late",),
            answered=False),
    _result("omar", PERCEPTRON, status="error"),
    _result("eve", MLP),  # handed in 02 only
]
FULL = str(int(CLASS[0].max_score))  # 01's autograded points, from the release's test cells
WANG = str(int(CLASS[1].score))  # FULL less pla_train's and margin's points
BY_HAND = {a: sum(q.points for b in SOURCES[a].notebooks for q in b.written) for a in SOURCES}


def test_grades_csv_is_one_row_per_submission_with_fixed_columns(tmp_path):
    write_csv(tmp_path / "grades.csv", CLASS, SOURCES)
    rows = _rows(tmp_path / "grades.csv")
    assert rows[0] == GRADES_COLUMNS
    assert len(rows) == 1 + len(CLASS)
    by = {r[0]: r for r in rows[1:]}
    percent = f"{100 * CLASS[1].score / CLASS[1].max_score:.1f}"
    hand = str(int(BY_HAND[PERCEPTRON]))
    assert BY_HAND[PERCEPTRON] > 0  # 01 has a written answer (Question 1.4)
    # score and max_score are the autograded part; the written answers' points stand apart
    assert by["wang"][1:8] == [PERCEPTRON, WANG, FULL, percent, hand, "1", "ok"]
    assert by["wang"][8] == "late"
    assert by["lina"][5:7] == [hand, "0"]


def test_the_summaries_say_what_waits_to_be_graded_by_hand():
    # lina's and eve's answers wait; wang left his blank; omar's notebook the grader failed on
    points = BY_HAND[PERCEPTRON] + BY_HAND[MLP]  # a blank answer waits for nothing
    line = f"By hand: 2 written answers ({int(points)} points) to grade in formgrader; " \
           "1 left blank (0); not in the scores above."
    for text in (screen(CLASS, NAMES), render_summary(CLASS, NAMES), render_report(CLASS, NAMES)):
        assert " ".join(text.split()).count(line) == 1, text
        assert "人工评分" in text
    assert "written answers, graded by hand (not in these scores)" in render_summary(CLASS, NAMES)


def test_exercises_csv_names_each_exercise_as_the_notebook_does(tmp_path):
    write_exercises(tmp_path / "exercises.csv", CLASS, NAMES)
    rows = _rows(tmp_path / "exercises.csv")
    assert rows[0] == EXERCISE_COLUMNS
    pla = next(r for r in rows if r[0] == "wang" and r[6] == "test_pla_train")
    assert pla[3:6] == ["1.3", "the perceptron learning algorithm", "感知机学习算法"]
    assert pla[7:] == ["0", "3", "failed"]
    omar = [r for r in rows if r[0] == "omar"]
    assert omar and all(r[7] == "" and r[9] == "not graded" for r in omar)


def test_totals_are_a_row_per_student_and_empty_where_nothing_was_handed_in(tmp_path):
    write_totals(tmp_path / "totals.csv", CLASS)
    rows = {r[0]: r for r in _rows(tmp_path / "totals.csv")}
    assert rows["student"] == ["student", PERCEPTRON, MLP, "total"]
    assert rows["lina"] == ["lina", FULL, "", FULL]
    assert rows["eve"] == ["eve", "", str(int(CLASS[3].max_score)), str(int(CLASS[3].max_score))]
    assert rows["omar"] == ["omar", "", "", ""]  # the grader failed: no score, not 0


# ---------------------------------------------------------------------------- LMS

def _nb(kind: str = "perfect", assignment: str = PERCEPTRON) -> str:
    import nbformat

    from grader import notebooks

    sample = next(s for s in samples_for(assignment) if s.student == kind)
    return nbformat.writes(notebooks.clean(nbformat.from_dict(sample.notebook)))


def _graded_out(tmp_path: Path, archive: Path, results: list[SubmissionResult]) -> Path:
    """OUT as `grade` leaves it: report.json, collect.json, feedback pages."""
    out = tmp_path / "out"
    out.mkdir()
    collection = collect(archive, out / "collected")
    write_collect_report(out / "collect.json", collection, archive)
    write_report(out / "report.json", results, "bwrap", names=NAMES, collection=collection)
    for result in results:
        write_feedback(out, result, SOURCES[result.assignment])
    return out


@pytest.fixture
def canvas_out(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("lina_1001_5001_perceptron.ipynb", _nb())
        z.writestr("wang_LATE_1002_5002_perceptron-1.ipynb", _nb("partly_wrong"))
    return _graded_out(tmp_path, archive, CLASS[:2] + [CLASS[3]])


def test_canvas_gradebook_csv_has_canvas_s_columns_and_ids(canvas_out):
    said = []
    export(canvas_out, "canvas", say=said.append)
    # no gradebook in OUT: the autograded part alone, and the export says so
    assert any("No gradebook at" in s and "autograded part only" in s for s in said), said
    rows = _rows(canvas_out / "lms" / "canvas-grades.csv", "utf-8-sig")
    assert rows[0] == [*CANVAS_COLUMNS, PERCEPTRON, MLP]
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[1][0] == "Points Possible" and rows[1][5] == FULL
    by = {r[0]: r for r in rows[2:]}
    assert by["lina"][1] == "1001" and by["lina"][5] == FULL
    assert by["wang"][1] == "1002" and by["wang"][5] == WANG
    # eve came from no Canvas download: her id is the login Canvas may know; no 01: empty
    assert by["eve"][1] == "" and by["eve"][3] == "eve" and by["eve"][5] == ""


def test_the_lms_grade_adds_the_grades_given_by_hand_in_formgrader(canvas_out):
    from nbgrader.api import Gradebook

    from grader.record.gradebook import Writer

    url = f"sqlite:///{canvas_out / 'gradebook.db'}"
    writer = Writer(url)
    for result in CLASS[:2] + [CLASS[3]]:
        writer.add_assignment(SOURCES[result.assignment])
        writer.record(result, SOURCES[result.assignment])
    writer.close()
    question = SOURCES[PERCEPTRON].notebooks[0].written[0].grade_id
    with Gradebook(url) as gb:
        blank = gb.find_grade(question, "perceptron", PERCEPTRON, "wang")
        assert blank.auto_score == 0 and not blank.needs_manual_grade  # as nbgrader leaves it
        lina = gb.find_grade(question, "perceptron", PERCEPTRON, "lina")
        assert lina.needs_manual_grade and lina.manual_score is None
        lina.manual_score, lina.needs_manual_grade = 1.5, False  # graded in formgrader
        gb.db.commit()
    said = []
    export(canvas_out, "canvas", say=said.append)
    rows = _rows(canvas_out / "lms" / "canvas-grades.csv", "utf-8-sig")
    by = {r[0]: r for r in rows}
    assert by["Points Possible"][5:7] == [str(int(float(FULL) + BY_HAND[PERCEPTRON])),
                                          str(int(CLASS[3].max_score + BY_HAND[MLP]))]
    assert by["lina"][5] == number(float(FULL) + 1.5)
    assert by["wang"][5] == WANG  # his blank answer scored 0
    # eve's 02 answer is not graded yet: it counts 0 and the export says so
    assert by["eve"][6] == str(int(CLASS[3].max_score))
    waiting = [s for s in said if "still wait for a grade by hand" in s]
    assert waiting and "1 written answers" in waiting[0] and f"({int(BY_HAND[MLP])} points)" \
        in waiting[0], said


def test_an_lms_export_from_a_gradebook_it_cannot_read_stops_and_writes_nothing(canvas_out):
    from grader.record.lms import ExportError

    missing = canvas_out / "elsewhere.db"
    said = []
    export(canvas_out, "canvas", db_url=f"sqlite:///{missing}", say=said.append)
    assert not missing.exists()  # never an empty gradebook made where none was
    assert any("No gradebook at" in s for s in said)
    (canvas_out / "lms").rename(canvas_out / "lms-before")
    with pytest.raises(ExportError, match="cannot be read") as refused:
        export(canvas_out, "canvas", db_url="postgresql://ta:hunter2@127.0.0.1:1/class",
               say=lambda _: None)
    assert "hunter2" not in str(refused.value) and "无法读取" in str(refused.value)
    assert not (canvas_out / "lms").exists()


def test_canvas_columns_take_the_assignment_ids_and_zero_only_when_asked(canvas_out):
    export(canvas_out, "canvas", missing_as_zero=True,
           assignment_ids={PERCEPTRON: "777"}, say=lambda _: None)
    rows = _rows(canvas_out / "lms" / "canvas-grades.csv", "utf-8-sig")
    assert rows[0][5] == f"{PERCEPTRON} (777)" and rows[0][6] == MLP
    assert {r[0]: r for r in rows}["eve"][5] == "0"


def test_canvas_feedback_zip_is_named_for_the_re_upload(canvas_out):
    export(canvas_out, "canvas", say=lambda _: None)
    with zipfile.ZipFile(canvas_out / "lms" / f"canvas-feedback-{PERCEPTRON}.zip") as z:
        names = sorted(z.namelist())
        page = z.read(names[0]).decode("utf-8")
    assert names == ["lina_1001_5001_perceptron-feedback.html",
                     "wang_LATE_1002_5002_perceptron-feedback.html"]
    assert "Exercise 1.1" in page


@pytest.fixture
def moodle_out(tmp_path):
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("Ann Lee_42_assignsubmission_file_/perceptron.ipynb", _nb())
        z.writestr("Bo Chen_43_assignsubmission_file_/hw1.ipynb", _nb("partly_wrong"))
    results = [_result("Ann_Lee", PERCEPTRON),  # results[1] loses the margin's points
               _result("Bo_Chen", PERCEPTRON, failing=("test_margin",)),
               _result("Cy", PERCEPTRON, status="error")]
    return _graded_out(tmp_path, archive, results)


def test_moodle_grading_worksheet_has_moodle_s_columns(moodle_out):
    export(moodle_out, "moodle", say=lambda _: None)
    rows = _rows(moodle_out / "lms" / f"moodle-{PERCEPTRON}.csv", "utf-8-sig")
    assert rows[0] == MOODLE_WORKSHEET_COLUMNS
    assert rows[0][0] == "Identifier" and "Grade" in rows[0] and "Last modified (grade)" in rows[0]
    by = {r[0]: r for r in rows[1:]}
    margin = next(t.points for t in SOURCES[PERCEPTRON].notebooks[0].tests if t.grade_id == "test_margin")
    assert by["Participant 42"][1:4] == ["Ann Lee", FULL, FULL]
    assert by["Participant 43"][2] == str(int(float(FULL) - margin))
    gradebook = _rows(moodle_out / "lms" / "moodle-gradebook.csv", "utf-8-sig")
    assert gradebook[0] == ["Username", PERCEPTRON]
    assert {r[0]: r[1] for r in gradebook[1:]}["Cy"] == ""  # a grader failure is no grade


def test_moodle_feedback_zip_uses_the_download_s_folders(moodle_out):
    export(moodle_out, "moodle", say=lambda _: None)
    with zipfile.ZipFile(moodle_out / "lms" / f"moodle-feedback-{PERCEPTRON}.zip") as z:
        assert sorted(z.namelist()) == [
            "Ann Lee_42_assignsubmission_file_/perceptron-feedback.html",
            "Bo Chen_43_assignsubmission_file_/perceptron-feedback.html"]


def test_report_json_names_the_exercises_and_the_students(canvas_out):
    data = json.loads((canvas_out / "report.json").read_text(encoding="utf-8"))
    assert data["exercises"][PERCEPTRON]["test_pla_train"]["exercise"] == "1.3"
    assert data["students"]["lina"]["lms"] == "canvas" and data["students"]["lina"]["lms_id"] == "1001"


# ----------------------------------------------------------------------- feedback

def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_the_feedback_page_shows_the_students_own_figures_and_only_real_pngs(tmp_path):
    import nbformat

    nb = nbformat.reads(_nb(), as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("## My <b>decision</b> boundary"))
    code = nbformat.v4.new_code_cell("plot()")
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": _png()}),
        nbformat.v4.new_output("display_data", data={
            "image/png": base64.b64encode(b"<script>alert(1)</script>").decode()}),
        nbformat.v4.new_output("display_data", data={"image/png": '"><script>x</script>'}),
    ]
    nb.cells.insert(1, code)
    path = tmp_path / "perceptron.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    figures, more = student_figures(path)
    assert len(figures) == 1 and more == 0 and figures[0][0] == "My <b>decision</b> boundary"
    page = render_feedback(CLASS[1], 0, SOURCES[PERCEPTRON], (figures, more))
    assert page.count("data:image/png;base64,") == 1
    assert "My &lt;b&gt;decision&lt;/b&gt; boundary" in page and "<script" not in page
    assert "Your figures" in page and "你的图" in page
    assert "Exercise 1.3 · the perceptron learning algorithm" in page and "练习 1.3" in page


def test_the_feedback_page_says_the_written_answers_are_graded_by_hand():
    blank = render_feedback(CLASS[1], 0, SOURCES[PERCEPTRON])
    answered = render_feedback(CLASS[0], 0, SOURCES[PERCEPTRON])
    for page in (blank, answered):
        assert "Written answers" in page and "文字作答" in page
        assert "Question 1.4 · written answer" in page and "问题 1.4" in page
        assert "not in the score above" in page
    assert "left blank" in blank and "left blank" not in answered
    assert "waits for your instructor" in answered


def test_the_feedback_page_shows_no_hidden_test(tmp_path):
    page = render_feedback(CLASS[1], 0, SOURCES[PERCEPTRON])
    assert "BEGIN HIDDEN TESTS" not in page
    hidden = [t for b in SOURCES[PERCEPTRON].notebooks for t in b.tests
              if any(c.hidden for c in t.calls)]
    for test in hidden:
        hidden_lines = [line for line in test.source.splitlines()
                        if line.strip() and line not in test.visible]
        assert not any(line in page for line in hidden_lines if "check" in line)


# ------------------------------------------------------------------- class report

def test_the_class_report_has_its_figures_and_escapes_student_text(tmp_path):
    hostile = _result("<img src=x onerror=alert(1)>", PERCEPTRON, failing=("test_radius",),
                      flags=("claims_other_student:bob",))
    page = render_report(CLASS + [hostile], NAMES)
    assert page.count("<svg ") == 4  # 2 assignments x (scores, exercises)
    assert "<script" not in page.lower()
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert "Exercise 1.5 · radius R" in page and "claims_other_student" in page
    assert 'href="feedback/lina/01_perceptron/perceptron.html"' in page
    assert "Class report" in page and "全班报告" in page


def test_the_lms_grade_is_the_gradebook_s_with_overrides_and_extra_credit(canvas_out):
    """What an instructor changes in formgrader counts in the LMS as it counts in nbgrader's
    own totals: an autograded cell's score overridden by hand, and extra credit."""
    from nbgrader.api import Gradebook

    from grader.record.gradebook import Writer

    url = f"sqlite:///{canvas_out / 'gradebook.db'}"
    writer = Writer(url)
    for result in CLASS[:2]:  # eve's 02 is not in this gradebook (graded with another one)
        writer.add_assignment(SOURCES[result.assignment])
        writer.record(result, SOURCES[result.assignment])
    writer.close()
    test = SOURCES[PERCEPTRON].notebooks[0].tests[0]
    with Gradebook(url) as gb:
        lina = gb.find_grade(test.grade_id, "perceptron", PERCEPTRON, "lina")
        assert lina.auto_score == test.points
        lina.manual_score = 0.0  # the instructor overrode a passed test (copied code, say) ...
        lina.needs_manual_grade = True  # ... and lina handed in again since: to review
        wang = gb.find_grade(test.grade_id, "perceptron", PERCEPTRON, "wang")
        wang.extra_credit = 2.0
        gb.db.commit()
        expected = {s: gb.find_submission(PERCEPTRON, s).score for s in ("lina", "wang")}
    said = []
    export(canvas_out, "canvas", say=said.append)
    by = {r[0]: r for r in _rows(canvas_out / "lms" / "canvas-grades.csv", "utf-8-sig")}
    assert by["lina"][5] == number(float(FULL) - test.points) == number(expected["lina"])
    assert by["wang"][5] == number(float(WANG) + 2) == number(expected["wang"])
    assert by["eve"][6] == str(int(CLASS[3].score))  # the autograded part, and it is said:
    assert any("1 submissions are not in the gradebook (eve/" in s for s in said), said
    assert any("1 grades given by hand wait for review" in s for s in said), said


def test_the_report_s_charts_are_well_formed_svg_that_count_what_they_show():
    """Each chart parses as XML; every bar's tooltip says the count it is drawn for, and a
    label with markup in it stays text."""
    import xml.etree.ElementTree as ET

    from grader.record.charts import exercise_bars, score_distribution

    ns = "{http://www.w3.org/2000/svg}"
    scores = [0, 3, 3, 7.5, 10, 10, 10]
    small = ET.fromstring(score_distribution(scores, 10, "Scores · 得分", "score", "n"))
    tips = [r.find(ns + "title").text for r in small.iter(ns + "rect")]
    assert tips == [f"{s}: {sum(1 for x in scores if round(x) == s)}" for s in range(11)]
    big = ET.fromstring(score_distribution([0, 55, 99, 100], 100, "t", "x", "y"))
    counts = [int(r.find(ns + "title").text.rsplit(": ", 1)[1]) for r in big.iter(ns + "rect")]
    assert len(counts) == 10 and sum(counts) == 4 and counts[0] == 1 and counts[-1] == 2
    rows = [("<b>1.1 · 感知机</b>", 3, 1, 0), ("1.2", 0, 0, 4)]
    chart = exercise_bars(rows, "t", "students", ("full", "partly", "none"),
                          ("#0f0", "#fa0", "#f00"))
    tree = ET.fromstring(chart)
    assert "<b>" not in chart and "&lt;b&gt;1.1 · 感知机&lt;/b&gt;" in chart
    odd = '"><script>alert(1)</script><x y="'  # in a title, which names the assignment
    for svg in (score_distribution([1], 2, odd, odd, odd), exercise_bars(rows, odd, odd,
                                                                         (odd,) * 3, ("red",) * 3)):
        assert "<script" not in svg and ET.fromstring(svg).get("aria-label") == odd
    bars = [r.find(ns + "title").text for r in tree.iter(ns + "rect") if r.find(ns + "title")
            is not None]
    assert bars == ["<b>1.1 · 感知机</b> — full: 3", "<b>1.1 · 感知机</b> — partly: 1",
                    "<b>1.1 · 感知机</b> — none: 0", "1.2 — full: 0", "1.2 — partly: 0",
                    "1.2 — none: 4"]
    widths = [float(r.get("width")) for r in tree.iter(ns + "rect") if r.find(ns + "title")
              is not None]
    assert widths[2] == 0 and widths[0] == pytest.approx(3 * widths[1], abs=0.3) and \
        widths[5] == pytest.approx(4 * widths[1], abs=0.3)  # drawn to a tenth of a pixel
    assert ET.fromstring(score_distribution([], 0, "t", "x", "y")) is not None  # nothing graded

    def counts(scores, maximum):
        tree = ET.fromstring(score_distribution(scores, maximum, "t", "x", "y"))
        return [int(r.find(ns + "title").text.rsplit(": ", 1)[1]) for r in tree.iter(ns + "rect")]

    assert counts([0.5, 1.5, 2.5, 3], 3) == [0, 1, 1, 2]  # halves count up, not to even
    assert counts([-1, 4, float("nan")], 3) == [1, 0, 0, 1]  # outside: at the nearer end
    assert sum(counts([17.5, 17.5, 3], 17.5)) == 3 and counts([17.5], 17.5)[-1] == 1
    assert counts([0.3], 0.3)[-1] == 1 and counts([0, 0], 0) == [2, 0]
    odd_text = "a\x07b\x1b\ud800"  # characters XML does not allow: the SVG still parses
    ET.fromstring(exercise_bars([(odd_text, 1, 0, 0)], odd_text, "s", ("f", "p", "n"),
                                ("red",) * 3))


def test_chart_ticks_are_whole_numbers_that_reach_the_top():
    from grader.record.charts import integer_ticks

    for top in (0, 1, 5, 6, 7, 13, 40, 99, 250, 1001):
        ticks = integer_ticks(top)
        assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) <= 7, (top, ticks)
        steps = {b - a for a, b in zip(ticks, ticks[1:])}
        assert len(steps) == 1 and str(steps.pop()).rstrip("0") in ("1", "2", "5"), ticks
