"""How a failed check shows in the student's kernel and in nbgrader's Validate dialog: a first
line that counts this kernel's checks, then the exercise, lines wrapped so nothing is clipped
(the message the grade of record keeps is unchanged)."""

import unicodedata

from grader.checks import compare
from grader.checks.compare import CheckFailure, wrap_line


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


LONG = [
    "      Likely mistake: a point with y·(theta·x) = 0 must count as a mistake (use <= 0). "
    "Otherwise theta = 0 never changes, and that is a very long line indeed.",
    "      可能的错误：y·(theta·x) = 0 的点也必须算作错误（用 <= 0），否则 theta = 0 永远不会更新，"
    "这一行很长很长，必须换行才能在对话框中完整显示，一个字都不能丢。",
    "x" * 200,
]


def test_wrapped_lines_fit_and_lose_nothing():
    for line in LONG:
        pieces = wrap_line(line)
        assert len(pieces) > 1 and all(_columns(p) <= compare.WRAP_COLUMNS for p in pieces)
        assert "".join(p.strip() for p in pieces).replace(" ", "") == line.replace(" ", "")
        assert all(p.startswith("        ") for p in pieces[1:] if line.startswith("      "))
    assert wrap_line("short") == ["short"]


def test_the_first_lines_count_the_checks_and_name_the_exercise(monkeypatch):
    monkeypatch.setattr(compare, "TALLY", {"passed": 0, "failed": 0})
    compare.report_pass(compare.M.Text("Exercise 1.1 · a", "练习 1.1 · a"), 3)
    failure = CheckFailure("✗ Exercise 1.2 · b: wrong\n✗ 练习 1.2 · b：不对\n" + LONG[0])
    shown = failure._render_traceback_()
    assert "checks in this kernel so far: 1 passed, 1 failed" in shown[0]
    assert "本内核到目前为止的检查：1 项通过，1 项未通过" in shown[1]
    assert shown[2].startswith("✗ Exercise 1.2") and shown[3].startswith("✗ 练习 1.2")
    assert failure._render_traceback_() == shown  # shown twice by IPython: counted once
    assert all(_columns(line) <= compare.WRAP_COLUMNS for line in shown[2:])
    assert failure.args[0].splitlines()[2] == LONG[0]  # the kept message is not wrapped
