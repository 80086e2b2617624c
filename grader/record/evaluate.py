"""Running one instructor test cell against a student's sandbox · 运行一个测试单元格.

The cell's check calls run here, in the trusted process, with each student name bound
to its proxy (:mod:`grader.record.session`) and the checks' steps sent to the sandbox
(:class:`grader.record.session.RemoteExecutor`). What a failure shows the student is
decided here too: a hidden test's message keeps its header and hints only
(:func:`redact`).
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

from grader.checks import messages as M
from grader.checks.compare import CheckFailure
from grader.checks.steps import EXECUTOR
from grader.record.results import CellResult
from grader.record.sandbox import Limits, SandboxError
from grader.record.session import RemoteExecutor, Session
from grader.record.testcells import TestCell

__all__ = ["Budget", "evaluate_cell", "redact", "sandbox_message"]

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
            "✗ 你的代码干扰了评分程序与它之间的连接（技术细节，原文为英文：{detail}）。",
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
        "grade_budget": (
            "✗ Not run: this notebook used up its whole time budget ({seconds} s) before this "
            "test. Look for slow loops or sleeps in your functions.",
            "✗ 未运行：在这个测试之前，这个 notebook 已经用完了全部的时间预算（{seconds} 秒）。"
            "请检查函数中是否有很慢的循环或 sleep。",
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
    }
)


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


def sandbox_message(error: SandboxError, limits: Limits, loading: bool) -> str:
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


def check_functions() -> dict[str, Any]:
    from grader.checks import api
    from grader.runtime.protocol import CHECK_NAMES

    return {name: getattr(api, name) for name in CHECK_NAMES}


def evaluate_cell(test: TestCell, session: Session, limits: Limits,
                  load_errors: dict[str, str], hidden_seeds: Any = None,
                  budget: Budget | None = None) -> CellResult:
    """Run the instructor's calls of one test cell against the student's proxies.

    ``hidden_seeds(seeds) -> seeds``, if given, replaces the seeds of hidden calls (per
    student hidden inputs, see ``Options.hidden_seeds``). The cell may take its own time
    limit, or what is left of the notebook's ``budget`` if that is less.
    """
    result = CellResult(grade_id=test.grade_id, points=test.points)
    checks = check_functions()
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
    EXECUTOR.reset(executor)
    result.seconds = round(time.monotonic() - started, 3)
    result.output = printed.getvalue()[-4000:]
    if failure is None:
        result.score, result.status = test.points, "passed"
        return result
    hidden = failed_call is not None and failed_call.hidden
    dead = session.sandbox.dead
    if dead is not None:
        text = sandbox_message(dead, limits, loading=False)
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
