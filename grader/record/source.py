"""The instructor's notebooks, read once per assignment · 教师版 notebook.

:func:`load_assignment` parses every test cell of ``solutions/<assignment>/*.ipynb`` into
declarative check calls (:mod:`grader.record.testcells`) and records the layout the
grader needs: which cells are setup, solution and test cells, and their points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader import notebooks
from grader.checks import messages as M
from grader.languages import LANGUAGES, one_language
from grader.paths import SOLUTIONS
from grader.record.testcells import NotDeclarative, TestCell, parse_test_cell, visible_source
from grader.runtime.protocol import BLOCKED_DEFAULT

__all__ = ["SourceNotebook", "AssignmentSource", "WrittenQuestion", "load_assignment"]

M.register(
    {
        "grade_no_source": (
            "No instructor notebook for assignment {assignment} in {solutions}.",
            "在 {solutions} 中找不到作业 {assignment} 的教师版 notebook。",
        ),
    }
)


@dataclass(frozen=True)
class WrittenQuestion:
    """A question answered in words (nbgrader's manually graded answer cell): the grader never
    scores it; formgrader does, by hand, and its points stay apart from the autograded total."""

    grade_id: str
    points: float
    in_words: bool = True  # the instructor's cell is text (a markdown cell), not code


@dataclass
class SourceNotebook:
    name: str  # file name, e.g. perceptron.ipynb
    tests: list[TestCell]
    order: list[str | None]  # grade ids of all cells, in order (None for plain cells)
    setup_ids: set[str]  # notebook cell ids of setup cells
    solution_ids: list[str]
    cells: list[dict]  # grade cells and solution cells, for the gradebook
    error: str = ""  # why it cannot be graded (not declarative)
    written: list[WrittenQuestion] = field(default_factory=list)
    # the instructor's markdown, as text (stripped): what formgrader may render as HTML
    markdown: frozenset[str] = frozenset()
    # the instructor's plain code cells (not setup, solution or test), as text (stripped)
    code: frozenset[str] = frozenset()


@dataclass
class AssignmentSource:
    name: str
    notebooks: list[SourceNotebook]
    allowed: tuple[str, ...] = ()  # imports its exercises allow (mounted in the sandbox)
    error: str = ""

    @property
    def blocked(self) -> tuple[str, ...]:
        """What the worker's import blocker refuses (a second layer: none of it is mounted)."""
        return tuple(m for m in BLOCKED_DEFAULT if m not in self.allowed)


def load_assignment(assignment: str, solutions: Path = SOLUTIONS) -> AssignmentSource:
    """The instructor's notebooks of ``assignment``: parsed test cells and cell layout."""
    folder = solutions / assignment
    paths = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not paths:
        return AssignmentSource(assignment, [], (),
                                M.bilingual("grade_no_source", assignment=assignment,
                                            solutions=solutions))
    books = []
    allowed: set[str] = set()
    for path in paths:
        nb = notebooks.read(path)
        tests, errors = [], []
        for cell in nb.cells:
            if notebooks.is_test_cell(cell):
                try:
                    test = parse_test_cell(cell)
                except NotDeclarative as exc:
                    errors.append(str(exc))
                    continue
                tests.append(test)
                allowed |= _allowed_imports(test)
        cells = []
        for cell in nb.cells:
            meta = notebooks.nbgrader_meta(cell)
            if meta.get("grade") or meta.get("solution"):
                cells.append({
                    "grade_id": notebooks.grade_id(cell),
                    "grade": bool(meta.get("grade")),
                    "solution": bool(meta.get("solution")),
                    "points": float(meta.get("points", 0) or 0),
                    "cell_type": cell.cell_type,
                    "source": visible_source(cell.source) if notebooks.is_test_cell(cell)
                    else "",
                })
        books.append(SourceNotebook(
            name=path.name,
            tests=tests,
            order=[notebooks.grade_id(c) for c in nb.cells],
            setup_ids={c.get("id") for c in nb.cells if notebooks.is_setup_cell(c)} - {None},
            solution_ids=[notebooks.grade_id(c) for c in nb.cells
                          if notebooks.is_solution_cell(c)],
            cells=cells,
            error="; ".join(errors),
            written=[WrittenQuestion(c["grade_id"], c["points"], c["cell_type"] != "code")
                     for c in cells if c["grade"] and c["solution"] and c["grade_id"]],
            markdown=_instructor_markdown(nb),
            code=frozenset(_text(c.source).strip() for c in nb.cells
                           if c.cell_type == "code" and not notebooks.nbgrader_meta(c).get("grade")
                           and not notebooks.is_solution_cell(c)),
        ))
    return AssignmentSource(assignment, books, tuple(sorted(allowed)))


def _instructor_markdown(nb) -> frozenset[str]:
    """The instructor's markdown texts, stripped, as the bilingual release has them and as
    each one-language copy (``python -m grader lang``) has them: a submission made from any of
    the three shows its instructions rendered in formgrader."""
    copies = [nb, *(one_language(nb, lang) for lang in LANGUAGES)]
    return frozenset(_text(c.source).strip() for book in copies for c in book.cells
                     if c.cell_type == "markdown")


def _text(source) -> str:
    return source if isinstance(source, str) else "".join(source)


def _allowed_imports(test: TestCell) -> set[str]:
    """Modules an exercise lets the sandbox import (``allow_imports`` on its spec)."""
    from grader.checks import exercises

    allowed: set[str] = set()
    for call in test.calls:
        try:
            spec = exercises.get(call.exercise or "")
        except KeyError:
            continue
        allowed |= set(getattr(spec, "allow_imports", ()) or ())
    return allowed
