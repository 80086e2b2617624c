"""``python -m grader check``: a self-learner's score, no instructor needed · 自学者自测.

The student's notebook is copied to a scratch folder, its test cells are
replaced by the instructor's (hidden tests included, from ``solutions/``),
deleted test cells are put back, and the whole notebook runs in a fresh kernel.
Nothing of the student's is changed and no gradebook is needed.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

from grader.record import intake
from grader import notebooks
from grader.checks import messages as M
from grader.course.build import nbgrader_env
from grader.paths import SOLUTIONS

__all__ = ["CellResult", "restore_tests", "run_notebook", "score_cells", "check_path"]

M.register(
    {
        "check_no_notebooks": (
            "No notebook found at {path}.",
            "在 {path} 没有找到 notebook。",
        ),
        "check_no_source": (
            "Cannot find the instructor's version of {name} (looked for {source}). "
            "Is this a course notebook, in a folder named like 01_perceptron?",
            "找不到 {name} 的教师版本（查找了 {source}）。"
            "这是课程的 notebook 吗？它应当位于类似 01_perceptron 的文件夹中。",
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
    }
)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class CellResult:
    grade_id: str
    points: float
    score: float
    message: str  # the failure message (bilingual), "" when passed


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


def check_notebook(path: Path, solutions: Path = SOLUTIONS) -> tuple[list[CellResult], str | None]:
    source_path = source_for(path, solutions)
    if not source_path.exists():
        raise FileNotFoundError(
            M.bilingual("check_no_source", name=path.name, source=source_path)
        )
    try:  # the grade of record's reader: GBK, nbformat 3, copied cells, damage repaired
        student, _ = intake.read_submission(path)
    except intake.Rejected as exc:
        raise ValueError(exc.message) from None
    except Exception as exc:
        raise ValueError(M.bilingual("check_unreadable", name=path.name, error=exc)) from None
    nb = restore_tests(student, notebooks.read(source_path))
    with tempfile.TemporaryDirectory(prefix="nnfs-check-") as tmp:
        workdir = Path(tmp) / path.parent.name
        shutil.copytree(path.parent, workdir, ignore=shutil.ignore_patterns("*.ipynb"))
        fatal = run_notebook(nb, workdir)
    return score_cells(nb, fatal), fatal


def format_report(name: str, results: list[CellResult]) -> str:
    score = sum(r.score for r in results)
    total = sum(r.points for r in results)
    width = max([len(r.grade_id) for r in results] + [10])
    lines = [M.bilingual("check_header", name=name, score=_num(score), max_score=_num(total)), ""]
    for r in results:
        status = M.text("check_passed" if r.score == r.points else "check_failed")
        lines.append(
            f"  {r.grade_id:<{width}}  {_num(r.score):>5} / {_num(r.points):<5} "
            f"{status.en} · {status.zh}"
        )
    for r in results:
        if r.message:
            lines += ["", M.bilingual("check_feedback", cell=r.grade_id), _indent(r.message)]
    return "\n".join(lines)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def check_path(path: str | Path, solutions: Path = SOLUTIONS) -> int:
    """Check one notebook or every notebook in a folder; print the report. Exit status."""
    path = Path(path)
    targets = sorted(path.glob("*.ipynb")) if path.is_dir() else [path]
    targets = [t for t in targets if t.exists()]
    if not targets:
        print(M.bilingual("check_no_notebooks", path=path))
        return 2
    status = 0
    for target in targets:
        try:
            results, _ = check_notebook(target, solutions)
        except (FileNotFoundError, ValueError) as exc:
            print(exc.args[0])
            status = 2
            continue
        print(format_report(f"{target.parent.name}/{target.name}", results))
        print()
    return status
