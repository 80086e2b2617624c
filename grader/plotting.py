"""Bilingual figure labels · 双语图表标签 — the public name notebooks import.

The code lives in :mod:`grader.runtime.plotting` because the grading sandbox needs it
too (a setup cell imports ``label``), and the sandbox sees only :mod:`grader.runtime`.
"""

from grader.runtime.plotting import *  # noqa: F403 - the same names, one implementation
from grader.runtime.plotting import __all__  # noqa: F401
