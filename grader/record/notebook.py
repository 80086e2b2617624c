"""Grading one submission, notebook by notebook · 为一份提交评分.

For each notebook of the assignment: read it through :mod:`grader.record.intake`, build
what the sandbox runs (:mod:`grader.record.program`), start a sandbox, and run every
test cell (:mod:`grader.record.evaluate`), with a fresh sandbox after a crash and one
time budget for the whole notebook. A crash, timeout, memory overrun or killed process
costs the cell it happened in, or the whole notebook if it happened while its cells
were loading; never the batch or another student. :mod:`grader.record.batch` runs a
whole class.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.checks import messages as M
from grader.paths import SOLUTIONS
from grader.record import intake
from grader.record.evaluate import Budget, evaluate_cell, sandbox_message
from grader.record.plan import Job
from grader.record.program import build_program, compare_tests
from grader.record.results import CellResult, NotebookResult, SubmissionResult
from grader.record.sandbox import Limits, Sandbox, SandboxError, bwrap_available, sandbox_mode
from grader.record.session import Session
from grader.record.source import AssignmentSource, SourceNotebook
from grader.record.testcells import TestCell
from grader.record.written import unanswered, written_answers

__all__ = ["Options", "grade_notebook", "grade_submission", "INFO_FLAGS", "warm_up",
           "warn_unsandboxed"]

M.register(
    {
        "grade_sandbox_failed": (
            "The grader could not start the sandbox for this notebook (not the student's "
            "doing; grade it again): {detail}",
            "评分程序无法为这个 notebook 启动沙箱（不是学生造成的，请重新评分）：{detail}",
        ),
        "grade_gave_up": (
            "✗ Not run: the sandbox for this notebook stopped too many times.",
            "✗ 未运行：这个 notebook 的沙箱已经停止了太多次。",
        ),
        "grade_not_declarative": (
            "✗ The instructor's test cell cannot be graded outside the notebook: {error}",
            "✗ 教师的测试单元格无法在 notebook 之外评分：{error}",
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
    }
)


@dataclass
class Options:
    solutions: Path = SOLUTIONS
    limits: Limits = field(default_factory=Limits)
    sandbox: str = "auto"  # auto | bwrap | none
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
                   book: SourceNotebook, options: Options,
                   on_cell: Callable[[CellResult], None] | None = None) -> NotebookResult:
    """``on_cell``, if given, is called with each test cell's result as soon as it is graded
    (``python -m grader check`` prints a progress line with it)."""
    options = options.for_notebook(source.name, book.name)
    mode = sandbox_mode(options.sandbox)
    result = NotebookResult(student, source.name, book.name, sandbox=mode)
    if mode != "bwrap":
        result.flags.append("unsandboxed")
    started = time.monotonic()
    empty = [CellResult(t.grade_id, t.points) for t in book.tests]
    result.written = unanswered(book)

    def fail_all(status: str, message: str) -> NotebookResult:
        result.status, result.message = status, message
        if status == "error":  # the grader failed: whether anything was answered is unknown
            result.written = []
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
    result.written, written_flags = written_answers(nb, book)
    present = intake.grade_ids(nb)
    if not present & {ident for ident in book.order if ident}:
        other = _assignment_of(present, options.solutions, exclude=source.name)
        if other:
            return fail_all("wrong_assignment", M.bilingual(
                "intake_other_assignment", other=other, assignment=source.name))
        result.flags.append("no_grade_cells")  # metadata lost; plain cells still load
    items, flags = build_program(nb, book)
    result.flags += flags + compare_tests(nb, book) + written_flags
    session: Session | None = None
    restarts = 0
    budget = Budget(options.limits.notebook_seconds)
    try:
        for test in book.tests:
            if budget.left() <= 0:
                cell = CellResult(test.grade_id, test.points)
                cell.feedback = cell.detail = sandbox_message(
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
                        message = sandbox_message(exc, options.limits, loading=True)
                    done = {c.grade_id for c in result.cells}
                    rest = [c for c in empty if c.grade_id not in done]
                    for cell in rest:
                        cell.feedback = cell.detail = message
                    result.cells += rest
                    result.status = exc.reason
                    result.message = message
                    break
                # an error in a cell the instructor wrote (Section 7's `import torch` in a
                # NumPy-only sandbox) is no clue to what the student did: left out
                theirs = {item["label"] for item in items if "source" in item
                          and item["source"].strip() in book.code}
                result.load_errors = {c["label"]: c["error"] for c in report.get("cells", [])
                                      if isinstance(c, dict) and c.get("error")
                                      and c.get("label") not in theirs}
            seeds = None
            if options.hidden_seeds is not None:
                seeds = functools.partial(options.hidden_seeds, student, test.grade_id)
            cell = evaluate_cell(test, session, options.limits, result.load_errors,
                                 seeds, budget)
            session.collect_flags()
            dead = session.sandbox.dead
            if dead is not None:
                result.flags.append(f"{dead.reason}:{test.grade_id}")
            elif cell.kind == "numerical":
                result.flags.append(f"numerical_gradient:{test.grade_id}")
            elif cell.status == "failed" and _visible_only(test, cell):
                result.flags.append(f"visible_only:{test.grade_id}")
            result.cells.append(cell)
            if on_cell is not None:
                on_cell(cell)
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
    from grader.record.matching import best_match, cell_index, notebook_index

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
INFO_FLAGS = ("unsandboxed", "visible_only:")


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


def grade_submission(job: Job, source: AssignmentSource, options: Options) -> SubmissionResult:
    """Every notebook of ``job``'s folder; what collecting found is on each notebook's flags."""
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
        nb_result.flags += [flag for flag in job.flags if flag not in nb_result.flags]
        result.notebooks.append(nb_result)
    return result


def warm_up() -> None:
    """Import torch and every exercise module once, before worker processes fork."""
    from grader.checks import exercises

    with contextlib.suppress(Exception):
        import torch
        import torch._dynamo  # noqa: F401 - torch.optim's first optimizer imports it (1-2 s)

        torch.set_num_threads(1)
    exercises.all_exercises()
    # What was imported lives as long as the process: out of the collector's sight, a
    # collection no longer walks torch's objects (a check's thousands of step outcomes
    # trigger many), and forked workers do not copy the pages a collection would touch.
    gc.freeze()


def warn_unsandboxed(options: Options) -> None:
    why = "--sandbox none" if options.sandbox == "none" else bwrap_available()[1]
    banner = "!" * 78
    print(banner, M.bilingual("grade_unsandboxed", why=why or "unknown"), banner,
          sep="\n", file=sys.stderr, flush=True)
