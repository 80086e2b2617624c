"""``python -m grader check``: a self-learner's score, no instructor needed · 自学者自测.

The grade of record's engine, on your own notebook: the notebook is read the way the
instructor's grader reads a submission (:mod:`grader.record.intake`: GBK, nbformat 3,
copied cells, damage repaired), recognised by its cells when it was renamed (``Copy of
perceptron.ipynb``), and graded by :func:`grader.record.notebook.grade_notebook`: your
setup and solution cells run in the sandbox, the instructor's test cells from
``solutions/`` (hidden tests included, with the solutions' own seeds) check them, with
the limits of ``grading.toml``. A line per exercise as it is graded, then the score table
and every failure message. Nothing of yours is written: not the notebook, not its folder.

Exit status: 0 when every notebook checked has full marks, 1 when one has not (yet), 2
when a notebook cannot be checked (missing, unreadable, not a course notebook).

:func:`kernel_check` is the older way, kept for the notebook tests: the whole notebook,
demos and plots included, run top to bottom in a fresh kernel with the instructor's test
cells put back.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

from grader import notebooks
from grader.checks import messages as M
from grader.course.build import nbgrader_env
from grader.errors import UsageError
from grader.paths import SOLUTIONS
from grader.record import intake
from grader.record.results import Totals
from grader.record.terminal import error_line, printable, short_number

__all__ = ["CheckedCell", "Checked", "check_notebook", "check_one", "check_path",
           "format_report", "find_source", "kernel_check", "restore_tests", "run_notebook",
           "score_cells"]

M.register(
    {
        "check_no_notebooks": (
            "No notebook found at {path}.",
            "在 {path} 没有找到 notebook。",
        ),
        "check_no_source": (
            "{name} is not a notebook of this course: its graded cells are none of any "
            "assignment's in {solutions}.",
            "{name} 不是本课程的 notebook：它的评分单元格不属于 {solutions} 中的任何作业。",
        ),
        "check_unreadable": (
            "{name} is not a readable notebook: {error}. Your file is unchanged.",
            "{name} 不是可读取的 notebook:{error}。你的文件没有被改动。",
        ),
        "check_header": (
            "{name}: {score} / {max_score} points",
            "{name}:{score} / {max_score} 分",
        ),
        "check_passed": ("passed", "通过"),
        "check_failed": ("failed", "未通过"),
        "check_kernel_died": (
            "The notebook stopped running: {error}",
            "notebook 停止运行：{error}",
        ),
        "check_feedback": ("Feedback for {cell}:", "{cell} 的反馈："),
        "check_start": (
            "Checking {path} with the instructor's tests (hidden ones included); your files "
            "are not changed.",
            "正在用教师的测试（包括隐藏测试）检查 {path}；你的文件不会被改动。",
        ),
        "check_recognised": (
            "{name} is recognised by its cells as {assignment}/{notebook}.",
            "根据其单元格，{name} 被识别为 {assignment}/{notebook}。",
        ),
        "check_unsandboxed": (
            "(bubblewrap is not installed: your code runs with resource limits only; that is "
            "fine for your own notebook.)",
            "（未安装 bubblewrap：你的代码只受资源限制；检查自己的 notebook 时这没有问题。）",
        ),
        "check_full": (
            "Full marks. Nothing of yours was changed.",
            "满分。你的文件没有任何改动。",
        ),
        "check_not_full": (
            "Not full marks yet: {score} / {max_score}. Nothing of yours was changed (exit "
            "status 1).",
            "还没有满分：{score} / {max_score}。你的文件没有任何改动（退出状态 1）。",
        ),
        "check_full_written": (
            "Full marks on everything graded here. Nothing of yours was changed.",
            "这里评分的部分全部满分。你的文件没有任何改动。",
        ),
        "check_written": (
            "Written answers are graded by hand, not here (their points are not in this score):",
            "文字作答由人工评分，不在这里评分（其分数不计入上面的得分）：",
        ),
        "check_written_answered": (
            "{question} ({points} points): answered. Your instructor grades it; on your own, "
            "compare it with the model answer in solutions/.",
            "{question}（{points} 分）：已作答。由老师评分；自学时请与 solutions/ 中的参考答案对照。",
        ),
        "check_written_blank": (
            "{question} ({points} points): still blank. Write your answer in its cell.",
            "{question}（{points} 分）：仍是空白。请在它的单元格中写下你的回答。",
        ),
        "check_crashed": (
            "Could not check {path}: the checker itself failed ({error}). Your file was not "
            "changed; please report this to the course's maintainers.",
            "无法检查 {path}：检查程序本身出错（{error}）。你的文件没有被改动；请把这个问题告知课程维护者。",
        ),
        "check_written_lost": (
            "{question} ({points} points): its answer cell is not in your notebook (deleted, "
            "or its cell metadata lost, e.g. by pasting the text into a new cell), so your "
            "instructor finds no answer there. Write the answer in the cell released under "
            "the question (take it from a fresh copy of the release if you need to).",
            "{question}（{points} 分）：你的 notebook 中没有它的作答单元格（被删除，或单元格元数据丢失，"
            "例如把文字粘贴到了新单元格），老师在那里找不到你的回答。请把回答写在发布时题目下方的那个单元格里"
            "（需要的话，从一份新的发布版本中取回它）。",
        ),
        "check_written_twice": (
            "{question} ({points} points): two cells are its answer cell (a copy); only the "
            "first is read, and it is {state}. Keep one cell with your whole answer.",
            "{question}（{points} 分）：有两个单元格都是它的作答单元格（复制而来）；只读取第一个，"
            "而它{state}。请只保留一个写有完整回答的单元格。",
        ),
        "check_status": (
            "The notebook was not graded in full ({status}):",
            "这个 notebook 没有完整评分（{status}）：",
        ),
    }
)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_HIDDEN_NOTE = re.compile(r"\n\[hidden call, line \d+: .*\]$", re.DOTALL)


@dataclass
class CheckedCell:
    """One exercise's result, as ``check`` shows it."""

    grade_id: str
    points: float
    score: float
    message: str  # the failure message (bilingual), "" when passed
    number: str = ""  # the notebook's exercise number, e.g. "1.3"
    title: M.Text | None = None  # its bilingual title

    @property
    def label(self) -> str:
        return f"{self.number} {self.title.en}".strip() if self.title else self.grade_id


