"""The class report page, ``OUT/report.html`` · 全班报告页面.

One self-contained page for the instructor (figures are inline SVG, grader.record.charts):
per assignment the distribution of scores and a bar per exercise showing how
many students got it fully, partly or not at all; the exercises to re-teach; the rows whose
flags need a look, with what each flag means; and a grade table linking to every student's
feedback page. Student-chosen text is escaped.
"""

from __future__ import annotations

import html
import urllib.parse
from collections import defaultdict
from pathlib import Path

from grader.checks import messages as M
from grader.record import charts
from grader.record.flags import describe_flag, flag_name, needs_attention
from grader.record.summary import (
    assignment_lines,
    by_hand,
    exercise_table,
    flag_label,
    flagged_rows,
    reteach,
)
from grader.record.terminal import short_number

__all__ = ["write_report_page", "render", "figures"]

M.register(
    {
        "report_title": ("Class report", "全班报告"),
        "report_scores": ("Scores: {assignment}", "得分分布：{assignment}"),
        "report_score_axis": ("score", "得分"),
        "report_count_axis": ("submissions", "提交份数"),
        "report_exercises": ("Who got each exercise: {assignment}", "每个练习的完成情况：{assignment}"),
        "report_students_axis": ("students", "学生人数"),
        "report_full": ("full marks", "满分"),
        "report_partial": ("partly", "部分得分"),
        "report_zero": ("no marks", "零分"),
        "report_overview": ("Assignments", "作业"),
        "report_table_head": (
            "assignment|submissions|mean|median|max|full|partial|zero",
            "作业|提交份数|平均分|中位数|满分值|满分|部分得分|零分",
        ),
        "report_grades": ("Grades (a link opens the student's feedback page)",
                          "成绩（点击链接打开该学生的反馈页面）"),
        "report_student": ("student", "学生"),
        "report_none": ("Nothing to show.", "没有可显示的内容。"),
    }
)

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif;
max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-top:1px solid #d0d7de;
padding-top:1rem}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}td.n{text-align:right}
.zh{color:#57606a}.row{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
svg{border:1px solid #eaeef2}
"""

GREEN, AMBER, RED = "#2da44e", "#d4a72c", "#cf222e"


def _both(key: str, **values: object) -> str:
    text = M.text(key, **values)
    return f'{html.escape(text.en)} <span class="zh">· {html.escape(text.zh)}</span>'


def _label(key: str, **values: object) -> str:
    text = M.text(key, **values)
    return f"{text.en} · {text.zh}"



def figures(results, names) -> dict[str, tuple[str, str]]:
    """{assignment: (score distribution SVG, exercises SVG)}."""
    by = defaultdict(list)
    for result in results:
        by[result.assignment].append(result)
    table = exercise_table(results)
    drawn = {}
    for assignment in sorted(by):
        rows = by[assignment]
        maximum = max((r.max_score for r in rows), default=0.0)
        distribution = charts.score_distribution(
            [r.score for r in rows], maximum, _label("report_scores", assignment=assignment),
            _label("report_score_axis"), _label("report_count_axis"))
        exercises = table.get(assignment, {})
        known = names.get(assignment, {})
        bars = []
        for ident, counts in exercises.items():
            text = known[ident].short if ident in known else ident
            text = text if len(text) <= 42 else text[:41] + "…"
            bars.append((text, counts["full"], counts["partial"], counts["zero"]))
        drawn[assignment] = (distribution, charts.exercise_bars(
            bars, _label("report_exercises", assignment=assignment),
            _label("report_students_axis"),
            (_label("report_full"), _label("report_partial"), _label("report_zero")),
            (GREEN, AMBER, RED)))
    return drawn


def _feedback_link(result) -> str | None:
    for book in result.notebooks:
        if book.notebook:
            stem = Path(book.notebook).stem
            parts = ["feedback", result.student, result.assignment, f"{stem}.html"]
            return "/".join(urllib.parse.quote(p) for p in parts)
    return None


def render(results, names) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(M.en('report_title'))}</title>",
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>{_both('report_title')}</h1>"]
    if not results:
        parts += [f"<p>{_both('report_none')}</p>", "</body></html>"]
        return "\n".join(parts)
    head_en = M.en("report_table_head").split("|")
    head_zh = M.zh("report_table_head").split("|")
    parts += [f"<h2>{_both('report_overview')}</h2>", "<table><tr>"]
    parts += [f'<th>{html.escape(e)}<br><span class="zh">{html.escape(z)}</span></th>'
              for e, z in zip(head_en, head_zh)]
    parts.append("</tr>")
    for assignment, n, mean, median, maximum, full, partial, zero in assignment_lines(results):
        cells = [f"<td>{html.escape(assignment)}</td>"] + [
            f'<td class="n">{v}</td>' for v in (n, f"{mean:.1f}", short_number(median), short_number(maximum),
                                                 full, partial, zero)]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")

    answers, points, blank = by_hand(results)
    if answers + blank:
        line = _both("summary_by_hand", answers=answers, points=short_number(points), blank=blank)
        parts.append(f"<p><strong>{line}</strong></p>")

    chosen, _ = reteach(results)
    if chosen:
        parts += [f"<h2>{_both('summary_reteach')}</h2>", "<ol>"]
        for item in chosen:
            name = names.get(item.assignment, {}).get(item.grade_id)
            label = name.label if name else M.Text(item.grade_id, item.grade_id)
            parts.append(f"<li>{html.escape(label.en)} ({html.escape(item.assignment)}) — "
                         f"{_both('summary_missed', missed=item.missed, count=item.count)}"
                         f'<br><span class="zh">{html.escape(label.zh)}</span></li>')
        parts.append("</ol>")

    for assignment, (distribution, exercises) in figures(results, names).items():
        parts += [f"<h2>{html.escape(assignment)}</h2>", '<div class="row">', distribution,
                  exercises, "</div>"]

    eyes = flagged_rows(results)
    if eyes:
        parts += [f"<h2>{_both('summary_eyes', count=len(eyes))}</h2>", "<table>"]
        seen: dict[str, None] = {}
        for result in eyes:
            shown = [f for f in result.flags if needs_attention(f)]
            seen.update(dict.fromkeys(flag_name(f) for f in shown))
            labels = [flag_label(f, result.assignment, names) for f in shown]
            parts.append(f"<tr><td>{html.escape(result.student)}</td>"
                         f"<td>{html.escape(result.assignment)}</td>"
                         f"<td>{html.escape(', '.join(labels))}</td></tr>")
        parts.append("</table>")
        parts += [f"<p>{_both('summary_flag_meanings')}</p>", "<dl>"]
        for name in seen:
            meaning = describe_flag(name)
            text = meaning or M.text("summary_unknown_flag")
            parts.append(f"<dt><code>{html.escape(name)}</code></dt><dd>{html.escape(text.en)}"
                         f'<br><span class="zh">{html.escape(text.zh)}</span></dd>')
        parts.append("</dl>")

    assignments = sorted({r.assignment for r in results})
    by = {(r.student, r.assignment): r for r in results}
    parts += [f"<h2>{_both('report_grades')}</h2>", "<table><tr>",
              f"<th>{_both('report_student')}</th>"]
    parts += [f"<th>{html.escape(a)}</th>" for a in assignments]
    parts.append("</tr>")
    for student in sorted({r.student for r in results}):
        row = [f"<td>{html.escape(student)}</td>"]
        for assignment in assignments:
            result = by.get((student, assignment))
            if result is None:
                row.append('<td class="n"></td>')
                continue
            text = f"{short_number(result.score)} / {short_number(result.max_score)}"
            if result.status != "ok":
                text += f" ({result.status})"
            link = _feedback_link(result)
            cell = f'<a href="{html.escape(link)}">{html.escape(text)}</a>' if link else \
                html.escape(text)
            row.append(f'<td class="n">{cell}</td>')
        parts.append("<tr>" + "".join(row) + "</tr>")
    parts += ["</table>", "</body></html>"]
    return "\n".join(parts)


def write_report_page(path: Path, results, names) -> Path:
    path.write_text(render(results, names), encoding="utf-8", errors="replace")
    return path
