"""grader.record.written: the written answers (graded by hand) found in a student's notebook,
answered or blank, and the flags for answer cells deleted, renamed, forged or re-pointed."""

from __future__ import annotations

import copy

import nbformat
import pytest

from grader import notebooks
from grader.paths import COURSE, SOLUTIONS
from grader.record.flags import describe_flag, needs_attention
from grader.record.source import load_assignment
from grader.record.written import STUBS, question_label, written_answers

ASSIGNMENT, NOTEBOOK = "01_perceptron", "perceptron.ipynb"
BOOK = next(b for b in load_assignment(ASSIGNMENT).notebooks if b.name == NOTEBOOK)
QUESTION = BOOK.written[0].grade_id  # answer_q1_4


def _release() -> nbformat.NotebookNode:
    return notebooks.read(COURSE / ASSIGNMENT / NOTEBOOK)


def _answer_cell(nb) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if notebooks.grade_id(c) == QUESTION)


def _answered_in_code_cell(text: str) -> nbformat.NotebookNode:
    """The release with ``text`` written in the answer cell turned into a code cell
    (JupyterLab's "y"), its nbgrader metadata kept."""
    nb = _release()
    cell = _answer_cell(nb)
    code = nbformat.v4.new_code_cell(text)
    code.metadata = copy.deepcopy(cell.metadata)
    nb.cells[nb.cells.index(cell)] = code
    return nb


def test_every_assignment_s_written_questions_are_found_in_its_release():
    for folder in sorted(SOLUTIONS.iterdir()):
        if not folder.is_dir():
            continue
        for book in load_assignment(folder.name).notebooks:
            nb = notebooks.read(COURSE / folder.name / book.name)
            answers, flags = written_answers(nb, book)
            assert [a.grade_id for a in answers] == [q.grade_id for q in book.written]
            assert not flags and not any(a.answered for a in answers)  # the stub is no answer
    assert BOOK.written and BOOK.written[0].points > 0


def test_the_model_answer_counts_as_answered():
    answers, flags = written_answers(notebooks.read(SOLUTIONS / ASSIGNMENT / NOTEBOOK), BOOK)
    assert [a.answered for a in answers] == [True] and not flags


@pytest.mark.parametrize("text, answered", [
    (STUBS[0], False),
    ("  \n" + STUBS[0] + "\n\n  ", False),
    (STUBS[1], False),
    ("", False),
    ("**  **\n- \n", False),  # markdown without a word
    (STUBS[0] + "\n\nNo: XOR is not linearly separable, so PLA never stops.", True),
    ("不会。XOR 不是线性可分的。", True),
    ("42", True),
    ("在这里写你的答案", False),  # half of the stub is still the stub
    ("your answer here", False),
    ("ＹＯＵＲ ＡＮＳＷＥＲ ＨＥＲＥ", False),  # in full-width letters
    ("<!-- I have no idea -->", False),  # shows nothing in the notebook
    ("<!-- unclosed comment hides the rest\nNo.", False),
    ("<!-- draft --> No: the data are not separable.", True),
    ("Here is my answer: it never stops.", True),
])
def test_an_answer_is_anything_written_beyond_the_stub(text, answered):
    nb = _release()
    _answer_cell(nb).source = text
    answers, flags = written_answers(nb, BOOK)
    assert answers[0].answered is answered and not flags


def test_an_answer_written_in_a_code_cell_still_counts():
    nb = _answered_in_code_cell("# No: XOR is not linearly separable")
    answers, flags = written_answers(nb, BOOK)
    assert answers[0].answered and not flags


def test_an_answer_written_in_a_code_cell_is_never_run():
    """Prose in a code cell is not a program: the sandbox would raise a SyntaxError or, worse,
    raise an alarm about the words (``open('/tmp/x')`` quoted in an answer)."""
    from grader.record.program import build_program

    nb = _answered_in_code_cell("open('/tmp/x', 'w')  # XOR is not separable")
    items, flags = build_program(nb, BOOK)
    assert not flags
    assert not [item for item in items if "open('/tmp/x'" in item.get("source", "")]
    assert any(item.get("label") == "perceptron" or item.get("mode") == "full"
               for item in items)  # the solution cells still run


def test_a_deleted_answer_cell_is_flagged():
    nb = _release()
    nb.cells.remove(_answer_cell(nb))
    answers, flags = written_answers(nb, BOOK)
    assert not answers[0].answered and flags == [f"answer_cell_deleted:{QUESTION}"]


def test_a_renamed_answer_cell_with_more_points_is_flagged_twice():
    nb = _release()
    cell = _answer_cell(nb)
    cell.source = "My answer, under an id of my own and worth 50 points."
    meta = notebooks.nbgrader_meta(cell)
    meta["grade_id"], meta["points"] = "answer_q9_9", 50
    answers, flags = written_answers(nb, BOOK)
    # the question keeps its own points, and a cell the assignment does not have is no answer
    assert not answers[0].answered and answers[0].points == BOOK.written[0].points
    assert flags == ["unknown_answer_cell:answer_q9_9", f"answer_cell_deleted:{QUESTION}"]


@pytest.mark.parametrize("points", [50, "2 points", None])
def test_changed_points_on_an_answer_cell_are_flagged(points):
    nb = _release()
    notebooks.nbgrader_meta(_answer_cell(nb))["points"] = points
    _, flags = written_answers(nb, BOOK)
    assert flags == [f"points_changed:{QUESTION}"]


def test_the_new_flags_are_explained_and_need_the_instructor_s_eyes():
    for flag in ("answer_cell_deleted:x", "unknown_answer_cell:x", "points_changed:x"):
        assert describe_flag(flag.split(":")[0]) is not None and needs_attention(flag)


def test_a_question_is_named_as_the_notebook_names_it():
    label = question_label("answer_q1_4")
    assert label.en == "Question 1.4 · written answer" and label.zh == "问题 1.4 · 文字作答"
    assert question_label("odd").en == "odd"


def test_an_answer_typed_into_a_code_cell_keeps_its_grading_box_in_formgrader():
    """JupyterLab's "y" turns the answer cell into a code cell: formgrader still shows the
    answer, as text, under the question's grade id and points (its score box)."""
    from grader.record.autograded import rebuilt

    nb = _answered_in_code_cell("<b>No</b>: XOR is not linearly separable")
    shown = _answer_cell(rebuilt(nb, BOOK))
    assert shown.cell_type == "markdown" and shown.source.startswith("```")
    assert "<b>No</b>" in shown.source
    assert shown.metadata["nbgrader"]["points"] == BOOK.written[0].points
