"""Reading the instructor's declarative test cells · 解析教师的声明式测试单元格.

A test cell holds only calls to the check functions of :mod:`grader.checks.api`,
whose arguments are the student's names and literal data (see CONTRIBUTING.md, "Writing the
notebook as text"). This module turns such a cell into a list of
:class:`TestCall` without running anything, and refuses any other statement, so
that the trusted grader can evaluate the instructor's cells itself. The source
always comes from ``solutions/``, never from a submission.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from grader import notebooks
from grader.runtime.protocol import CHECK_NAMES

__all__ = ["TestCall", "TestCell", "NotDeclarative", "parse_test_cell", "visible_source",
           "CHECK_FUNCTIONS"]

CHECK_FUNCTIONS = CHECK_NAMES

_BEGIN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*$")
_END = re.compile(r"^[ \t]*### END HIDDEN TESTS[ \t]*$")


class NotDeclarative(ValueError):
    """A test cell holds something other than check calls with literal data."""


@dataclass(frozen=True)
class Arg:
    """A student's name (``name`` set) or a literal value."""

    name: str | None = None
    value: Any = None


@dataclass
class TestCall:
    function: str  # one of CHECK_FUNCTIONS
    args: list[Arg]
    kwargs: dict[str, Arg]
    hidden: bool
    line: int

    @property
    def exercise(self) -> str | None:
        first = self.args[0] if self.args else None
        return first.value if first is not None and isinstance(first.value, str) else None

    def student_names(self) -> list[str]:
        return [a.name for a in [*self.args, *self.kwargs.values()] if a.name is not None]


@dataclass
class TestCell:
    grade_id: str
    points: float
    source: str  # the instructor's source, hidden tests included
    calls: list[TestCall] = field(default_factory=list)

    @property
    def visible(self) -> str:
        return visible_source(self.source)


def hidden_lines(source: str) -> set[int]:
    """1-based line numbers inside ``### BEGIN/END HIDDEN TESTS`` blocks (markers included)."""
    hidden, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if _BEGIN.match(line):
            inside = True
        if inside:
            hidden.add(number)
        if _END.match(line):
            inside = False
    return hidden


def visible_source(source: str) -> str:
    """The cell as released to students: hidden blocks removed."""
    hidden = hidden_lines(source)
    lines = [line for n, line in enumerate(source.splitlines(), start=1) if n not in hidden]
    return "\n".join(lines).rstrip("\n")


def _arg(node: ast.expr, where: str) -> Arg:
    if isinstance(node, ast.Name):
        return Arg(name=node.id)
    try:
        return Arg(value=ast.literal_eval(node))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise NotDeclarative(
            f"{where}: argument `{ast.unparse(node)[:80]}` is neither a name nor literal data"
        ) from None


def _check_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name) and func.id in CHECK_FUNCTIONS:
        return func.id
    if isinstance(func, ast.Attribute) and func.attr in CHECK_FUNCTIONS and \
            isinstance(func.value, ast.Name) and func.value.id == "grader":
        return func.attr
    return None


def parse_test_cell(cell: Any) -> TestCell:
    """A :class:`TestCell` from a notebook cell; :class:`NotDeclarative` if it is not one."""
    grade_id = notebooks.grade_id(cell) or "?"
    meta = notebooks.nbgrader_meta(cell)
    try:
        points = float(meta.get("points", 0) or 0)
    except (TypeError, ValueError):
        raise NotDeclarative(f"{grade_id}: points {meta.get('points')!r} is not a number") from None
    source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotDeclarative(f"{grade_id}: {exc}") from None
    hidden = hidden_lines(source)
    calls = []
    for stmt in tree.body:
        where = f"{grade_id}, line {stmt.lineno}"
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Import) and all(
                a.name == "grader" or a.name.startswith("grader.") for a in stmt.names):
            continue
        if isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module and \
                (stmt.module == "grader" or stmt.module.startswith("grader.")):
            continue
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            raise NotDeclarative(f"{where}: only calls to grader check functions are allowed")
        call = stmt.value
        function = _check_name(call.func)
        if function is None:
            raise NotDeclarative(f"{where}: `{ast.unparse(call.func)[:60]}` is not a check function")
        if any(isinstance(a, ast.Starred) for a in call.args) or \
                any(k.arg is None for k in call.keywords):
            raise NotDeclarative(f"{where}: *args and **kwargs are not allowed")
        args = [_arg(a, where) for a in call.args]
        kwargs = {k.arg: _arg(k.value, where) for k in call.keywords if k.arg}
        if not args or args[0].name is not None or not isinstance(args[0].value, str):
            raise NotDeclarative(f"{where}: the first argument must be the exercise id")
        calls.append(TestCall(function, args, kwargs, hidden=stmt.lineno in hidden,
                              line=stmt.lineno))
    if not calls:
        raise NotDeclarative(f"{grade_id}: no check call")
    return TestCell(grade_id=grade_id, points=points, source=source, calls=calls)
