"""``python -m grader grade``: trusted, sandboxed grading of record · 可信的沙箱评分.

For every submitted notebook (nbgrader's ``submitted/<student>/<assignment>/*.ipynb``):

1. the student's setup and solution cells (and only the definitions of other code
   cells: no demos, no plots) run in a fresh sandbox (:mod:`grader.record.sandbox`,
   :mod:`grader.runtime.worker`);
2. the instructor's test cells, read from ``solutions/`` and parsed as declarative
   check calls (:mod:`grader.record.testcells`), run here, in the trusted process, with
   every student name bound to a proxy (:mod:`grader.record.session`); torch references
   and all comparisons happen here;
3. scores go to ``grades.csv``, to nbgrader's gradebook (:mod:`grader.record.gradebook`)
   and to per-student feedback HTML (:mod:`grader.record.feedback`) that never shows
   hidden test source or hidden inputs.

A crash, timeout, memory overrun or killed process costs the cell it happened
in (a fresh sandbox takes over for the next cell), or the whole notebook if it
happened while its cells were loading; never the batch or another student.

This module grades one submission; :mod:`grader.record.batch` runs a whole class (collecting,
shards, resume, progress, summary) and :mod:`grader.record.intake` reads damaged notebooks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import re
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import notebooks
from grader.checks import messages as M
from grader.checks.compare import ARRAY_POLICY, CheckFailure
from grader.checks.steps import EXECUTOR
from grader.paths import SOLUTIONS
from grader.record import intake
from grader.record.sandbox import Limits, Sandbox, SandboxError, bwrap_available, sandbox_mode
from grader.record.session import RemoteExecutor, Session
from grader.record.testcells import NotDeclarative, TestCell, parse_test_cell, visible_source
from grader.runtime.protocol import BLOCKED_DEFAULT

__all__ = ["Options", "load_assignment", "grade_notebook",
           "SubmissionResult", "NotebookResult", "CellResult"]

M.register(
    {
        "grade_name_missing": (
            "✗ `{name}` is not defined when this test runs. Did the cell that defines it raise "
            "an error, or was the function renamed or deleted?",
            "✗ 运行这个测试时 `{name}` 没有定义。定义它的单元格是否出错了？"
            "函数是否被改名或删除了？",
        ),
        "grade_load_error": (
            "While your notebook was loading, cell `{cell}` raised an error:",
            "加载你的 notebook 时，单元格 `{cell}` 出错了：",
        ),
        "grade_timeout": (
            "✗ Your code was stopped: this test ran longer than its time limit ({seconds} s). "
            "Look for an endless loop or a very slow computation.",
            "✗ 你的代码被终止了：这个测试的运行时间超过了限制（{seconds} 秒）。"
            "请检查是否有死循环或非常慢的计算。",
        ),
        "grade_memory": (
            "✗ Your code was stopped: it used more memory than allowed ({limit} MiB).",
            "✗ 你的代码被终止了：使用的内存超过了限制（{limit} MiB）。",
        ),
        "grade_processes": (
            "✗ Your code was stopped: it started more processes or threads than allowed "
            "({limit}).",
            "✗ 你的代码被终止了：启动的进程或线程数超过了限制（{limit}）。",
        ),
        "grade_crashed": (
            "✗ The process running your code ended unexpectedly ({detail}), for example "
            "through os._exit, sys.exit in a background thread, or a crash in native code.",
            "✗ 运行你的代码的进程意外结束了（{detail}），例如调用了 os._exit，"
            "或本地代码崩溃。",
        ),
        "grade_protocol": (
            "✗ Your code interfered with the grader's connection to it ({detail}).",
            "✗ 你的代码干扰了评分程序与它之间的连接（{detail}）。",
        ),
        "grade_load_timeout": (
            "✗ Your setup and solution cells did not finish loading within {seconds} s, so "
            "this test could not run. Solution cells should only define functions.",
            "✗ 你的 setup 单元格和解答单元格在 {seconds} 秒内没有加载完成，这个测试无法运行。"
            "解答单元格应当只包含函数定义。",
        ),
        "grade_load_failed": (
            "✗ The process running your notebook stopped while loading its setup and "
            "solution cells ({detail}), so this test could not run.",
            "✗ 加载 setup 单元格和解答单元格时，运行你的 notebook 的进程停止了（{detail}），"
            "这个测试无法运行。",
        ),
        "grade_sandbox_failed": (
            "The grader could not start the sandbox for this notebook (not the student's "
            "doing; grade it again): {detail}",
            "评分程序无法为这个 notebook 启动沙箱（不是学生造成的，请重新评分）：{detail}",
        ),
        "grade_budget": (
            "✗ Not run: this notebook used up its whole time budget ({seconds} s) before this "
            "test. Look for slow loops or sleeps in your functions.",
            "✗ 未运行：在这个测试之前，这个 notebook 已经用完了全部的时间预算（{seconds} 秒）。"
            "请检查函数中是否有很慢的循环或 sleep。",
        ),
        "grade_gave_up": (
            "✗ Not run: the sandbox for this notebook stopped too many times.",
            "✗ 未运行：这个 notebook 的沙箱已经停止了太多次。",
        ),
        "grade_hidden_note": (
            "(This is a hidden test: its inputs and source are not shown.)",
            "（这是隐藏测试：不显示它的输入和源代码。）",
        ),
        "grade_hidden_failed": (
            "✗ A hidden test failed: {error}.",
            "✗ 一个隐藏测试未通过：{error}。",
        ),
        "grade_check_error": (
            "✗ The check could not finish: {error}",
            "✗ 检查无法完成：{error}",
        ),
        "grade_not_declarative": (
            "✗ The instructor's test cell cannot be graded outside the notebook: {error}",
            "✗ 教师的测试单元格无法在 notebook 之外评分：{error}",
        ),
        "grade_no_source": (
            "No instructor notebook for assignment {assignment} in {solutions}.",
            "在 {solutions} 中找不到作业 {assignment} 的教师版 notebook。",
        ),
        "grade_no_notebook": (
            "✗ Notebook {notebook} was not submitted.",
            "✗ 没有提交 notebook {notebook}。",
        ),
        "grade_unreadable": (
            "✗ {notebook} is not a readable notebook: {error}",
            "✗ {notebook} 不是可读取的 notebook:{error}",
        ),
        "grade_unsandboxed": (
            "WARNING: bubblewrap is not available ({why}). Student code runs with resource "
            "limits only and CAN READ every file this grader can read (solutions, gradebook, "
            "other submissions). Install the Debian package `bubblewrap` for a real sandbox.",
            "警告：无法使用 bubblewrap({why})。学生代码只受资源限制，"
            "并且可以读取评分程序能读取的所有文件（答案、成绩册、其他学生的提交）。"
            "请安装 Debian 软件包 `bubblewrap` 以启用真正的沙箱。",
        ),
        "grade_sandboxed": (
            "Sandbox: bubblewrap (read-only system, private /tmp, no network, no view of "
            "solutions, gradebook or other submissions).",
            "沙箱：bubblewrap（只读系统、私有 /tmp、无网络、看不到答案、成绩册和其他学生的提交）。",
        ),
        "grade_flagged": (
            "{count} submissions did something a grader should look at (see report.json):",
            "{count} 份提交有需要评分者查看的行为（详见 report.json）：",
        ),
        "grade_summary": (
            "Graded {count} notebooks of {students} students in {seconds} s; results in {out}",
            "已在 {seconds} 秒内为 {students} 名学生评阅 {count} 个 notebook；结果在 {out}",
        ),
    }
)

# --------------------------------------------------------------------- results


@dataclass
class CellResult:
    grade_id: str
    points: float
    score: float = 0.0
    status: str = "failed"  # passed | failed
    feedback: str = ""  # safe to show the student: no hidden source or inputs
    detail: str = ""  # for the instructor: may name hidden seeds
    output: str = ""  # what the visible checks printed (pass lines)
    seconds: float = 0.0
    kind: str = ""  # CheckFailure.kind of a failure (not_done, wrong, numerical, ...)


@dataclass
class NotebookResult:
    student: str
    assignment: str
    notebook: str
    cells: list[CellResult] = field(default_factory=list)
    status: str = "ok"  # ok | blank | timeout | crashed | memory | processes | protocol
    #                     | unreadable | too_large | wrong_assignment | missing | empty | error
    flags: list[str] = field(default_factory=list)
    load_errors: dict[str, str] = field(default_factory=dict)
    sandbox: str = ""
    seconds: float = 0.0
    message: str = ""

    @property
    def score(self) -> float:
        return sum(c.score for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cells)


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    notebooks: list[NotebookResult] = field(default_factory=list)
    timestamp: str | None = None

    @property
    def score(self) -> float:
        return sum(n.score for n in self.notebooks)

    @property
    def max_score(self) -> float:
        return sum(n.max_score for n in self.notebooks)

    @property
    def status(self) -> str:
        worst = [n.status for n in self.notebooks if n.status != "ok"]
        return worst[0] if worst else "ok"

    @property
    def flags(self) -> list[str]:
        seen: dict[str, None] = {}
        for nb in self.notebooks:
            for flag in nb.flags:
                seen.setdefault(flag, None)
        return list(seen)


# -------------------------------------------------------------------- sources


@dataclass
class SourceNotebook:
    name: str  # file name, e.g. perceptron.ipynb
    tests: list[TestCell]
    order: list[str | None]  # grade ids of all cells, in order (None for plain cells)
    setup_ids: set[str]  # notebook cell ids of setup cells
    solution_ids: list[str]
    cells: list[dict]  # grade cells and solution cells, for the gradebook
    error: str = ""  # why it cannot be graded (not declarative)


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
        ))
    return AssignmentSource(assignment, books, tuple(sorted(allowed)))


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


# ---------------------------------------------------------------- the program


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
                flags.append(f"unknown_test_cell:{ident}")
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
    items: list[dict] = [{"checkpoint": ident} for ident in positions.get(-1, [])]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not _is_test(cell):
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


# --------------------------------------------------------------- evaluating


@dataclass
class Options:
    solutions: Path = SOLUTIONS
    limits: Limits = field(default_factory=Limits)
    sandbox: str = "auto"  # auto | bwrap | none
    strict_gradients: bool = True  # grader.checks.policy: reject finite-difference gradients
    # (student, grade id, seeds) -> seeds for hidden calls: per-student hidden inputs.
    # Must be a module-level function (it is sent to the worker processes).
    hidden_seeds: Any = None
    # limits per assignment or per "assignment/notebook.ipynb" (grading.toml, grader.record.config)
    limits_by_notebook: dict[str, Limits] = field(default_factory=dict)
    max_notebook_mb: float = intake.MAX_NOTEBOOK_MB

    def for_notebook(self, assignment: str, notebook: str) -> Options:
        limits = self.limits_by_notebook.get(f"{assignment}/{notebook}") or \
            self.limits_by_notebook.get(assignment)
        return dataclasses.replace(self, limits=limits) if limits else self


_HINTS: list[re.Pattern] | None = None


def _hint_patterns() -> list[re.Pattern]:
    global _HINTS
    if _HINTS is None:
        patterns = []
        for key, entry in M.CATALOGUE.items():
            # hints and rules; any other sentence only if it has no {placeholder} (no values)
            wanted = key.startswith("hint_") or key in ("tolerance", "policy_rule") or not (
                M.placeholders(entry.en) or M.placeholders(entry.zh))
            if not wanted or key.startswith("grade_"):
                continue
            for template in (entry.en, entry.zh):
                parts = re.split(r"\{[^{}]*\}", template)
                patterns.append(re.compile("^" + ".{0,80}?".join(map(re.escape, parts)) + "$"))
        _HINTS = patterns
    return _HINTS


def redact(message: str) -> str:
    """A hidden test's failure: its header and hints only, never inputs, values or tracebacks."""
    lines = [line.strip() for line in message.strip("\n").splitlines()]
    keep = [line for line in lines if line.startswith("✗")]
    if not keep:
        keep = [line[:200] for line in lines[:2]]
    keep += [line for line in lines if not line.startswith("✗") and line
             and any(p.match(line) for p in _hint_patterns())]
    return "\n".join([*keep, M.bilingual("grade_hidden_note")])


