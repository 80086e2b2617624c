"""Written answers: found, never scored · 文字作答：只查找，不评分.

A question answered in words is nbgrader's manually graded answer cell (``grade`` and
``solution`` both set). The grader does not score it: formgrader does, by hand, and its
points stay apart from the autograded total. What the grader does is find each one in the
student's notebook, tell whether anything was written beyond the released stub, and flag
what a student should not have changed: the cell deleted or renamed, its points edited.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from grader import notebooks
from grader.checks import messages as M
from grader.record.results import WrittenAnswer
from grader.record.source import SourceNotebook

__all__ = ["written_answers", "unanswered", "question_label", "STUBS"]

#: What the release holds where the answer goes (nbgrader_config.py's ``text_stub``; the plain
#: English one is nbgrader's default, for a notebook released with another configuration).
STUBS = ("YOUR ANSWER HERE · 在这里写你的答案", "YOUR ANSWER HERE")


def question_label(grade_id: str) -> M.Text:
    """``Question 1.4 · written answer`` for the answer cell ``answer_q1_4`` (its id otherwise)."""
    found = re.fullmatch(r"answer_q(\d+)_(\d+)", grade_id)
    if not found:
        return M.Text(grade_id, grade_id)
    number = f"{found[1]}.{found[2]}"
    return M.Text(f"Question {number} · written answer", f"问题 {number} · 文字作答")


#: What is not an answer however it is written: either half of the stub, in any case or
#: width (``ＹＯＵＲ ＡＮＳＷＥＲ ＨＥＲＥ``), and markdown's invisible HTML comments.
_NOT_AN_ANSWER = re.compile(r"your\s*answer\s*here|在这里写你的答案|<!--.*?(-->|$)",
                            re.IGNORECASE | re.DOTALL)


def _answered(cell: Any) -> bool:
    text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
    text = _NOT_AN_ANSWER.sub("", unicodedata.normalize("NFKC", text))
    return any(ch.isalnum() for ch in text)


def _is_written(cell: Any) -> bool:
    meta = notebooks.nbgrader_meta(cell)
    return bool(meta.get("grade")) and bool(meta.get("solution"))


def unanswered(book: SourceNotebook) -> list[WrittenAnswer]:
    """Every question of ``book`` as not answered (a notebook not handed in or unreadable)."""
    return [WrittenAnswer(q.grade_id, q.points) for q in book.written]


def written_answers(nb: Any, book: SourceNotebook) -> tuple[list[WrittenAnswer], list[str]]:
    """The student's answer to each of ``book``'s written questions, and flags for answer cells
    deleted (or renamed), unknown to the assignment, or with their points changed."""
    wanted = {q.grade_id: q for q in book.written}
    found: dict[str, Any] = {}
    flags: list[str] = []
    for cell in nb.cells:
        if not _is_written(cell):
            continue
        ident = notebooks.grade_id(cell)
        if ident not in wanted:
            given = notebooks.nbgrader_meta(cell).get("grade_id")  # a str, or not
            flags.append(f"unknown_answer_cell:{notebooks.shown_id(given)}")
            continue
        if ident in found:
            continue  # a copied cell: the first one is the answer (duplicate_grade_id says so)
        found[ident] = cell
        points = notebooks.nbgrader_meta(cell).get("points")
        try:
            changed = float(points) != wanted[ident].points
        except (TypeError, ValueError):
            changed = True
        if changed:
            flags.append(f"points_changed:{ident}")
    answers = []
    for ident, question in wanted.items():
        cell = found.get(ident)
        if cell is None:
            flags.append(f"answer_cell_deleted:{ident}")
        answers.append(WrittenAnswer(ident, question.points,
                                     answered=cell is not None and _answered(cell),
                                     digest=_digest(cell)))
    return answers, flags


def _digest(cell: Any) -> str:
    """A fingerprint of what the instructor reads: the answer's text, spaces at its ends aside
    (an answer cell deleted reads as empty)."""
    text = "" if cell is None else cell.source if isinstance(cell.source, str) \
        else "".join(cell.source)
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:32]
