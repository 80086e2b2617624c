"""Questions with one right answer, auto-graded · 自动评分的问答题.

A notebook asks "predict the shape of ``dW``", "which of these is the gradient?", "what
does this cell print?" where the idea is fresh. The student answers in a cell of its
own::

    answer_q3_2 = "(5, 3)"          # the release shows: answer_q3_2 = None

and the test cell is one declarative call, like every other check::

    check("q3_2", answer_q3_2)

The right answer is not written in the release (nor anywhere in the check library): a
:class:`Question` holds a salted SHA-256 of it (:func:`digest`), and of the known wrong
answers, each with its own bilingual hint. That hides the answer from reading, not from
searching: a choice, a shape or a rounded number has few canonical forms, the salt and
the normalisation ship with the student's check, so anyone can hash every candidate
offline and find the one accepted (so can a student who simply tries answers in the
check cell). A local check that says "right" cannot do otherwise; what makes these
questions worth their point is that they are cheap to answer by thinking, and the written
answers, which carry more points, are graded by hand. The grade of record does not
depend on the secrecy: the digests are never mounted in its sandbox. Before hashing, an
answer is put in a canonical form for its ``kind``:

* ``choice``: one letter of ``choices`` (case and spaces ignored);
* ``number``: rounded to ``digits`` significant digits (``0.5`` and ``.50`` agree);
* ``shape``: a tuple of integers (``(5, 3)``, ``[5, 3]`` and ``"5x3"`` agree);
* ``text``: a short expression, lower case, spaces removed (``X.T @ dout`` = ``x.t@dout``).

Authors get a hash with ``python -m grader.checks.questions q3_2 shape "(5, 3)"`` and
write it into the assignment's table, ``digests/<assignment>.json`` next to this module:
for each question its bilingual title, ``kind`` (with ``choices`` or ``digits`` where they
matter), the digests of the accepted ``answers`` and ``hints``, the digest of a known wrong
answer -> the catalogue key of its hint (registered with the exercise module's messages).
An exercise module registers its questions with one call,
``for question in questions(ASSIGNMENT): register(question)``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.checks import messages as M
from grader.checks.compare import Case, CheckFailure, report_pass
from grader.checks.specs import Exercise

__all__ = ["Question", "canonical", "digest", "questions"]

M.register(
    {
        "question_not_answered": (
            "✗ {exercise}: not answered yet. Set `{name}` in the answer cell above.",
            "✗ {exercise}：还没有作答。请在上方的答题单元格中给 `{name}` 赋值。",
        ),
        "question_format": (
            "✗ {exercise}: the answer should be {expected}; found {found}.",
            "✗ {exercise}：答案应当是{expected}；实际是 {found}。",
        ),
        "question_wrong": (
            "✗ {exercise}: not the right answer.",
            "✗ {exercise}：答案不正确。",
        ),
        "question_choice_format": (
            "one of the letters {choices}",
            "字母 {choices} 之一",
        ),
        "question_number_format": ("a number", "一个数"),
        "question_shape_format": (
            "a shape such as (5, 3)",
            "一个形状，例如 (5, 3)",
        ),
        "question_text_format": ("a short text", "一小段文字"),
        "question_hint_default": (
            "Read the question again, then the cells just above it.",
            "请再读一遍题目，以及它上方的几个单元格。",
        ),
    }
)

_SEPARATORS = re.compile(r"[\s,x×*()\[\]]+")


def canonical(kind: str, answer: Any, choices: str = "", digits: int = 3) -> str | None:
    """The answer in the form that is hashed, or None when it is not of that kind."""
    if kind == "choice":
        text = str(answer).strip().lower().strip("()")
        return text if len(text) == 1 and text in choices.lower() else None
    if kind == "number":
        if isinstance(answer, bool):
            return None
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(value):
            return None
        return f"{value:.{digits}g}" if value != 0 else "0"
    if kind == "shape":
        if isinstance(answer, str):
            parts = [p for p in _SEPARATORS.split(answer.strip()) if p]
        elif isinstance(answer, (tuple, list)):
            parts = [str(p) for p in answer]
        else:
            return None
        if not all(re.fullmatch(r"\d+", p) for p in parts):
            return None
        return "(" + ", ".join(str(int(p)) for p in parts) + ")"
    if kind == "text":
        text = re.sub(r"\s+", "", str(answer)).lower()
        return text if 0 < len(text) <= 200 and isinstance(answer, str) else None
    raise ValueError(f"unknown question kind {kind!r}")


def digest(question: str, canonical_answer: str) -> str:
    """The salted hash a Question keeps instead of its answer (salt: the question's id)."""
    return hashlib.sha256(f"nnfs-question:{question}:{canonical_answer}".encode()).hexdigest()


@dataclass
class Question(Exercise):
    """One question; ``check(id, answer)``. ``answers`` are the digests of accepted answers;
    ``hints`` map the digest of a known wrong answer to a catalogue key explaining it."""

    kind: str = "choice"
    choices: str = ""
    digits: int = 3
    answers: Sequence[str] = ()
    hints: Mapping[str, str] = field(default_factory=dict)

    def run(self, answer: Any = None, **literal: Any) -> None:
        __tracebackhide__ = True
        name = f"answer_{self.id}"
        if answer is None or answer is Ellipsis:
            raise CheckFailure(M.bilingual("question_not_answered", exercise=self.title,
                                           name=name), kind="not_done", exercise=self.id)
        form = canonical(self.kind, answer, self.choices, self.digits)
        if form is None:
            expected = M.text(f"question_{self.kind}_format",
                              **({"choices": ", ".join(self.choices)} if self.kind == "choice"
                                 else {}))
            raise CheckFailure(M.bilingual("question_format", exercise=self.title,
                                           expected=expected, found=repr(answer)[:80]),
                               kind="type", exercise=self.id)
        hashed = digest(self.id, form)
        if hashed not in self.answers:
            hint = self.hints.get(hashed, "question_hint_default")
            raise CheckFailure("\n".join([M.bilingual("question_wrong", exercise=self.title),
                                          M.bilingual(hint, indent="  ")]),
                               exercise=self.id)
        report_pass(self.title, 1)

    def make_cases(self, **literal: Any) -> list[Case]:  # a question is its own single case
        return []


#: The assignments' tables of questions (see the module's docstring).
DIGESTS = Path(__file__).with_name("digests")


def questions(assignment: str, *ids: str) -> list[Question]:
    """The questions of ``assignment`` from its table (only ``ids``, when given), in order."""
    table = json.loads((DIGESTS / f"{assignment}.json").read_text(encoding="utf-8"))
    return [Question(id=ident, title_en=row["title"][0], title_zh=row["title"][1],
                     assignment=assignment, kind=row["kind"], choices=row.get("choices", ""),
                     digits=row.get("digits", 3), answers=tuple(row["answers"]),
                     hints=dict(row.get("hints", {})))
            for ident, row in table.items() if not ids or ident in ids]


def main(argv: list[str]) -> int:
    """``python -m grader.checks.questions ID KIND ANSWER [CHOICES]``: print the digest."""
    if len(argv) < 3:
        print(__doc__.split("\n\n")[0], "\nusage: ID KIND ANSWER [CHOICES]", file=sys.stderr)
        return 2
    question, kind, answer = argv[:3]
    form = canonical(kind, answer, argv[3] if len(argv) > 3 else "abcdefgh")
    if form is None:
        print(f"not a valid {kind} answer: {answer!r}", file=sys.stderr)
        return 2
    print(f"{form!r}: {digest(question, form)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