# what kernel_check's cells are called elsewhere
CellResult = CheckedCell


@dataclass
class Checked(Totals):
    """A checked notebook: where it is, what it was recognised as, and its cells."""

    path: Path
    assignment: str
    notebook: str
    cells: list[CheckedCell]
    status: str = "ok"
    message: str = ""
    flags: tuple[str, ...] = ()
    written: list = field(default_factory=list)  # grader.record.results.WrittenAnswer

    def parts(self) -> list[CheckedCell]:
        return self.cells

    @property
    def full(self) -> bool:
        return self.status == "ok" and self.max_score > 0 and self.score >= self.max_score


def read_student(path: Path, error: type[Exception]) -> NotebookNode:
    """The student's notebook, read as the grade of record reads it (GBK, nbformat 3,
    copied cells, damage repaired); ``error`` with a bilingual reason when it cannot be."""
    try:
        nb, _ = intake.read_submission(path)
    except intake.Rejected as exc:
        raise error(exc.message) from None
    except Exception as exc:
        raise error(M.bilingual("check_unreadable", name=path.name, error=exc)) from None
    return nb


def find_source(path: Path, nb: NotebookNode, solutions: Path = SOLUTIONS) -> tuple[str, str]:
    """(assignment, notebook name) of the instructor's notebook that ``nb`` is a copy of: the
    released name, else the notebook whose graded cells it carries most of (what ``grade``
    does with ``Copy of perceptron.ipynb``)."""
    from grader.record.matching import best_match, cell_index, notebook_index

    solutions = Path(solutions).resolve()
    index = notebook_index(solutions)
    ids = intake.grade_ids(nb)
    if path.name in index and (not ids or ids & cell_index(solutions).get(path.name, set())):
        return index[path.name], path.name
    found = best_match(ids, cell_index(solutions))
    if found is None:
        raise UsageError(M.bilingual("check_no_source", name=path.name, solutions=solutions))
    return index[found], found


