"""The class summary printed after grading: statistics computed, not hard-coded."""

import statistics

from grader.record.results import CellResult, NotebookResult, SubmissionResult
from grader.record.summary import exercise_table, render


def _result(student: str, scores: dict[str, float], status: str = "ok") -> SubmissionResult:
    cells = [CellResult(ident, 2.0, score) for ident, score in scores.items()]
    return SubmissionResult(student, "01_x", [NotebookResult(student, "01_x", "x.ipynb", cells,
                                                             status=status)])


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


def test_render_gives_mean_median_and_the_most_failed_first():
    text = render(CLASS)
    totals = [r.score for r in CLASS]
    assert f"median {statistics.median(totals):g}" in text
    assert f"mean {round(statistics.fmean(totals), 1):g} / 6" in text
    assert "中位数" in text and "blank 1" in text
    failed = text.split("Exercises most students did not get right:")[1]
    order = [line.split("/ ")[1].split()[0] for line in failed.splitlines() if "01_x /" in line]
    assert order == ["hard", "mid", "easy"]  # 3 of 4 missed, then 3 of 4 (by name), then 1
    histogram = [line for line in text.splitlines() if "%" in line and "█" in line]
    assert sum(int(line.split()[-1]) for line in text.splitlines()
               if line.strip().endswith(tuple("0123456789")) and "–" in line) == len(CLASS)
    assert histogram
