"""Hostile (and honest) submissions written as text · 以文本形式编写的恶意(与诚实)提交.

Each file in ``tests/hostile/`` or ``tests/honest/`` starts from the *perfect* sample of
one assignment and changes it:

    # hostile: what it tries (free text, may continue on "#   " lines)
    # assignment: 01_perceptron
    # zero: test_a, test_b         test cells that must score 0 ("all": every cell);
    #                              every other cell must keep its full points
    # flags: prefix, prefix        the report must carry a flag starting with each
    # status: crashed              (optional) the row's status
    # %% id=<solution id>          replace that solution cell
    # %% before=<grade id>         insert a plain code cell before that cell
    # %% test id=<test id>         replace the student's copy of a test cell
    # %% points id=<test id> value=<n>
    # %% delete id=<test id>

``{SOLUTIONS}``, ``{OUT}``, ``{SUBMITTED}`` and ``{NOTEBOOK}`` (``{NOTEBOOK!r}`` quoted)
are replaced by the real paths of the grading run, so an attack aims at real targets.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader import notebooks
from grader.course.samples import samples_for

HERE = Path(__file__).parent
_MARK = re.compile(r"^# %% (.*)$", re.MULTILINE)


@dataclass
class Case:
    name: str
    assignment: str
    zero: list[str]
    flags: list[str]
    status: str | None
    ops: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    honest: bool = False


def load(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    header = text.split("# %%", 1)[0]
    meta: dict[str, str] = {}
    for line in header.splitlines():
        match = re.match(r"^# (\w+): ?(.*)$", line)
        if match:
            meta[match.group(1)] = match.group(2).strip()
    pieces = _MARK.split(text)
    ops = []
    for i in range(1, len(pieces), 2):
        words = pieces[i].split()
        first = words[0] if words else ""
        if "=" in first:
            kind = "before" if first.startswith("before=") else "solution"
        else:
            kind = first
        options = dict(w.split("=", 1) for w in words if "=" in w)
        ops.append((kind, options, pieces[i + 1].strip("\n") + "\n"))

    def listed(key: str) -> list[str]:
        return [w.strip() for w in meta.get(key, "").split(",") if w.strip()]

    return Case(path.stem, meta["assignment"], listed("zero"), listed("flags"),
                meta.get("status"), ops, honest=path.parent.name == "honest")


def corpus(folder: str) -> list[Case]:
    return [load(p) for p in sorted((HERE / folder).glob("*.py"))]


def perfect(assignment: str):
    sample = next(s for s in samples_for(assignment) if s.student == "perfect")
    return sample.notebook_name, sample.notebook


def build(case: Case, paths: dict[str, str]) -> tuple[str, nbformat.NotebookNode]:
    name, base = perfect(case.assignment)
    nb = copy.deepcopy(base)

    def fill(source: str) -> str:
        for key, value in paths.items():
            source = source.replace("{" + key + "!r}", repr(value))
            source = source.replace("{" + key + "}", value)
        return source

    def index_of(ident: str) -> int:
        for i, cell in enumerate(nb.cells):
            if notebooks.grade_id(cell) == ident:
                return i
        raise KeyError(f"{case.name}: no cell {ident!r}")

    for kind, options, source in case.ops:
        source = fill(source).rstrip("\n")
        if kind == "solution":
            ident = options["id"]
            nb.cells[index_of(ident)].source = source
        elif kind == "before":
            cell = nbformat.v4.new_code_cell(source)
            nb.cells.insert(index_of(options["before"]), cell)
        elif kind == "test":
            nb.cells[index_of(options["id"])].source = source
        elif kind == "points":
            nb.cells[index_of(options["id"])].metadata["nbgrader"]["points"] = \
                float(options["value"])
        elif kind == "delete":
            del nb.cells[index_of(options["id"])]
        else:
            raise ValueError(f"{case.name}: unknown operation {kind!r}")
    return name, nb
