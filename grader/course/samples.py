"""Sample submissions for the demo and the tests · 示例提交.

Three kinds per assignment, all made from files in the repository (never downloaded):

* ``perfect``: the release with every solution cell answered by the reference code;
* ``blank``: the release exactly as handed out;
* one per file ``samples/<assignment>/<student>.py``: the perfect answer with some
  solution cells replaced. The file says which test cells it should fail:

      # fails: test_pla_train, test_mistake_bound
      # %% id=pla_train
      def pla_train(X, y, epochs):
          ...
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from grader import notebooks
from grader.paths import COURSE, SAMPLES, SOLUTIONS

__all__ = ["Sample", "samples_for", "write_submissions"]

_SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)
_CELL = re.compile(r"^# %% id=(\S+)[ \t]*$", re.MULTILINE)


@dataclass
class Sample:
    student: str
    assignment: str
    notebook_name: str
    notebook: NotebookNode
    fails: list[str] = field(default_factory=list)  # test cells expected to fail; None = all


def _answered(release: NotebookNode, source: NotebookNode) -> NotebookNode:
    answers = {
        notebooks.grade_id(c): _SOLUTION_MARKER.sub("", c.source)
        for c in source.cells
        if notebooks.is_solution_cell(c)
    }
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        ident = notebooks.grade_id(cell)
        if notebooks.is_solution_cell(cell) and ident in answers:
            cell.source = answers[ident]
    return nb


def _parse_sample(text: str) -> tuple[list[str], dict[str, str]]:
    header = text.split("# %%", 1)[0]
    fails: list[str] = []
    for line in header.splitlines():
        if line.startswith("# fails:"):
            fails = [w.strip() for w in line.split(":", 1)[1].split(",") if w.strip()]
    pieces = _CELL.split(text)
    cells = {pieces[i]: pieces[i + 1].strip("\n") + "\n" for i in range(1, len(pieces), 2)}
    return fails, cells


def samples_for(assignment: str, course: Path = COURSE, solutions: Path = SOLUTIONS,
                samples: Path = SAMPLES) -> list[Sample]:
    out: list[Sample] = []
    for release_path in sorted((course / assignment).glob("*.ipynb")):
        release = notebooks.read(release_path)
        source = notebooks.read(solutions / assignment / release_path.name)
        tests = [notebooks.grade_id(c) for c in source.cells if notebooks.is_test_cell(c)]
        perfect = _answered(release, source)
        out.append(Sample("perfect", assignment, release_path.name, perfect, []))
        out.append(Sample("blank", assignment, release_path.name, copy.deepcopy(release), tests))
        for path in sorted((samples / assignment).glob("*.py")):
            fails, cells = _parse_sample(path.read_text(encoding="utf-8"))
            nb = copy.deepcopy(perfect)
            known = {notebooks.grade_id(c) for c in nb.cells}
            missing = set(cells) - known
            if missing:
                raise ValueError(f"{path}: no solution cell named {sorted(missing)}")
            for cell in nb.cells:
                ident = notebooks.grade_id(cell)
                if notebooks.is_solution_cell(cell) and ident in cells:
                    cell.source = cells[ident].rstrip("\n")
            out.append(Sample(path.stem, assignment, release_path.name, nb, fails))
    return out


def write_submissions(submitted: Path, assignments: list[str]) -> list[Sample]:
    """Write every sample as ``submitted/<student>/<assignment>/<notebook>``."""
    written = []
    for assignment in assignments:
        for sample in samples_for(assignment):
            path = submitted / sample.student / assignment / sample.notebook_name
            notebooks.write_clean(sample.notebook, path)
            written.append(sample)
    return written