def check_one(path: Path, solutions: Path = SOLUTIONS,
              on_cell: Callable[[CheckedCell], None] | None = None,
              say: Callable[[str], None] | None = None) -> Checked:
    """Grade one notebook with the grade of record's engine (see the module docstring)."""
    from grader.record.config import load_limits
    from grader.record.notebook import Options, grade_notebook
    from grader.record.source import load_assignment
    from grader.record.vocabulary import names_of

    path = Path(path)
    if not path.is_file():
        raise UsageError(M.bilingual("check_no_notebooks", path=path))
    nb = read_student(path, UsageError)
    assignment, notebook = find_source(path, nb, solutions)
    if say is not None and notebook != path.name:
        say(M.bilingual("check_recognised", name=printable(path.name, 120),
                        assignment=assignment, notebook=notebook))
    source = load_assignment(assignment, Path(solutions))
    book = next(b for b in source.notebooks if b.name == notebook)
    names = names_of(source)
    limits, by_notebook = load_limits()
    options = Options(solutions=Path(solutions), limits=limits, limits_by_notebook=by_notebook,
                      sandbox="auto", hidden_seeds=None)

    def checked(cell) -> CheckedCell:
        name = names.get(cell.grade_id)
        message = "" if cell.status == "passed" else _HIDDEN_NOTE.sub("", cell.detail or
                                                                      cell.feedback)
        return CheckedCell(cell.grade_id, cell.points, cell.score, message,
                           name.number if name else "", name.title if name else None)

    report = (lambda cell: on_cell(checked(cell))) if on_cell is not None else None
    result = grade_notebook(path, "self-check", source, book, options, on_cell=report)
    return Checked(path, assignment, notebook, [checked(c) for c in result.cells],
                   result.status, result.message, tuple(result.flags), result.written)


def check_notebook(path: Path, solutions: Path = SOLUTIONS) -> tuple[list[CheckedCell], str | None]:
    """(cells, what stopped the notebook or None): :func:`check_one` without printing."""
    done = check_one(path, solutions)
    return done.cells, (done.message or done.status) if done.status not in ("ok", "blank") \
        else None



def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _mark(cell: CheckedCell) -> str:
    return "✓" if cell.points and cell.score >= cell.points else "✗"


def progress_line(cell: CheckedCell) -> str:
    return (f"  {_mark(cell)} {cell.label[:60]:<60} {short_number(cell.score, 2):>4} / "
            f"{short_number(cell.points, 2)}")


def format_report(name: str, results: list[CheckedCell], status: str = "ok",
                  message: str = "") -> str:
    """The score table (exercises as the notebook names them), then every failure."""
    score = sum(r.score for r in results)
    total = sum(r.points for r in results)
    lines = [M.bilingual("check_header", name=name, score=short_number(score, 2),
                         max_score=short_number(total, 2)), ""]
    if status not in ("ok", "blank") and message:
        lines += [M.bilingual("check_status", status=status), _indent(message), ""]
    for r in results:
        status_text = M.text("check_passed" if r.points and r.score >= r.points else "check_failed")
        title = f"{r.label[:52]:<52}" if r.title else f"{r.grade_id:<52}"
        lines.append(f"  {_mark(r)} {title} {short_number(r.score, 2):>4} / {short_number(r.points, 2):<4} "
                     f"{status_text.en} · {status_text.zh}")
    for r in results:
        if r.message:
            label = f"{r.label} ({r.grade_id})" if r.title else r.grade_id
            lines += ["", M.bilingual("check_feedback", cell=label), _indent(r.message)]
    return "\n".join(lines)