def _sandbox_message(error: SandboxError, limits: Limits, loading: bool) -> str:
    if error.reason == "time_budget":
        return M.bilingual("grade_budget", seconds=f"{limits.notebook_seconds:g}")
    if loading:
        if error.reason == "timeout":
            return M.bilingual("grade_load_timeout", seconds=f"{limits.load_seconds:g}")
        return M.bilingual("grade_load_failed", detail=f"{error.reason}: {error.detail}")
    if error.reason == "timeout":
        return M.bilingual("grade_timeout", seconds=f"{limits.cell_seconds:g}")
    if error.reason == "memory":
        return M.bilingual("grade_memory", limit=limits.memory_mb)
    if error.reason == "processes":
        return M.bilingual("grade_processes", limit=limits.processes)
    if error.reason == "protocol":
        return M.bilingual("grade_protocol", detail=error.detail[:200])
    return M.bilingual("grade_crashed", detail=error.detail[:200])


class _Missing(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _check_functions() -> dict[str, Any]:
    from grader.checks import api
    from grader.runtime.protocol import CHECK_NAMES

    return {name: getattr(api, name) for name in CHECK_NAMES}


def evaluate_cell(test: TestCell, session: Session, limits: Limits,
                  load_errors: dict[str, str], strict: bool = True,
                  hidden_seeds: Any = None, budget: Budget | None = None) -> CellResult:
    """Run the instructor's calls of one test cell against the student's proxies.

    ``hidden_seeds(seeds) -> seeds``, if given, replaces the seeds of hidden calls (per
    student hidden inputs, see ``Options.hidden_seeds``). The cell may take its own time
    limit, or what is left of the notebook's ``budget`` if that is less.
    """
    result = CellResult(grade_id=test.grade_id, points=test.points)
    checks = _check_functions()
    started = time.monotonic()
    session.deadline = started + limits.cell_seconds
    clipped = budget is not None and budget.end < session.deadline
    if clipped:
        session.deadline = budget.end
    session.sandbox.timeout_reason = "time_budget" if clipped else "timeout"
    bound: dict[str, Any] = {}
    printed = io.StringIO()
    failure: BaseException | None = None
    failed_call = None
    from grader.checks.policy import strict_gradients

    policy = ARRAY_POLICY.set(strict_gradients if strict else None)
    executor = EXECUTOR.set(RemoteExecutor(session))  # the checks' steps run in the sandbox
    for call in test.calls:
        session.hidden = call.hidden
        try:
            values = {}
            for name in call.student_names():
                if name not in bound:
                    try:
                        bound[name] = session.resolve(test.grade_id, name)
                    except NameError:
                        raise _Missing(name) from None
                values[name] = bound[name]
            args = [values[a.name] if a.name else a.value for a in call.args]
            kwargs = {k: values[a.name] if a.name else a.value for k, a in call.kwargs.items()}
            if call.hidden and hidden_seeds is not None and isinstance(kwargs.get("seeds"), list):
                kwargs["seeds"] = hidden_seeds(kwargs["seeds"])
            sink = io.StringIO() if call.hidden else printed  # hidden pass lines stay here
            with contextlib.redirect_stdout(sink), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                checks[call.function](*args, **kwargs)
        except Exception as exc:  # every way a cell can fail; the batch goes on
            failure, failed_call = exc, call
            break
    session.hidden = False
    ARRAY_POLICY.reset(policy)
    EXECUTOR.reset(executor)
    result.seconds = round(time.monotonic() - started, 3)
    result.output = printed.getvalue()[-4000:]
    if failure is None:
        result.score, result.status = test.points, "passed"
        return result
    hidden = failed_call is not None and failed_call.hidden
    dead = session.sandbox.dead
    if dead is not None:
        text = _sandbox_message(dead, limits, loading=False)
        result.feedback = result.detail = text
    elif isinstance(failure, _Missing):
        lines = [M.bilingual("grade_name_missing", name=failure.name)]
        for cell, error in load_errors.items():
            lines += [M.bilingual("grade_load_error", cell=cell), _indent(error)]
        result.feedback = result.detail = "\n".join(lines)
    elif isinstance(failure, CheckFailure):
        result.kind = failure.kind
        full = failure.args[0] if failure.args else str(failure)
        result.detail = full
        result.feedback = redact(full) if hidden else full
    else:
        name = type(failure).__name__
        full = M.bilingual("grade_check_error", error=f"{name}: {str(failure)[:500]}")
        result.detail = full + "\n" + "".join(traceback.format_exception(failure))[-3000:]
        result.feedback = (M.bilingual("grade_hidden_failed", error=name) + "\n" +
                           M.bilingual("grade_hidden_note")) if hidden else full
    if hidden and failed_call is not None:
        literal = {k: a.value for k, a in failed_call.kwargs.items() if a.name is None}
        result.detail += f"\n[hidden call, line {failed_call.line}: {literal}]"
    return result


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


# ---------------------------------------------------------------- a notebook


@dataclass
class Budget:
    """One notebook's time: loading and every test cell draw from it, so a submission
    that stays just under each limit cannot hold a worker for all of them together."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def end(self) -> float:
        return self.started + self.seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def used(self) -> float:
        return time.monotonic() - self.started


def _start(items: list[dict], source: AssignmentSource, options: Options,
           mode: str, budget: Budget) -> tuple[Session, dict]:
    sandbox = Sandbox(options.limits, mode=mode, allowed=source.allowed)
    sandbox.start()
    session = Session(sandbox)
    seconds = options.limits.load_seconds
    if budget.left() < seconds:
        seconds, sandbox.timeout_reason = budget.left(), "time_budget"
    try:
        report = session.load(items, {"limits": options.limits.rlimits(),
                                      "blocked": list(source.blocked)}, seconds)
        sandbox.timeout_reason = "timeout"
    except SandboxError as exc:
        stderr = sandbox.stderr_text()
        sandbox.close()
        exc.flags = session.collect_flags()  # type: ignore[attr-defined]
        if not session.started:  # it died before any student code ran: our problem, not theirs
            raise SandboxError("sandbox_failed", stderr[-600:] or exc.detail) from None
        raise
    except BaseException:
        sandbox.close()
        raise
    return session, report


def grade_notebook(path: Path | None, student: str, source: AssignmentSource,
                   book: SourceNotebook, options: Options) -> NotebookResult:
    options = options.for_notebook(source.name, book.name)
    mode = sandbox_mode(options.sandbox)
    result = NotebookResult(student, source.name, book.name, sandbox=mode)
    if mode != "bwrap":
        result.flags.append("unsandboxed")
    started = time.monotonic()
    empty = [CellResult(t.grade_id, t.points) for t in book.tests]

    def fail_all(status: str, message: str) -> NotebookResult:
        result.status, result.message = status, message
        for cell in empty:
            cell.feedback = cell.detail = message
        result.cells = empty
        result.seconds = round(time.monotonic() - started, 3)
        return result

    if book.error:
        return fail_all("error", M.bilingual("grade_not_declarative", error=book.error))
    if path is None:
        return fail_all("missing", M.bilingual("grade_no_notebook", notebook=book.name))
    try:
        nb, read_flags = intake.read_submission(path, options.max_notebook_mb)
    except intake.Rejected as exc:
        return fail_all(exc.status, exc.message)
    except OSError as exc:
        return fail_all("unreadable", M.bilingual("grade_unreadable", notebook=path.name,
                                                  error=str(exc)[:300]))
    result.flags += read_flags
    present = intake.grade_ids(nb)
    if not present & {ident for ident in book.order if ident}:
        other = _assignment_of(present, options.solutions, exclude=source.name)
        if other:
            return fail_all("wrong_assignment", M.bilingual(
                "intake_other_assignment", other=other, assignment=source.name))
        result.flags.append("no_grade_cells")  # metadata lost; plain cells still load
    items, flags = build_program(nb, book)
    result.flags += flags + compare_tests(nb, book)
    session: Session | None = None
    restarts = 0
    budget = Budget(options.limits.notebook_seconds)
    try:
        for test in book.tests:
            if budget.left() <= 0:
                cell = CellResult(test.grade_id, test.points)
                cell.feedback = cell.detail = _sandbox_message(
                    SandboxError("time_budget"), options.limits, loading=False)
                result.cells.append(cell)
                result.flags.append("time_budget")
                continue
            if session is not None and session.sandbox.dead is not None:
                session.sandbox.close()
                session = None
                restarts += 1
            if session is None:
                if restarts > options.limits.restarts:
                    cell = CellResult(test.grade_id, test.points)
                    cell.feedback = cell.detail = M.bilingual("grade_gave_up")
                    result.cells.append(cell)
                    continue
                try:
                    session, report = _start(items, source, options, mode, budget)
                except SandboxError as exc:
                    if exc.reason == "sandbox_failed":
                        message = M.bilingual("grade_sandbox_failed",
                                              detail=exc.detail.strip()[:600])
                        exc.reason = "error"
                    else:
                        result.flags.append(f"{exc.reason}:loading")
                        result.flags += getattr(exc, "flags", [])
                        message = _sandbox_message(exc, options.limits, loading=True)
                    done = {c.grade_id for c in result.cells}
                    rest = [c for c in empty if c.grade_id not in done]
                    for cell in rest:
                        cell.feedback = cell.detail = message
                    result.cells += rest
                    result.status = exc.reason
                    result.message = message
                    break
                result.load_errors = {c["label"]: c["error"] for c in report.get("cells", [])
                                      if isinstance(c, dict) and c.get("error")}
            seeds = None
            if options.hidden_seeds is not None:
                seeds = functools.partial(options.hidden_seeds, student, test.grade_id)
            cell = evaluate_cell(test, session, options.limits, result.load_errors,
                                 options.strict_gradients, seeds, budget)
            session.collect_flags()
            dead = session.sandbox.dead
            if dead is not None:
                result.flags.append(f"{dead.reason}:{test.grade_id}")
            elif cell.kind == "numerical":
                result.flags.append(f"numerical_gradient:{test.grade_id}")
            elif cell.status == "failed" and _visible_only(test, cell):
                result.flags.append(f"visible_only:{test.grade_id}")
            result.cells.append(cell)
            result.flags += [f for f in session.flags if f not in result.flags]
            session.flags.clear()
    finally:
        if session is not None:
            session.sandbox.close()
            result.flags += [f for f in session.collect_flags() if f not in result.flags]
    result.seconds = round(time.monotonic() - started, 3)
    if budget.used() > SLOW_SHARE * budget.seconds:
        result.flags.append(f"slow:{budget.used():.0f}s")
    result.flags = _compact(result.flags)
    if result.status == "ok" and result.score == 0 and intake.looks_blank(nb):
        result.status, result.message = "blank", M.bilingual("intake_blank")
    return result


def _assignment_of(ids: set[str], solutions: Path, exclude: str) -> str | None:
    """The other assignment whose graded cells these are, if any."""
    from grader.record.collect import best_match, cell_index, notebook_index

    solutions = Path(solutions).resolve()
    index = notebook_index(solutions)
    others = {name: cells for name, cells in cell_index(solutions).items()
              if index.get(name) != exclude}
    best = best_match(ids, others)
    return index[best] if best else None


def _visible_only(test: TestCell, cell: CellResult) -> bool:
    """The visible calls passed and a hidden one failed (e.g. answers hard-coded)."""
    return "[hidden call" in cell.detail and any(not c.hidden for c in test.calls)


#: A notebook that used more than this share of its time budget is flagged ``slow``: honest
#: notebooks use a few percent of it, so the instructor should look at what took the time.
SLOW_SHARE = 0.5

# Flags that are worth a column in the CSV but not, alone, an instructor's attention: a
# submission can honestly pass the visible check and fail a hidden edge case.
_INFO_FLAGS = ("unsandboxed", "visible_only:")


def _compact(flags: list[str], limit: int = 30) -> list[str]:
    seen: dict[str, None] = {}
    files = 0
    for flag in flags:
        if flag.startswith("file:"):
            files += 1
            if files > 5:
                continue
        seen.setdefault(flag, None)
    out = list(seen)
    if files > 5:
        out.append(f"file:+{files - 5} more")
    return out[:limit]


# ---------------------------------------------------------------- a batch


@dataclass
class SubmissionFolder:
    """One student's notebooks of one assignment (collected by :mod:`grader.record.batch`)."""

    student: str
    assignment: str
    folder: Path


def grade_submission(job: SubmissionFolder, source: AssignmentSource,
                     options: Options) -> SubmissionResult:
    result = SubmissionResult(job.student, job.assignment)
    stamp = job.folder / "timestamp.txt"
    if stamp.is_file():
        result.timestamp = stamp.read_text(encoding="utf-8", errors="replace").strip()[:64]
    if source.error:
        nb = NotebookResult(job.student, job.assignment, "", status="error",
                            message=source.error)
        result.notebooks.append(nb)
        return result
    found = {p.name: p for p in job.folder.glob("*.ipynb")}
    for book in source.notebooks:
        path = found.get(book.name)
        if path is None and len(found) == 1 and len(source.notebooks) == 1:
            path = next(iter(found.values()))  # renamed, but the only notebook there
        try:
            nb_result = grade_notebook(path, job.student, source, book, options)
        except Exception as exc:  # a grader bug must not stop the batch
            nb_result = NotebookResult(job.student, job.assignment, book.name, status="error",
                                       message=f"{type(exc).__name__}: {exc}")
            nb_result.cells = [CellResult(t.grade_id, t.points, detail=nb_result.message)
                               for t in book.tests]
        if path is not None and path.name != book.name:
            nb_result.flags.append(f"renamed:{path.name}")
        result.notebooks.append(nb_result)
    return result


def _warm() -> None:
    """Import torch and every exercise module once, before worker processes fork."""
    from grader.checks import exercises

    with contextlib.suppress(Exception):
        import torch

        torch.set_num_threads(1)
    exercises.all_exercises()


def _warn_unsandboxed(options: Options) -> None:
    why = "--sandbox none" if options.sandbox == "none" else bwrap_available()[1]
    banner = "!" * 78
    print(banner, M.bilingual("grade_unsandboxed", why=why or "unknown"), banner,
          sep="\n", file=sys.stderr, flush=True)
