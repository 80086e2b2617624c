"""grader.record.evaluate: what a failed hidden test shows the student."""

from __future__ import annotations

import pytest

from grader.record.evaluate import redact
from grader.record.sandbox import bwrap_available

needs_bwrap = pytest.mark.skipif(not bwrap_available()[0],
                                 reason="bubblewrap cannot run here: " + bwrap_available()[1])


def test_redact_keeps_header_and_hint_only():
    message = ("✗ Exercise 1 · affine: `dx` does not match\n✗ 练习 1 · 仿射:`dx` 不一致\n"
               "  Worst element at (0, 1): expected 0.5, got 0.7.\n"
               "  Likely mistake: the sign is flipped (you got exactly minus the expected value).\n"
               "  Reproduce with: seed=11, x.shape=(7, 5).")
    text = redact(message)
    assert "seed=11" not in text and "0.7" not in text and "(7, 5)" not in text
    assert "sign is flipped" in text and "hidden test" in text
