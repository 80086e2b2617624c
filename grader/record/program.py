"""What the sandbox runs for one submitted notebook · 沙箱为一份 notebook 运行什么.

Setup and solution cells run whole; other code cells give only their definitions (no
demos, no plots, no training loops); written answers (prose, even in a code cell) and
test cells are never sent: where each one sits,
the sandbox keeps a snapshot of the namespace (a checkpoint) that the test is run
against. The student's copies of the test cells are compared with the instructor's,
and every difference is a flag.
"""

from __future__ import annotations

from typing import Any

from grader import notebooks
from grader.record.source import SourceNotebook
from grader.record.testcells import visible_source

__all__ = ["build_program", "compare_tests"]

def _is_test(cell: Any) -> bool:
    return notebooks.is_test_cell(cell)


def build_program(nb: Any, source: SourceNotebook) -> tuple[list[dict], list[str]]:
    """What the sandbox runs, in notebook order, with a checkpoint where each test sits.

    Setup cells (tagged, or with the id of an instructor setup cell) and solution cells
    run whole; other code cells contribute only their function and class definitions
    and imports, so helpers work but demos, plots and training loops do not run.
    Test cells are never sent: they are where the namespace is snapshotted.
    """
    flags: list[str] = []
    wanted = {t.grade_id: t for t in source.tests}
    positions: dict[int, list[str]] = {}  # after cell index i (-1: before all)
    present: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        ident = notebooks.grade_id(cell)
        if _is_test(cell):
            if ident in wanted and ident not in present:
                present[ident] = index
                positions.setdefault(index - 1, []).append(ident)
            elif ident not in wanted:
                given = notebooks.nbgrader_meta(cell).get("grade_id")  # a str, or not
                flags.append(f"unknown_test_cell:{notebooks.shown_id(given)}")
    ids = {notebooks.grade_id(c): i for i, c in enumerate(nb.cells) if notebooks.grade_id(c)}
    for position, ident in enumerate(source.order):
        if ident not in wanted or ident in present:
            continue
        flags.append(f"test_cell_deleted:{ident}")
        after = len(nb.cells) - 1
        for previous in reversed(source.order[:position]):
            if previous and previous in ids and previous not in wanted:
                after = ids[previous]
                break
        positions.setdefault(after, []).append(ident)
    # a written answer is prose wherever it sits: one the student turned into a code cell is
    # still not a program (running it gives a SyntaxError, or a false alarm from its words)
    prose = {q.grade_id for q in source.written if q.in_words}
    items: list[dict] = [{"checkpoint": ident} for ident in positions.get(-1, [])]
    for index, cell in enumerate(nb.cells):
        written = notebooks.nbgrader_meta(cell).get("grade") and notebooks.grade_id(cell) in prose
        if cell.cell_type == "code" and not _is_test(cell) and not written:
            source_text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
            full = notebooks.is_solution_cell(cell) or notebooks.is_setup_cell(cell) or \
                cell.get("id") in source.setup_ids
            label = notebooks.grade_id(cell) or (f"setup-{index}" if full else f"cell-{index}")
            items.append({"source": source_text, "label": label,
                          "mode": "full" if full else "defs"})
        items.extend({"checkpoint": ident} for ident in positions.get(index, []))
    return items, flags


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


def compare_tests(nb: Any, source: SourceNotebook) -> list[str]:
    """Flags for test cells the student edited or whose points changed."""
    flags = []
    wanted = {t.grade_id: t for t in source.tests}
    for cell in nb.cells:
        ident = notebooks.grade_id(cell)
        if not _is_test(cell) or ident not in wanted:
            continue
        test = wanted[ident]
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if _normal(visible_source(text)) != _normal(test.visible):
            flags.append(f"test_cell_edited:{ident}")
        points = notebooks.nbgrader_meta(cell).get("points")
        try:
            if float(points) != test.points:
                flags.append(f"points_changed:{ident}")
        except (TypeError, ValueError):
            flags.append(f"points_changed:{ident}")
    return flags
