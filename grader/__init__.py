"""Neural Networks from Scratch · 从零实现神经网络 — the autograder.

Notebooks import the check functions from here; everything else is reached
through ``python -m grader``.
"""

from grader.checks.api import check, check_function, check_layer, check_loss
from grader.checks.compare import CheckFailure

__all__ = ["check", "check_layer", "check_loss", "check_function", "CheckFailure"]
__version__ = "0.1.0"
