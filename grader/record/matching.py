"""Which assignment and notebook a file is · 文件是哪份作业的哪个 notebook.

A notebook is known by its released name (``perceptron.ipynb``, also as a re-upload
``perceptron-2.ipynb``); a renamed copy (``Copy of perceptron.ipynb``, ``hw1.ipynb``) by the
grade ids of its graded cells, which :func:`cell_index` reads from ``solutions/``; a folder
named after an assignment (nbgrader's layout) names the assignment.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.checks import messages as M
from grader.paths import SOLUTIONS
from grader.record.owners import Place

__all__ = ["Mapped", "best_match", "cell_index", "map_notebook", "notebook_index"]

M.register(
    {
        "collect_not_notebook": (
            "not a notebook (only .ipynb files are graded)",
            "不是 notebook（只评分 .ipynb 文件）",
        ),
        "collect_unknown_notebook": (
            "no assignment has a notebook named {name}",
            "没有任何作业包含名为 {name} 的 notebook",
        ),
    }
)

_REUPLOAD = re.compile(r"-\d+(?=\.ipynb$)")


def notebook_index(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """notebook file name -> assignment id, from ``solutions/``."""
    index = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        index[path.name] = path.parent.name
    return index


@functools.lru_cache(maxsize=8)
def cell_index(solutions: Path = SOLUTIONS) -> dict[str, frozenset[str]]:
    """notebook file name -> the grade ids of its nbgrader cells (to recognise a notebook by
    its content: a renamed copy here, another assignment's notebook in grader.record.notebook)."""
    found = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        try:
            found[path.name] = frozenset(_grade_ids(path.read_bytes()))
        except ValueError:
            found[path.name] = frozenset()
    return found


def best_match(ids: set[str], known: dict[str, frozenset[str]]) -> str | None:
    """The key of ``known`` sharing most grade ids with ``ids``, if it shares any."""
    overlaps = {name: len(ids & cells) for name, cells in known.items()}
    best = max(overlaps, key=overlaps.get, default=None)
    return best if best is not None and overlaps[best] > 0 else None


def _grade_ids(payload: bytes) -> set[str]:
    text = payload.decode("utf-8", errors="replace")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a notebook")
    cells = data.get("cells") or [c for w in data.get("worksheets", []) if isinstance(w, dict)
                                  for c in w.get("cells", [])]
    ids = set()
    for cell in cells if isinstance(cells, list) else []:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {} if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            ids.add(meta["grade_id"])
    return ids


def _recognise(path: Path | None, cells: dict[str, frozenset[str]]) -> str | None:
    """The released notebook whose graded cells this file carries most of, if any."""
    if path is None:
        return None
    try:
        ids = _grade_ids(path.read_bytes())
    except Exception:  # not JSON, not a notebook, nested too deeply: not recognised
        return None
    return best_match(ids, cells)



def _safe_file_name(name: str) -> str:
    """A notebook name fit for the staging folder: what it shows, nothing that moves."""
    stem = re.sub(r"[^\w.\- ()]", "_", name.removesuffix(".ipynb")).strip(" .") or "notebook"
    return stem[:100] + ".ipynb"



def _canonical_name(name: str) -> str:
    return _REUPLOAD.sub("", name)



@dataclass
class Mapped:
    assignment: str
    notebook: str
    renamed_from: str = ""
    in_folder: bool = False  # named after the assignment folder it sits in, not its cells


def map_notebook(place: Place, file: Path | None, index: dict[str, str],
         cells: dict[str, frozenset[str]]) -> Mapped | str:
    """Which assignment and notebook a file of a student is, or a bilingual reason it is
    none. A notebook whose name is not a released one (``Copy of perceptron.ipynb``,
    ``hw1.ipynb``) is recognised by its graded cells; a folder named after an assignment
    (nbgrader's layout) names the assignment even when the file is not recognised (grading
    then says what is wrong with it)."""
    name = place.below[-1]
    if not name.endswith(".ipynb"):
        return M.bilingual("collect_not_notebook")
    assignments = set(index.values())
    hint = next((part for part in reversed(place.below[:-1]) if part in assignments), None)
    canonical = _canonical_name(name)
    if canonical in index and (hint is None or index[canonical] == hint):
        return Mapped(index[canonical], canonical)
    recognised = _recognise(file, cells)
    if recognised and (hint is None or index[recognised] == hint):
        return Mapped(index[recognised], recognised, name)
    if hint is not None:
        books = sorted(book for book, assignment in index.items() if assignment == hint)
        if len(books) == 1:  # the assignment's only notebook, renamed
            return Mapped(hint, books[0], name, in_folder=True)
        return Mapped(hint, _safe_file_name(canonical))
    return M.bilingual("collect_unknown_notebook", name=canonical)


