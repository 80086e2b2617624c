"""Feedback pages for students · 给学生的反馈页面.

One self-contained HTML page per submitted notebook, in both languages: the
score, then each graded cell with its points, the visible check it ran and, when
it failed, what failed and the likely mistake. Hidden tests appear only as
"a hidden test failed" with the category of the mistake: never their source,
their seeds or their inputs (nbgrader's own feedback shows hidden test source,
jupyter/nbgrader#917).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from grader.checks import messages as M

if TYPE_CHECKING:  # pragma: no cover
    from grader.record.results import SubmissionResult
    from grader.record.source import AssignmentSource

__all__ = ["write_feedback", "render"]

M.register(
    {
        "feedback_title": ("Feedback: {assignment}", "反馈：{assignment}"),
        "feedback_score": ("Score: {score} / {max_score}", "得分：{score} / {max_score}"),
        "feedback_cell": ("Cell", "单元格"),
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
    }
)

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif;
max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.5}
h1{font-size:1.5rem}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #d0d7de;padding:.3rem .7rem;text-align:left}
.passed{color:#1a7f37}.failed{color:#cf222e}
pre{background:#f6f8fa;padding:.7rem;overflow-x:auto;white-space:pre-wrap}
.zh{color:#57606a}section{margin:1.5rem 0;border-top:1px solid #d0d7de}
"""


def _both(key: str, **values: object) -> str:
    text = M.text(key, **values)
    return f'{html.escape(text.en)} <span class="zh">· {html.escape(text.zh)}</span>'


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def render(result: SubmissionResult, index: int, source: AssignmentSource) -> str:
    nb = result.notebooks[index]
    book = next((b for b in source.notebooks if b.name == nb.notebook), None)
    visible = {t.grade_id: t.visible for t in book.tests} if book else {}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(result.assignment)} · {html.escape(result.student)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_both('feedback_title', assignment=result.assignment)}</h1>",
        f"<p>{html.escape(result.student)} · {html.escape(nb.notebook)}</p>",
        f"<p><strong>{_both('feedback_score', score=_num(nb.score), max_score=_num(nb.max_score))}"
        "</strong></p>",
        *([f'<pre class="failed">{html.escape(nb.message.strip())}</pre>'] if nb.message else []),
        f"<p>{_both('feedback_note')}</p>",
        "<table><tr>"
        f"<th>{_both('feedback_cell')}</th><th>{_both('feedback_points')}</th>"
        f"<th>{_both('feedback_result')}</th></tr>",
    ]
    for cell in nb.cells:
        status = "passed" if cell.status == "passed" else "failed"
        parts.append(
            f'<tr><td><a href="#{html.escape(cell.grade_id)}">{html.escape(cell.grade_id)}</a>'
            f"</td><td>{_num(cell.score)} / {_num(cell.points)}</td>"
            f'<td class="{status}">{_both("feedback_" + status)}</td></tr>')
    parts.append("</table>")
    for cell in nb.cells:
        status = "passed" if cell.status == "passed" else "failed"
        parts.append(f'<section id="{html.escape(cell.grade_id)}">')
        parts.append(f'<h2>{html.escape(cell.grade_id)} · <span class="{status}">'
                     f"{_both('feedback_' + status)}</span></h2>")
        if visible.get(cell.grade_id):
            parts.append(f"<p>{_both('feedback_check')}</p>"
                         f"<pre>{html.escape(visible[cell.grade_id])}</pre>")
        text = cell.output if status == "passed" else cell.feedback
        if text:
            parts.append(f"<pre>{html.escape(text.strip())}</pre>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_feedback(out: Path, result: SubmissionResult, source: AssignmentSource) -> list[Path]:
    written = []
    for index, nb in enumerate(result.notebooks):
        stem = Path(nb.notebook).stem or "notebook"
        path = out / "feedback" / result.student / result.assignment / f"{stem}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        # errors="replace": a lone surrogate in a student's text never stops the class
        path.write_text(render(result, index, source), encoding="utf-8", errors="replace")
        written.append(path)
    return written
