"""The instructor's pipeline end to end with nbgrader itself: build, autograde, feedback, export.

The perfect sample gets full marks, the blank release 0, and every other sample
loses exactly the points of the test cells it says it fails — as scored by
nbgrader's own autograde and by `python -m grader check`.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess

import nbformat
import pytest

from grader.course.demo import expected_score
from grader.course.selfcheck import check_notebook
from grader.paths import COURSE, assignments

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(nbgrader_graded):
    return nbgrader_graded


def test_every_sample_gets_the_score_it_deserves(graded):
    root, samples, scores = graded
    for sample in samples:
        score, top = scores[(sample.student, sample.assignment)]
        assert score == expected_score(sample), (sample.student, sample.assignment, score)
        if sample.student == "perfect":  # every autograded point; the answers graded by
            assert score == top - _points_graded_by_hand(sample.assignment) > 0  # hand wait
        if sample.student == "blank":
            assert score == 0


def _points_graded_by_hand(assignment: str) -> float:
    """The points of the release's answer cells an instructor grades by hand (nbgrader
    counts them in the maximum; autograde leaves them waiting)."""
    points = 0.0
    for path in (COURSE / assignment).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and meta.get("solution"):
                points += float(meta.get("points", 0))
    return points


# Run All on a laptop, in seconds (others 30): what a notebook may cost its student.
TIME_LIMIT = {"05_training": 60, "06_autoencoders": 60}


def _autograded(root, student: str, assignment: str):
    """nbgrader's executed copy of one sample (every cell ran in a kernel, as autograde runs)."""
    return nbformat.read(next((root / "autograded" / student / assignment).glob("*.ipynb")),
                         as_version=4)


def _cell_seconds(cell) -> float:
    from datetime import datetime

    timing = cell.metadata.get("execution", {})
    if "iopub.execute_input" not in timing or "shell.execute_reply" not in timing:
        return 0.0
    start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                  for k in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def test_the_perfect_sample_runs_every_cell_without_an_error_within_its_budget(graded):
    """The reference answers in the notebook as handed out, run top to bottom by nbgrader:
    no cell (demos and plots included) shows an error, and the cells together take less than
    the notebook's budget (twice the laptop's, CI machines are shared)."""
    root, _, _ = graded
    for assignment in assignments():
        nb = _autograded(root, "perfect", assignment)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(c.get("execution_count") for c in code), assignment
        for cell in code:
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            assert not errors, (assignment, cell.source[:200], errors[0].get("evalue"))
        seconds = sum(_cell_seconds(c) for c in code)
        assert 0 < seconds < 2 * TIME_LIMIT.get(assignment, 30) + 15, (assignment, seconds)


def test_the_blank_release_fails_only_where_an_exercise_is_not_done(graded):
    """The release run top to bottom (nbgrader's run of the blank sample): its demos and plots
    stop only because an exercise is not written yet, never on an error of their own."""
    root, _, _ = graded
    for assignment in assignments():
        nb = _autograded(root, "blank", assignment)
        failed = [(c.source[:120], o.ename, o.evalue) for c in nb.cells
                  for o in c.get("outputs", []) if o.output_type == "error"]
        assert failed, assignment  # the exercises are blank: something must stop
        for source, name, value in failed:
            assert name in ("NotImplementedError", "CheckFailure"), (assignment, source, value)


def test_a_partly_wrong_sample_exists_for_every_assignment(graded):
    _, samples, _ = graded
    for ident in assignments():
        assert any(s.assignment == ident and s.fails and s.student != "blank" for s in samples)


def test_feedback_and_csv_are_written(graded):
    root, samples, scores = graded
    for sample in samples:
        folder = root / "feedback" / sample.student / sample.assignment
        assert list(folder.glob("*.html")), folder
    with open(root / "grades.csv", newline="") as f:
        rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(f)}
    # nbgrader's export has a row for every student and assignment (0 where nothing was
    # submitted); every sample's row carries the gradebook's score.
    for sample in samples:
        key = (sample.student, sample.assignment)
        assert rows[key] == scores[key][0], key


def test_self_check_agrees_with_nbgrader(graded):
    root, samples, scores = graded
    # The samples with mistakes are the informative ones (perfect and blank are proven
    # by tests/test_notebooks.py on solutions/ and course/ directly).
    for sample in [s for s in samples if s.student not in ("perfect", "blank")]:
        path = root / "submitted" / sample.student / sample.assignment / sample.notebook_name
        results, fatal = check_notebook(path)
        assert fatal is None
        assert sum(r.score for r in results) == scores[(sample.student, sample.assignment)][0]


