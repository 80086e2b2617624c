"""Feedback pages for students · 给学生的反馈页面.

One self-contained HTML page per submitted notebook, in both languages, from the grade of
record: the score, a table of the exercises as the notebook names them ("Exercise 1.3 ·
the perceptron learning algorithm") with their points, then each exercise's message (the
visible check it ran and, when it failed, what failed and the likely mistake), then the
student's own figures, taken from the outputs saved in their notebook. Hidden tests appear
only as "a hidden test failed" with the category of the mistake: never their source, their
seeds or their inputs (nbgrader's own feedback shows hidden test source,
jupyter/nbgrader#917).

The pages are laid out as nbgrader's feedback folder, ``feedback/<student>/<assignment>/
<notebook>.html``; ``python -m grader export --lms …`` also packs them for the LMS's bulk
feedback upload (:mod:`grader.record.lms`). Everything a student wrote is escaped; a
figure is shown only when its bytes are a PNG image.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from grader.checks import messages as M
from grader.record.terminal import short_number
from grader.record.vocabulary import ExerciseName, names_of

if TYPE_CHECKING:  # pragma: no cover
    from grader.record.results import SubmissionResult
    from grader.record.source import AssignmentSource

__all__ = ["write_feedback", "render", "student_figures", "MAX_FIGURES"]

M.register(
    {
        "feedback_title": ("Feedback: {assignment}", "反馈：{assignment}"),
        "feedback_score": ("Score: {score} / {max_score}", "得分：{score} / {max_score}"),
        "feedback_cell": ("Exercise", "练习"),
        "feedback_points": ("Points", "分数"),
        "feedback_result": ("Result", "结果"),
        "feedback_passed": ("passed", "通过"),
        "feedback_failed": ("failed", "未通过"),
        "feedback_check": ("The visible check:", "可见的检查："),
        "feedback_note": (
            "Scores come from the trusted grader: your solution cells ran in a sandbox and "
            "the instructor's tests (including hidden ones) checked them against PyTorch.",
            "分数来自可信评分程序：你的解答单元格在沙箱中运行，"
            "教师的测试（包括隐藏测试）把它们与 PyTorch 的结果进行了比较。",
        ),
        "feedback_written": ("Written answers", "文字作答"),
        "feedback_written_note": (
            "Your instructor grades these by hand; their points are not in the score above.",
            "这些题由老师人工评分；它们的分数不在上面的得分之中。",
        ),
        "feedback_written_answered": ("answered: waits for your instructor's grade",
                                      "已作答：等待老师评分"),
        "feedback_written_blank": ("left blank: no answer to grade", "空白：没有可评的答案"),
        "feedback_figures": ("Your figures", "你的图"),
        "feedback_figures_note": (
            "As saved in the notebook you handed in (figures are not graded).",
            "取自你提交的 notebook 中保存的输出（图不计分）。",
        ),
        "feedback_figures_more": (
            "… and {count} more figures, not shown.",
            "……另有 {count} 张图，没有显示。",
        ),
    }
)

MAX_FIGURES = 12  # figures shown per notebook
MAX_FIGURE_BYTES = 1_500_000  # one figure's PNG
MAX_READ_MB = 16  # a larger notebook's figures are not looked for (its outputs are huge)
_PNG = b"\x89PNG\r\n\x1a\n"
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif;
max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.5}
h1{font-size:1.5rem}h2{font-size:1.15rem}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #d0d7de;padding:.3rem .7rem;text-align:left;vertical-align:top}
.passed{color:#1a7f37}.failed{color:#cf222e}
pre{background:#f6f8fa;padding:.7rem;overflow-x:auto;white-space:pre-wrap}
.zh{color:#57606a}section{margin:1.5rem 0;border-top:1px solid #d0d7de}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #d0d7de}
figcaption{color:#57606a;font-size:.9rem}
"""


def _both(key: str, **values: object) -> str:
    text = M.text(key, **values)
    return f'{html.escape(text.en)} <span class="zh">· {html.escape(text.zh)}</span>'


def _label(name: ExerciseName | None, grade_id: str) -> str:
    if name is None:
        return html.escape(grade_id)
    label = name.label
    return f'{html.escape(label.en)}<br><span class="zh">{html.escape(label.zh)}</span>'



def _text(source) -> str:
    return source if isinstance(source, str) else "".join(s for s in source if isinstance(s, str)) \
        if isinstance(source, list) else ""


