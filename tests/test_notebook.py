"""grader.record.notebook: grading submissions notebook by notebook (the samples, the
outputs, the gradebook, nbgrader's own tools on them)."""

from __future__ import annotations

import csv
import os

import pytest

from grader import notebooks
from grader.course.samples import samples_for
from grader.record.batch import grade
from grader.record.notebook import Options
from grader.record.sandbox import bwrap_available

needs_bwrap = pytest.mark.skipif(not bwrap_available()[0],
                                 reason="bubblewrap cannot run here: " + bwrap_available()[1])
pytestmark = pytest.mark.slow  # real sandboxes: not in the fast lane


@pytest.fixture(scope="module")
def graded_samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("grade")
    samples = samples_for("01_perceptron")
    for sample in samples:
        notebooks.write_clean(sample.notebook, root / "submitted" / sample.student /
                              "01_perceptron" / sample.notebook_name)
    results = grade(root / "submitted", root / "out", jobs=2, quiet=True,
                    options=Options(sandbox="auto"))
    return root, samples, {r.student: r for r in results}


def test_samples_get_what_they_deserve(graded_samples):
    _, samples, results = graded_samples
    for sample in samples:
        result = results[sample.student]
        failed = {c.grade_id for nb in result.notebooks for c in nb.cells if c.score < c.points}
        assert failed == set(sample.fails), sample.student
        assert result.status == ("blank" if sample.student == "blank" else "ok")


def test_csv_has_a_row_per_submission_and_one_per_exercise(graded_samples):
    root, samples, results = graded_samples
    with open(root / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(samples)
    assert list(rows[0]) == ["student", "assignment", "score", "max_score", "percent",
                             "by_hand_points", "blank_answers", "status", "flags", "reason"]
    perfect = next(r for r in rows if r["student"] == "perfect")
    assert perfect["score"] == perfect["max_score"]
    # the written answers stand apart: answered in the perfect sample, blank in the blank one
    blank = next(r for r in rows if r["student"] == "blank"
                 and r["assignment"] == perfect["assignment"])
    assert float(perfect["by_hand_points"]) > 0 and perfect["blank_answers"] == "0"
    assert blank["by_hand_points"] == perfect["by_hand_points"] and int(blank["blank_answers"]) > 0
    with open(root / "out" / "exercises.csv", newline="", encoding="utf-8") as handle:
        exercises = list(csv.DictReader(handle))
    mine = [e for e in exercises if e["student"] == "perfect"]
    assert {e["test_cell"] for e in mine} >= {"test_add_bias"}
    assert sum(float(e["score"]) for e in mine) == float(perfect["score"])


def test_gradebook_and_feedback_are_written(graded_samples):
    from nbgrader.api import Gradebook

    root, samples, results = graded_samples
    with Gradebook(f"sqlite:///{root / 'out' / 'gradebook.db'}") as gb:
        for sample in samples:
            submission = gb.find_submission("01_perceptron", sample.student)
            assert submission.score == results[sample.student].score
    for sample in samples:
        pages = list((root / "out" / "feedback" / sample.student / "01_perceptron").glob("*.html"))
        assert pages
        text = pages[0].read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text and "seeds=[11, 12]" not in text
        assert (root / "out" / "autograded" / sample.student / "01_perceptron" /
                sample.notebook_name).is_file()


def test_without_bubblewrap_the_report_says_so(tmp_path):
    sample = next(s for s in samples_for("01_perceptron") if s.student == "perfect")
    notebooks.write_clean(sample.notebook, tmp_path / "in" / "ann" / "01_perceptron" /
                          sample.notebook_name)
    results = grade(tmp_path / "in", tmp_path / "out", jobs=1, quiet=True,
                    options=Options(sandbox="none"))
    assert results[0].score == results[0].max_score
    assert "unsandboxed" in results[0].flags
    assert os.path.exists(tmp_path / "out" / "grades.csv")


def _shifted(student: str, grade_id: str, seeds: list[int]) -> list[int]:
    return [1000 + len(student) + s for s in seeds]


def test_hidden_seeds_can_differ_per_student(tmp_path):
    samples = {s.student: s for s in samples_for("01_perceptron")}
    for name in ("perfect", "partly_wrong"):
        notebooks.write_clean(samples[name].notebook, tmp_path / "in" / name / "01_perceptron" /
                              samples[name].notebook_name)
    results = grade(tmp_path / "in", tmp_path / "out", jobs=1, quiet=True,
                    options=Options(hidden_seeds=_shifted))
    by = {r.student: r for r in results}
    assert by["perfect"].score == by["perfect"].max_score
    failed = {c.grade_id for nb in by["partly_wrong"].notebooks for c in nb.cells
              if c.score < c.points}
    assert failed == set(samples["partly_wrong"].fails)


@pytest.mark.slow
def test_nbgrader_feedback_and_export_work_on_the_output(graded_samples):
    from grader.course.build import run_nbgrader_steps

    root, samples, results = graded_samples
    out = root / "out"
    common = [f"--CourseDirectory.root={out}", f"--CourseDirectory.db_url=sqlite:///{out}/gradebook.db"]
    run_nbgrader_steps([["generate_feedback", "01_perceptron", "--force",
                         "--CourseDirectory.feedback_directory=nbgrader_feedback", *common],
                        ["export", f"--to={out / 'export.csv'}", *common]], cwd=out)
    with open(out / "export.csv", newline="", encoding="utf-8") as handle:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert exported == {s.student: results[s.student].score for s in samples}
    for sample in samples:
        page = (out / "nbgrader_feedback" / sample.student / "01_perceptron" /
                sample.notebook_name.replace(".ipynb", ".html"))
        assert "HIDDEN TESTS" not in page.read_text(encoding="utf-8")