def check_path(path: str | Path, solutions: Path = SOLUTIONS, quiet: bool = False) -> int:
    """Check one notebook or every notebook in a folder; print as it goes. The exit status:
    0 full marks everywhere, 1 not (yet), 2 something could not be checked."""
    path = Path(path)
    if not path.exists():
        raise UsageError(M.bilingual("check_no_notebooks", path=path))
    targets = sorted(p for p in path.glob("*.ipynb") if p.is_file()) if path.is_dir() else [path]
    if not targets:
        raise UsageError(M.bilingual("check_no_notebooks", path=path))

    def say(text: str) -> None:
        if not quiet:
            print(text, flush=True)

    status = 0
    for target in targets:
        shown = printable(f"{target.parent.name}/{target.name}", 200)
        say(M.bilingual("check_start", path=shown))
        try:
            done = check_one(target, solutions, on_cell=lambda c: say(progress_line(c)), say=say)
        except UsageError as exc:
            print(exc.message, file=sys.stderr, flush=True)
            status = 2
            continue
        except Exception as exc:  # noqa: BLE001 - a bug of ours: one line, and the next file
            print(M.bilingual("check_crashed", path=shown, error=error_line(exc, 200)),
                  file=sys.stderr, flush=True)
            status = 2
            continue
        if "unsandboxed" in done.flags:
            say(M.bilingual("check_unsandboxed"))
        say("")
        say(format_report(shown, done.cells, done.status, done.message))
        say("")
        if done.full:
            say(M.bilingual("check_full_written" if done.written else "check_full"))
        else:
            say(M.bilingual("check_not_full", score=short_number(done.score, 2),
                            max_score=short_number(done.max_score, 2)))
            status = max(status, 1)
        for line in written_lines(done.written, done.flags):
            say(line)
        say("")
    return status


def written_lines(written: list, flags: tuple[str, ...] = ()) -> list[str]:
    """What ``check`` says of the written answers: graded by hand, so only answered or not,
    and where the instructor would not find the answer (its cell lost or copied), that."""
    from grader.record.written import question_label

    if not written:
        return []
    lines = ["", M.bilingual("check_written")]
    for answer in written:
        label = question_label(answer.grade_id)
        key = "check_written_answered" if answer.answered else "check_written_blank"
        state = M.Text("answered", "已作答") if answer.answered else M.Text("blank", "是空白的")
        if f"answer_cell_deleted:{answer.grade_id}" in flags:
            key = "check_written_lost"
        elif f"duplicate_grade_id:{answer.grade_id}" in flags:
            key = "check_written_twice"
        text = M.text(key, question=label.en, points=short_number(answer.points, 2), state=state.en)
        text_zh = M.text(key, question=label.zh, points=short_number(answer.points, 2), state=state.zh)
        lines += [f"  {'✓' if key == 'check_written_answered' else '·'} {text.en}",
                  f"    {text_zh.zh}"]
    return lines


# ------------------------------------------------------------ the in-kernel check (tests)


def restore_tests(student: NotebookNode, source: NotebookNode) -> NotebookNode:
    """``student`` with every test cell taken from ``source`` (hidden tests included)."""
    nb = copy.deepcopy(student)
    wanted = {notebooks.grade_id(c): c for c in source.cells if notebooks.is_test_cell(c)}
    present = set()
    kept = []
    for cell in nb.cells:
        ident = notebooks.grade_id(cell)
        if ident in wanted:
            present.add(ident)
            cell.cell_type = "code"
            restored = copy.deepcopy(wanted[ident])
            restored.source = notebooks.strip_hidden_markers(restored.source)
            restored.pop("id", None)
            kept.append(_with_fresh_id(restored))
        elif notebooks.is_test_cell(cell):
            continue  # a test cell the instructor no longer has (or a forged one): ignore
        else:
            kept.append(cell)
    nb.cells = kept
    # Put back deleted test cells right after the cell that precedes them in the source.
    order = [notebooks.grade_id(c) for c in source.cells]
    for index, cell in enumerate(source.cells):
        ident = notebooks.grade_id(cell)
        if ident not in wanted or ident in present:
            continue
        restored = copy.deepcopy(cell)
        restored.source = notebooks.strip_hidden_markers(restored.source)
        position = len(nb.cells)
        for previous in reversed(order[:index]):
            hits = [i for i, c in enumerate(nb.cells) if previous and notebooks.grade_id(c) == previous]
            if hits:
                position = hits[0] + 1
                break
        restored.pop("id", None)
        nb.cells.insert(position, _with_fresh_id(restored))
    return nb


