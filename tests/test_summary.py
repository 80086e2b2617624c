"""The class summary: statistics computed, not hard-coded; a screen's worth in the terminal,
the long form in summary.txt; ties never cut silently."""

import statistics

from grader.record.results import CellResult, NotebookResult, SubmissionResult
from grader.record.summary import exercise_table, render, reteach, screen
from grader.record.vocabulary import names_for


def _result(student: str, scores: dict[str, float], status: str = "ok",
            assignment: str = "01_x", flags=()) -> SubmissionResult:
    cells = [CellResult(ident, 2.0, score) for ident, score in scores.items()]
    return SubmissionResult(student, assignment, [NotebookResult(
        student, assignment, "x.ipynb", cells, status=status, flags=list(flags))])


CLASS = [
    _result("a", {"easy": 2, "hard": 0, "mid": 2}),
    _result("b", {"easy": 2, "hard": 0, "mid": 1}),
    _result("c", {"easy": 2, "hard": 2, "mid": 0}),
    _result("d", {"easy": 0, "hard": 0, "mid": 0}, status="blank"),
]


def test_exercise_table_counts_full_partial_and_zero():
    table = exercise_table(CLASS)["01_x"]
    assert (table["easy"]["full"], table["easy"]["partial"], table["easy"]["zero"]) == (3, 0, 1)
    assert (table["mid"]["full"], table["mid"]["partial"], table["mid"]["zero"]) == (1, 1, 2)
    assert table["hard"]["mean"] == statistics.fmean([0, 0, 2, 0])


def test_the_long_form_gives_mean_median_every_score_and_the_most_missed_first():
    text = render(CLASS)
    totals = [r.score for r in CLASS]
    assert f"median {statistics.median(totals):g}" in text
    assert f"mean {round(statistics.fmean(totals), 1):g} / 6" in text
    assert "中位数" in text and "blank 1" in text
    assert "scores: 0, 3, 4, 4" in text  # 4 rows: no 10-bin histogram
    assert "█" not in text
    reteach_part = text.split("Exercises to re-teach first")[1]
    order = [line.split("/ ")[1].split()[0] for line in reteach_part.splitlines() if "01_x /" in line]
    # among the 3 graded (the blank one says nothing): hard 2 of 3 missed, mid 2 of 3; easy 0
    assert order == ["hard", "mid"]


def test_a_large_class_gets_a_histogram():
    many = [_result(f"s{i}", {"easy": i % 3}) for i in range(12)]
    text = render(many)
    assert "█" in text
    assert sum(int(line.split()[-1]) for line in text.splitlines()
               if line.strip().endswith(tuple("0123456789")) and "–" in line) == 12


def test_ties_are_all_listed_or_counted_never_dropped():
    # 7 exercises, each missed by exactly one of two graded students
    scores = {f"e{i}": 0 for i in range(7)}
    tied = [_result("a", scores), _result("b", {k: 2 for k in scores})]
    chosen, missed = reteach(tied, top=5)
    assert len(chosen) == 7 == missed  # the 5th is tied with the 6th and 7th
    short = screen(tied, reteach_lines=4)
    assert "3 more missed by as many" in short and "另有 3 个练习" in short


def test_the_screen_fits_and_names_exercises_as_the_notebook_does():
    names = {"01_perceptron": names_for("01_perceptron")}
    cls = [_result(s, {"test_pla_train": 0, "test_radius": 2}, assignment="01_perceptron",
                   flags=["claims_other_student:bob", "late"] if s == "x" else ())
           for s in ("x", "y", "z")]
    text = screen(cls, names)
    assert "1.3 the perceptron learning algorithm" in text and "3 of 3 missed" in text
    assert "test_pla_train" not in text  # the notebook's name, not the test id
    assert "Needs your eyes: 1 submissions" in text and "claims_other_student:bob" in text
    assert "late" not in text.split("Needs your eyes")[1]  # information, not a problem
    assert max(len(line) for line in text.splitlines()) <= 110
    assert len(text.splitlines()) <= 30