def test_self_check_changes_nothing(graded):
    root, samples, _ = graded
    path = root / "submitted" / "perfect" / samples[0].assignment / samples[0].notebook_name
    before = path.read_bytes()
    siblings = sorted(p.name for p in path.parent.iterdir())
    check_notebook(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == siblings


def test_self_check_reads_what_the_grade_of_record_reads(tmp_path, capsys):
    """A self-learner's notebook saved as GBK is checked; a truncated one gets a reason."""
    import json

    from grader.course.selfcheck import check_path
    from grader.paths import COURSE

    release = next((COURSE / "01_perceptron").glob("*.ipynb"))
    folder = tmp_path / "01_perceptron"
    folder.mkdir()
    text = json.dumps(json.loads(release.read_text(encoding="utf-8")), ensure_ascii=False)
    (folder / release.name).write_bytes(text.encode("gb18030"))
    assert check_path(folder) == 1  # read and graded: the blank release is not full marks
    out = capsys.readouterr().out
    autograded = sum(float(c.metadata["nbgrader"].get("points", 0)) for c in nbformat.read(
        release, as_version=4).cells if c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata["nbgrader"].get("solution"))  # answers graded by hand wait
    assert "01_perceptron/" + release.name in out and f"Not full marks yet: 0 / {autograded:g}" in out
    (folder / release.name).write_text(text[: len(text) // 2], encoding="utf-8")
    assert check_path(folder) == 2
    err = capsys.readouterr().err
    assert "cut off or corrupt" in err and "被截断或已损坏" in err


def test_make_demo_stops_before_it_would_overwrite_an_answer_in_course(tmp_path):
    """`make demo` rebuilds course/ first: with a student's answer in course/ it stops, says so in
    both languages, and leaves the answer (run on a copy of the repository: NNFS_ROOT)."""
    from grader import notebooks
    from grader.paths import COURSE, REPO, SOLUTIONS

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for folder in (SOLUTIONS, COURSE):
        shutil.copytree(folder, tmp_path / folder.name)
    shutil.copy(REPO / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    path = next((tmp_path / "course" / "01_perceptron").glob("*.ipynb"))
    nb = notebooks.read(path)
    next(c for c in nb.cells if notebooks.is_solution_cell(c)).source = "# my answer\nx = 42\n"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    before = path.read_bytes()

    env = dict(os.environ, NNFS_ROOT=str(tmp_path))
    run = subprocess.run(["make", "-s", "-o", ".venv/.installed", "demo"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode != 0
    assert "Stopped" in run.stderr and "已停止" in run.stderr, run.stderr
    assert f"01_perceptron/{path.name}" in run.stderr and "--backup" in run.stderr
    assert path.read_bytes() == before
    assert not (tmp_path / "grading").exists()  # nothing graded on a course it could not build


def test_make_demo_grades_with_the_grade_of_record_and_fits_a_screen(tmp_path, capsys):
    """`python -m grader demo` (what `make demo` runs): every sample gets its score from the
    grade of record, the summary fits a screen, the grade table fits 100 columns, and the
    outputs of a class run are written."""
    from grader.course.demo import demo
    from grader.record.outputs import GRADES_COLUMNS

    assert demo(tmp_path / "demo", jobs=2) == 0
    out = capsys.readouterr().out
    summary = out.split("Summary · 概览")[1].split("[4/4]")[0]
    lines = summary.rstrip("\n").splitlines()
    assert len(lines) <= 30, summary  # a screen, not ~150 lines for 19 notebooks
    assert max(len(line) for line in lines if "/" not in line) <= 110
    named = "\n".join(line for line in lines if str(tmp_path) not in line)
    assert "Exercises to re-teach first" in named and "test_" not in named  # 1.3, not test ids
    table = out.rsplit("[4/4]", 1)[1].split("Done in")[0]  # after the heading's Chinese line
    rows = [line for line in table.splitlines() if line.startswith(("perfect", "blank", "partly"))]
    assert rows and max(len(line) for line in rows) <= 100
    assert "(" not in table  # nbgrader's column only with --compare
    root = tmp_path / "demo"
    with open(root / "grades.csv", newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == GRADES_COLUMNS
    for name in ("exercises.csv", "totals.csv", "summary.txt", "report.html", "report.json"):
        assert (root / name).is_file(), name
    assert list((root / "feedback" / "partly_wrong").glob("*/*.html"))

