"""Reading, writing and classifying notebook cells · 读写与分类 notebook 单元格."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

__all__ = [
    "read",
    "dumps_clean",
    "write_clean",
    "clean",
    "nbgrader_meta",
    "is_test_cell",
    "is_solution_cell",
    "grade_id",
    "plain_id",
    "shown_id",
    "language_tag",
    "strip_hidden_markers",
    "HIDDEN_BEGIN",
    "HIDDEN_END",
    "KERNELSPEC",
    "LANGUAGE_INFO",
]

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
# The kernel metadata JupyterLab writes into a notebook when its kernel starts: the kernelspec
# of ipykernel's "python3" kernel and the language_info of ipykernel 7's kernel_info reply.
# A notebook that already holds exactly these values opens without an unsaved change (JupyterLab
# compares before it sets). language_info's "version" is left out: it is the Python of whoever
# runs the kernel (3.11.7, 3.12.3, ...), so no committed value matches every student; the labs
# of `python -m grader lab` fill it in when a notebook is opened (grader.course.lab).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}


def read(path: str | Path) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)


def clean(nb: NotebookNode) -> NotebookNode:
    """Outputs, execution counts and per-run metadata removed; kernel metadata normalised."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "collapsed", "scrolled", "jupyter", "ExecuteTime"):
            cell.metadata.pop(key, None)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = copy.deepcopy(LANGUAGE_INFO)
    return nb


def dumps_clean(nb: NotebookNode) -> str:
    """The notebook as committed: cleaned, nbformat's JSON, one final newline."""
    text = nbformat.writes(clean(nb))
    return text if text.endswith("\n") else text + "\n"


def write_clean(nb: NotebookNode, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps_clean(nb), encoding="utf-8")


def nbgrader_meta(cell: NotebookNode) -> dict:
    meta = cell.get("metadata", {})
    meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return meta if isinstance(meta, dict) else {}  # a damaged cell is no graded cell


def is_test_cell(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_solution_cell(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def grade_id(cell: NotebookNode) -> str | None:
    ident = nbgrader_meta(cell).get("grade_id")
    return ident if isinstance(ident, str) else None


#: What nbformat allows a cell id to be, and what every grade id of the course is: a grade id
#: outside it came from a student's hand, and may be meant for an HTML attribute.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def plain_id(ident: object) -> bool:
    """``ident`` is a word of letters, digits, ``_`` and ``-`` (at most 64): safe anywhere."""
    return isinstance(ident, str) and _PLAIN_ID.fullmatch(ident) is not None


def shown_id(ident: object) -> str:
    """A student's grade id as a flag or a message may print it: other characters become
    ``?`` and it is cut at 64, so a forged id is recognisable and never markup."""
    text = ident if isinstance(ident, str) else repr(ident)
    shown = "".join(ch if _PLAIN_ID.fullmatch(ch) else "?" for ch in text[:64])
    return shown + ("..." if len(text) > 64 else "") or "?"


def language_tag(cell: NotebookNode) -> str | None:
    tags = cell.get("metadata", {}).get("tags", [])
    for tag in ("en", "zh", "both"):
        if tag in tags:
            return tag
    return None


_HIDDEN_LINE = re.compile(r"^[ \t]*### (BEGIN|END) HIDDEN TESTS[ \t]*\n?", re.MULTILINE)


def strip_hidden_markers(source: str) -> str:
    """The source of a test cell with hidden tests included and their markers removed."""
    return _HIDDEN_LINE.sub("", source)


def is_setup_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and "setup" in cell.get("metadata", {}).get("tags", [])


def graded_code(nb: NotebookNode) -> list[str]:
    """The code a student's answers need: setup cells and solution cells, in order."""
    return [
        c.source
        for c in nb.cells
        if c.cell_type == "code" and (is_setup_cell(c) or is_solution_cell(c))
    ]


def exec_graded_code(nb: NotebookNode, filename: str = "<notebook>") -> dict:
    """Run setup and solution cells in a fresh namespace and return it (tests, samples)."""
    namespace: dict = {"__name__": "__notebook__"}
    for index, source in enumerate(graded_code(nb)):
        exec(compile(source, f"{filename}[{index}]", "exec"), namespace)
    return namespace
