"""The auto-graded questions of assignment 02 · 作业 02 的自动评分问答题.

The salted digests of their accepted answers and of known wrong ones are in
``grader/checks/digests/02_mlp.json`` (see :mod:`grader.checks.questions`); the
hints are in :mod:`.messages`.
"""

from __future__ import annotations

from grader.checks.exercises import register
from grader.checks.exercises.mlp.common import ASSIGNMENT
from grader.checks.questions import questions

for question in questions(ASSIGNMENT):
    register(question)
