"""The class at a glance, in the terminal · 全班成绩概览.

Per assignment: how many submissions, mean, median, lowest and highest total, a
histogram of totals in tenths of the maximum, and per exercise (test cell) the share
of full, partial and zero scores; then the exercises most students failed, which is
where the next lecture should start.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from grader.checks import messages as M
from grader.record.terminal import printable

__all__ = ["render", "exercise_table"]

M.register(
    {
        "summary_title": ("Summary", "概览"),
        "summary_assignment": (
            "{assignment}: {count} submissions, mean {mean} / {max}, median {median}, "
            "lowest {low}, highest {high}",
            "{assignment}：{count} 份提交，平均 {mean} / {max}，中位数 {median}，"
            "最低 {low}，最高 {high}",
        ),
        "summary_exercise_header": (
            "exercise (points): full / partial / zero, mean",
            "练习（分值）：满分 / 部分得分 / 零分，平均",
        ),
        "summary_most_failed": (
            "Exercises most students did not get right:",
            "最多学生没有做对的练习：",
        ),
        "summary_not_graded": (
            "Rows whose status is not ok: {statuses}",
            "状态不是 ok 的行：{statuses}",
        ),
    }
)

BAR = 30


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def exercise_table(results) -> dict[str, dict[str, dict]]:
    """{assignment: {grade id: {points, full, partial, zero, mean}}} over the results."""
    table: dict[str, dict[str, dict]] = defaultdict(dict)
    for result in results:
        for book in result.notebooks:
            for cell in book.cells:
                row = table[result.assignment].setdefault(
                    cell.grade_id, {"points": cell.points, "scores": []})
                row["scores"].append(cell.score)
    for rows in table.values():
        for row in rows.values():
            scores, points = row.pop("scores"), row["points"]
            row["full"] = sum(1 for s in scores if points and s >= points)
            row["zero"] = sum(1 for s in scores if s <= 0)
            row["partial"] = len(scores) - row["full"] - row["zero"]
            row["mean"] = statistics.fmean(scores) if scores else 0.0
            row["count"] = len(scores)
    return table


def _histogram(totals: list[float], maximum: float) -> list[str]:
    bins = [0] * 10
    for total in totals:
        share = total / maximum if maximum else 0.0
        bins[min(9, int(share * 10))] += 1
    widest = max(bins) or 1
    lines = []
    for i, count in enumerate(bins):
        low, high = i * 10, (i + 1) * 10
        label = f"{low:>3}–{high}%" if i < 9 else " 90–100%"
        lines.append(f"    {label:>8} {'█' * round(BAR * count / widest):<{BAR}} {count}")
    return lines


def _indented(text: str, prefix: str = "    ") -> list[str]:
    return [prefix + line for line in text.splitlines()]


def render(results, top: int = 5) -> str:
    """The summary as printable text (bilingual headings)."""
    lines = ["", M.bilingual("summary_title"), "=" * 40]
    by_assignment = defaultdict(list)
    for result in results:
        by_assignment[result.assignment].append(result)
    table = exercise_table(results)
    failing = []
    for assignment in sorted(by_assignment):
        rows = by_assignment[assignment]
        totals = [r.score for r in rows]
        maximum = max((r.max_score for r in rows), default=0.0)
        lines += ["", M.bilingual(
            "summary_assignment", assignment=printable(assignment or "?", 64), count=len(rows),
            mean=_num(round(statistics.fmean(totals), 1)), max=_num(maximum),
            median=_num(statistics.median(totals)), low=_num(min(totals)),
            high=_num(max(totals)))]
        if maximum:
            lines += _histogram(totals, maximum)
        odd = defaultdict(int)
        for r in rows:
            if r.status not in ("ok",):
                odd[r.status] += 1
        if odd:
            lines += _indented(M.bilingual("summary_not_graded", statuses=", ".join(
                f"{printable(status, 32)} {count}" for status, count in sorted(odd.items()))))
        exercises = table.get(assignment, {})
        if exercises:
            lines += _indented(M.bilingual("summary_exercise_header"))
            for ident, row in exercises.items():
                lines.append(f"      {printable(ident, 64):<32} ({_num(row['points'])}): {row['full']:>4} /"
                             f" {row['partial']:>4} / {row['zero']:>4}, {row['mean']:.2f}")
                missed = row["count"] - row["full"]
                failing.append((missed / row["count"] if row["count"] else 0.0, assignment,
                                ident, missed, row["count"]))
    failing = [f for f in sorted(failing, key=lambda f: (-f[0], f[1], f[2])) if f[3] > 0][:top]
    if failing:
        lines += ["", M.bilingual("summary_most_failed")]
        for share, assignment, ident, missed, count in failing:
            lines.append(f"  {share:>5.0%}  {printable(assignment, 64)} / {printable(ident, 64)}  "
                         f"({missed} / {count})")
    return "\n".join(lines) + "\n"