def student_figures(path: Path | None, limit: int = MAX_FIGURES) -> tuple[list[tuple[str, str]], int]:
    """([(caption, base64 PNG)], how many more there were) from the outputs saved in a
    submitted notebook: the caption is the heading the figure sits under. Only real PNG bytes
    are kept; a notebook larger than MAX_READ_MB is not read for figures."""
    if path is None or not path.is_file() or path.stat().st_size > MAX_READ_MB * 2**20:
        return [], 0
    try:
        data = json.loads(path.read_bytes().decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return [], 0
    cells = data.get("cells") if isinstance(data, dict) else None
    figures, more, heading = [], 0, ""
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        if cell.get("cell_type") == "markdown":
            for line in _text(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()[:200]
                    break
            continue
        outputs = cell.get("outputs")
        for output in outputs if isinstance(outputs, list) else []:
            bundle = output.get("data") if isinstance(output, dict) else None
            png = bundle.get("image/png") if isinstance(bundle, dict) else None
            png = _text(png) if isinstance(png, list) else png
            if not isinstance(png, str) or len(png) > MAX_FIGURE_BYTES * 4 // 3 + 4096 \
                    or not _BASE64.match(png):
                continue
            try:
                raw = base64.b64decode(png, validate=False)
            except (binascii.Error, ValueError):
                continue
            if not raw.startswith(_PNG):
                continue
            if len(figures) >= limit:
                more += 1
                continue
            figures.append((heading, base64.b64encode(raw).decode("ascii")))
    return figures, more


def render(result: SubmissionResult, index: int, source: AssignmentSource,
           figures: tuple[list[tuple[str, str]], int] = ([], 0)) -> str:
    nb = result.notebooks[index]
    book = next((b for b in source.notebooks if b.name == nb.notebook), None)
    visible = {t.grade_id: t.visible for t in book.tests} if book else {}
    names = names_of(source)
    score = _both("feedback_score", score=short_number(nb.score, 2),
                  max_score=short_number(nb.max_score, 2))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(result.assignment)} · {html.escape(result.student)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_both('feedback_title', assignment=result.assignment)}</h1>",
        f"<p>{html.escape(result.student)} · {html.escape(nb.notebook)}</p>",
        f"<p><strong>{score}</strong></p>",
        *([f'<pre class="failed">{html.escape(nb.message.strip())}</pre>'] if nb.message else []),
        f"<p>{_both('feedback_note')}</p>",
        "<table><tr>"
        f"<th>{_both('feedback_cell')}</th><th>{_both('feedback_points')}</th>"
        f"<th>{_both('feedback_result')}</th></tr>",
    ]
    for cell in nb.cells:
        status = "passed" if cell.status == "passed" else "failed"
        parts.append(
            f'<tr><td><a href="#{html.escape(cell.grade_id)}">'
            f"{_label(names.get(cell.grade_id), cell.grade_id)}</a>"
            f"</td><td>{short_number(cell.score, 2)} / {short_number(cell.points, 2)}</td>"
            f'<td class="{status}">{_both("feedback_" + status)}</td></tr>')
    parts.append("</table>")
    parts += _written(nb)
    for cell in nb.cells:
        status = "passed" if cell.status == "passed" else "failed"
        name = names.get(cell.grade_id)
        title = html.escape(name.label.en) if name else html.escape(cell.grade_id)
        parts.append(f'<section id="{html.escape(cell.grade_id)}">')
        parts.append(f'<h2>{title} · <span class="{status}">'
                     f"{_both('feedback_' + status)}</span></h2>")
        if name:
            parts.append(f'<p class="zh">{html.escape(name.label.zh)}</p>')
        if visible.get(cell.grade_id):
            parts.append(f"<p>{_both('feedback_check')}</p>"
                         f"<pre>{html.escape(visible[cell.grade_id])}</pre>")
        text = cell.output if status == "passed" else cell.feedback
        if text:
            parts.append(f"<pre>{html.escape(text.strip())}</pre>")
        parts.append("</section>")
    shown, more = figures
    if shown:
        parts.append(f"<section><h2>{_both('feedback_figures')}</h2>"
                     f"<p>{_both('feedback_figures_note')}</p>")
        for caption, data in shown:
            parts.append(f'<figure><img alt="{html.escape(caption)}" '
                         f'src="data:image/png;base64,{data}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        if more:
            parts.append(f"<p>{_both('feedback_figures_more', count=more)}</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _written(nb) -> list[str]:
    """The written answers: graded by hand, so only whether each was answered."""
    from grader.record.written import question_label

    if not nb.written:
        return []
    rows = [f"<h2>{_both('feedback_written')}</h2><p>{_both('feedback_written_note')}</p>",
            f"<table><tr><th>{_both('feedback_cell')}</th><th>{_both('feedback_points')}</th>"
            f"<th>{_both('feedback_result')}</th></tr>"]
    for answer in nb.written:
        label = question_label(answer.grade_id)
        state = "answered" if answer.answered else "blank"
        rows.append(f'<tr><td>{html.escape(label.en)}<br><span class="zh">'
                    f"{html.escape(label.zh)}</span></td><td>{short_number(answer.points, 2)}</td>"
                    f'<td class="{"passed" if answer.answered else "failed"}">'
                    f"{_both('feedback_written_' + state)}</td></tr>")
    rows.append("</table>")
    return rows


def _submitted(out: Path, student: str, assignment: str, notebook: str) -> Path | None:
    """The copy of the notebook the grader collected (``collected/`` or a shard's own)."""
    if not notebook:
        return None
    found = [p for p in out.glob(f"collected*/{student}/{assignment}/{notebook}") if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def write_feedback(out: Path, result: SubmissionResult, source: AssignmentSource,
                   submitted: Path | None = None) -> list[Path]:
    """``out/feedback/<student>/<assignment>/<notebook>.html`` for each notebook; figures from
    the notebook in ``submitted`` (a folder), else from the copy the grader collected."""
    written = []
    for index, nb in enumerate(result.notebooks):
        stem = Path(nb.notebook).stem or "notebook"
        path = out / "feedback" / result.student / result.assignment / f"{stem}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        copy = submitted / nb.notebook if submitted is not None and nb.notebook else \
            _submitted(out, result.student, result.assignment, nb.notebook)
        figures = student_figures(copy) if nb.status not in ("unreadable", "too_large") \
            else ([], 0)
        # errors="replace": a lone surrogate in a student's text never stops the class
        path.write_text(render(result, index, source, figures), encoding="utf-8",
                        errors="replace")
        written.append(path)
    return written
