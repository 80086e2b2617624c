"""The graded notebook formgrader and nbgrader's feedback show · formgrader 展示的已评分 notebook.

``out/autograded/<student>/<assignment>/<notebook>`` is what nbgrader's ``formgrader``
renders in the instructor's browser, with the instructor's Jupyter session, and what its
``generate_feedback`` turns into a page. nbgrader's templates put parts of a notebook into
HTML as they are: markdown cells rendered, the grade id of a cell inside ``id="..."``, its
tags inside ``class="..."``. So nothing of the student's file reaches that copy except the
text of its cells, and it reaches it as text:

* every cell is made anew: the student's source, and for a cell the assignment has (same
  grade id, same kind of cell) the *instructor's* nbgrader metadata; a cell the assignment
  does not have carries no metadata at all (no forged grade id, points, tags or
  attachments);
* every markdown or raw cell that is not the instructor's own text becomes a fenced code
  block (shown as plain text, whatever it holds);
* the test cells are the instructor's *visible* ones with the grader's results as outputs
  (hidden tests are never written there: nbgrader's feedback would show them).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbformat.corpus.words import generate_corpus_id

from grader import notebooks
from grader.checks import messages as M
from grader.record import intake
from grader.record.terminal import error_line, printable

if TYPE_CHECKING:  # pragma: no cover
    from grader.record.results import SubmissionResult
    from grader.record.source import AssignmentSource, SourceNotebook

__all__ = ["write_pages", "write_autograded", "inert_text", "rebuilt"]

M.register({
    "pages_failed": (
        "Could not write the feedback page or formgrader's copy of {student}/{assignment} "
        "({error}); the grade stands, and the row is flagged pages_failed.",
        "无法写出 {student}/{assignment} 的反馈页面或 formgrader 的副本（{error}）；成绩不受影响，"
        "这一行带有 pages_failed 标记。",
    ),
})


def write_pages(out: Path, result: SubmissionResult, folder: Path,
                source: AssignmentSource) -> None:
    """The submission's feedback page and formgrader's copy. Whatever one student's file
    holds, a failure here costs that student's pages only, never the class run: the row is
    flagged and the run goes on."""
    from grader.record import feedback

    try:
        feedback.write_feedback(out, result, source)
        write_autograded(out, result, folder, source)
    except Exception as exc:  # noqa: BLE001 - one submission's pages, whatever went wrong
        if result.notebooks:
            result.notebooks[0].flags.append("pages_failed")
        print(printable(M.bilingual("pages_failed", student=result.student,
                                    assignment=result.assignment, error=error_line(exc, 200)),
                        lines=True),
              file=sys.stderr, flush=True)


def write_autograded(out: Path, result: SubmissionResult, folder: Path,
                     source: AssignmentSource) -> None:
    """``out/autograded/<student>/<assignment>/<notebook>`` with visible tests and results."""
    for nb_result in result.notebooks:
        if not nb_result.notebook:
            continue
        path = folder / nb_result.notebook
        candidates = [path] if path.is_file() else sorted(folder.glob("*.ipynb"))[:1]
        book = next((b for b in source.notebooks if b.name == nb_result.notebook), None)
        if not candidates or book is None:
            continue
        try:  # outputs stripped, encodings and old formats repaired, as when it was graded
            submitted, _ = intake.read_submission(candidates[0])
        except Exception:  # unreadable: its feedback page says why
            continue
        nb = rebuilt(submitted, book)
        results = {c.grade_id: c for c in nb_result.cells}
        tests = {t.grade_id: t for t in book.tests}
        seen = set()
        for cell in nb.cells:
            ident = notebooks.grade_id(cell)
            if notebooks.is_test_cell(cell) and ident in tests:
                seen.add(ident)
                cell.source = tests[ident].visible
                if ident in results:
                    cell.outputs = _outputs(results[ident])
        for ident, test in tests.items():
            if ident in seen:
                continue
            cell = nbformat.v4.new_code_cell(test.visible)
            cell.metadata["nbgrader"] = _metadata(next(c for c in book.cells
                                                       if c["grade_id"] == ident))
            if ident in results:
                cell.outputs = _outputs(results[ident])
            nb.cells.append(cell)
        target = out / "autograded" / result.student / result.assignment / nb_result.notebook
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(target))


def rebuilt(submitted: Any, book: SourceNotebook) -> nbformat.NotebookNode:
    """A new notebook of ``submitted``'s cell texts and ``book``'s metadata, nothing else.

    A cell keeps the instructor's nbgrader metadata when its grade id is one of ``book``'s,
    it is the first cell with that id, and it is the same kind of cell as the instructor's
    (a test cell stays code, a written answer stays text: one typed into a code cell is
    shown as text); any other cell is plain.
    """
    known = {c["grade_id"]: c for c in book.cells if c["grade_id"]}
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": dict(notebooks.KERNELSPEC),
                                            "language_info": dict(notebooks.LANGUAGE_INFO)})
    prose = {q.grade_id for q in book.written if q.in_words}
    claimed: set[str] = set()
    ids: set[str] = set()
    for old in submitted.cells:
        ident = notebooks.grade_id(old)
        mine = known.get(ident) if ident is not None else None
        if ident in prose and old.cell_type == "code":
            old.cell_type = "raw"  # a written answer in a code cell (JupyterLab's "y"): its
            #                        text, shown as text, keeps the question's grading box
        inert_text(old, book.markdown)
        cell_id = old.get("id")
        if not notebooks.plain_id(cell_id) or cell_id in ids:
            cell_id = generate_corpus_id()  # kept where it can be (a link to a cell still works)
        ids.add(cell_id)
        cell = _cell("code" if old.cell_type == "code" else "markdown", old.source, cell_id)
        if mine is not None and ident not in claimed and mine["cell_type"] == cell.cell_type:
            claimed.add(ident)
            cell.metadata["nbgrader"] = _metadata(mine)
        nb.cells.append(cell)
    return nb


def _cell(kind: str, source: Any, cell_id: str) -> nbformat.NotebookNode:
    """A new cell of ``kind`` holding ``source`` as one string, nothing else. Made by hand, not
    by ``nbformat.v4.new_*_cell``: those validate each cell against the schema (a quarter of a
    second a notebook), and the notebook is validated once, whole, when it is written."""
    cell = nbformat.NotebookNode(cell_type=kind, id=cell_id, metadata=nbformat.NotebookNode(),
                                 source=source if isinstance(source, str) else "".join(source))
    if kind == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _metadata(cell: dict) -> dict:
    """The instructor's nbgrader metadata of a cell of ``SourceNotebook.cells``."""
    meta = {"schema_version": 3, "grade": cell["grade"], "solution": cell["solution"],
            "locked": not cell["solution"], "grade_id": cell["grade_id"], "task": False}
    if cell["grade"]:
        meta["points"] = cell["points"]
    return meta


def inert_text(cell, trusted: frozenset[str]) -> None:
    """A student's text as formgrader will show it, never as HTML: formgrader renders markdown
    cells as they are, so a ``<script>`` or a ``javascript:`` link written in an answer would
    run in the instructor's browser, with the instructor's Jupyter session. Every markdown or
    raw cell that is not the instructor's own text becomes a fenced code block (shown as
    plain text, whatever it holds); the instructor's cells stay rendered."""
    if cell.cell_type == "code":  # any other kind (markdown, raw, one nbformat never heard of)
        return                       # is a student's text

    text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
    if cell.cell_type == "markdown" and text.strip() in trusted:
        return
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    cell.cell_type = "markdown"
    cell.pop("attachments", None)
    cell.pop("outputs", None)
    cell.pop("execution_count", None)
    cell.source = f"{fence}text\n{text}\n{fence}"


_BACKTICKS = re.compile(r"`+")


def _outputs(cell_result) -> list:
    outputs = []
    if cell_result.output:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=cell_result.output))
    if cell_result.status != "passed":
        text = cell_result.feedback or "failed"
        outputs.append(nbformat.v4.new_output("error", ename="CheckFailure", evalue=text,
                                              traceback=[text]))
    return outputs