def _with_fresh_id(cell: NotebookNode) -> NotebookNode:
    new = nbformat.from_dict(cell)
    new["id"] = "restored-" + (notebooks.grade_id(cell) or "cell")
    return new


def run_notebook(nb: NotebookNode, workdir: Path, timeout: int = 300) -> str | None:
    """Execute ``nb`` in place in a fresh kernel; errors stay in the cell outputs.

    Returns a description of a fatal problem (dead kernel, timeout) or None.
    """
    env = nbgrader_env()
    env["NBGRADER_EXECUTION"] = "autograde"
    env["MPLBACKEND"] = "Agg"
    client = NotebookClient(
        nb,
        # A kernel on loopback for one run: its TCP-encryption warning only adds noise.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    old = dict(os.environ)
    try:
        os.environ.update(env)  # the kernel inherits this process's environment
        client.execute(cwd=str(workdir))
    except Exception as exc:  # a dead kernel or a timeout: score what ran
        return f"{type(exc).__name__}: {exc}"
    finally:
        os.environ.clear()
        os.environ.update(old)
    return None


def _failure_text(cell: NotebookNode, ignore_pattern: str = r"Warning") -> str | None:
    """The failure shown in a test cell's outputs, or None when it passed (nbgrader's rule)."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename == "CheckFailure":
                return output.evalue.strip("\n")
            tb = "\n".join(_ANSI.sub("", line) for line in output.traceback)
            return tb.strip()
        if output.output_type == "stream" and output.name == "stderr":
            if re.search(ignore_pattern, output.text):
                continue
            return output.text.strip()
    return None


def score_cells(nb: NotebookNode, fatal: str | None = None) -> list[CellResult]:
    results = []
    for cell in nb.cells:
        if not notebooks.is_test_cell(cell):
            continue
        points = float(notebooks.nbgrader_meta(cell).get("points", 0))
        failure = _failure_text(cell)
        ran = cell.get("execution_count") is not None or cell.get("outputs")
        if failure is None and not ran:
            failure = M.bilingual("check_kernel_died", error=fatal or "not executed")
        results.append(
            CellResult(
                grade_id=notebooks.grade_id(cell) or "?",
                points=points,
                score=0.0 if failure else points,
                message=failure or "",
            )
        )
    return results


def source_for(path: Path, solutions: Path = SOLUTIONS) -> Path:
    return solutions / path.parent.name / path.name


def kernel_check(path: Path, solutions: Path = SOLUTIONS) -> tuple[list[CellResult], str | None]:
    """The whole notebook run in a fresh kernel with the instructor's test cells put back
    (demos and plots included): the notebook tests' way of running a notebook."""
    source_path = source_for(path, solutions)
    if not source_path.exists():
        raise UsageError(M.bilingual("check_no_source", name=path.name,
                                     solutions=source_path.parent.parent))
    student = read_student(path, ValueError)
    nb = restore_tests(student, notebooks.read(source_path))
    with tempfile.TemporaryDirectory(prefix="nnfs-check-") as tmp:
        workdir = Path(tmp) / path.parent.name
        shutil.copytree(path.parent, workdir, ignore=shutil.ignore_patterns("*.ipynb"))
        fatal = run_notebook(nb, workdir)
    return score_cells(nb, fatal), fatal
