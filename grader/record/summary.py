"""The class at a glance · 全班成绩概览.

Two forms of one summary:

* :func:`screen`, printed after a run, fits a terminal: a line per assignment (n, mean,
  median, how many got full, partial and zero marks), the exercises that most need
  re-teaching (with their counts, ties included, never silently cut), and the rows whose
  flags need the instructor's eyes;
* :func:`render`, written to ``summary.txt``: per assignment the totals (every score when
  there are few, a histogram in tenths of the maximum when there are many), every
  exercise's full / partial / zero counts, the whole re-teach list, and every flagged row
  with what its flags mean.

Exercises are named as the notebooks name them (``1.3 the perceptron learning algorithm``,
:mod:`grader.record.vocabulary`). The re-teach list counts graded submissions only (status
``ok``): a blank notebook misses every exercise and says nothing about which is hard.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from grader.checks import messages as M
from grader.record.flags import describe_flag, flag_name, needs_attention
from grader.record.outputs import NO_SCORE
from grader.record.terminal import printable, short_number

__all__ = ["render", "screen", "exercise_table", "reteach", "flagged_rows", "assignment_lines",
           "flag_label", "by_hand"]

M.register(
    {
        "summary_title": ("Summary", "概览"),
        "summary_assignment": (
            "{assignment}: {count} submissions, mean {mean} / {max}, median {median}, "
            "lowest {low}, highest {high}",
            "{assignment}：{count} 份提交，平均 {mean} / {max}，中位数 {median}，"
            "最低 {low}，最高 {high}",
        ),
        "summary_scores": ("scores: {scores}", "各份得分：{scores}"),
        "summary_exercise_header": (
            "exercise (points): full / partial / zero marks, mean",
            "练习（分值）：满分 / 部分得分 / 零分的人数，平均分",
        ),
        "summary_reteach": (
            "Exercises to re-teach first (most missed among graded, non-blank submissions; "
            "ties included):",
            "最需要再讲的练习（在已评分且非空白的提交中没做对的人数最多者；并列的全部列出）：",
        ),
        "summary_reteach_more": (
            "… and {count} more missed by as many: see {where}",
            "……另有 {count} 个练习同样多的人没做对：见 {where}",
        ),
        "summary_missed": ("{missed} of {count} missed", "{count} 人中 {missed} 人没做对"),
        "summary_not_graded": (
            "Rows whose status is not ok: {statuses}",
            "状态不是 ok 的行：{statuses}",
        ),
        "summary_header": (
            "{count} submissions of {students} students",
            "{students} 名学生的 {count} 份提交",
        ),
        "summary_columns": (
            "assignment                n    mean  median   max   full / partial / zero",
            "（各列：作业、提交份数、平均分、中位数、满分值、满分 / 部分得分 / 零分的份数）",
        ),
        "summary_eyes": (
            "Needs your eyes: {count} submissions with flags to look at",
            "需要你查看：{count} 份提交带有需要查看的标记",
        ),
        "summary_eyes_more": (
            "… and {count} more: see {where}",
            "……另有 {count} 份：见 {where}",
        ),
        "summary_flag_meanings": (
            "What these flags mean:",
            "这些标记的含义：",
        ),
        "summary_unknown_flag": (
            "(not a flag of the grader's: a student may have written it; look at report.json)",
            "（不是评分程序的标记：可能是学生写入的；请查看 report.json）",
        ),
        "summary_files": (
            "The long form: {summary}   The class report: {report}",
            "完整概览：{summary}   全班报告：{report}",
        ),
        "summary_by_hand": (
            "By hand: {answers} written answers ({points} points) to grade in formgrader; "
            "{blank} left blank (0); not in the scores above.",
            "人工评分：{answers} 份文字作答（共 {points} 分）待在 formgrader 中评分；{blank} 份空白（0 分）；"
            "以上分数不含它们。",
        ),
        "summary_by_hand_assignment": (
            "written answers, graded by hand (not in these scores): {points} points a "
            "submission; {blank} of {answers} left blank",
            "文字作答，人工评分（不计入以上分数）：每份提交 {points} 分；{answers} 份中 {blank} 份空白",
        ),
        "summary_nothing_new": (
            "Nothing new to grade ({count} submissions as before). Summary: {summary}  "
            "Report: {report}",
            "没有需要重新评分的内容（{count} 份提交与上次相同）。概览：{summary}  报告：{report}",
        ),
    }
)

BAR = 30
HISTOGRAM_FROM = 10  # fewer submissions than this: every score is listed instead



def exercise_table(results) -> dict[str, dict[str, dict]]:
    """{assignment: {grade id: {points, full, partial, zero, mean, count}}} over the results."""
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


def _name(names, assignment: str, ident: str, width: int = 80) -> str:
    found = (names or {}).get(assignment, {}).get(ident)
    return printable(found.short if found else ident, width)


@dataclass
class Missed:
    assignment: str
    grade_id: str
    missed: int
    count: int

    @property
    def share(self) -> float:
        return self.missed / self.count if self.count else 0.0


def reteach(results, top: int = 5) -> tuple[list[Missed], int]:
    """The most missed exercises among graded submissions, the ``top`` first and every
    exercise missed by exactly as many as the last of them; and how many exercises were
    missed by anyone at all."""
    graded = [r for r in results if r.status == "ok"]
    table = exercise_table(graded)
    missed = [Missed(a, ident, row["count"] - row["full"], row["count"])
              for a, rows in table.items() for ident, row in rows.items()
              if row["count"] - row["full"] > 0]
    order = {}
    for result in graded:  # ties: in the notebook's order
        for book in result.notebooks:
            for index, cell in enumerate(book.cells):
                order.setdefault((result.assignment, cell.grade_id), index)
    missed.sort(key=lambda m: (-m.share, -m.missed, m.assignment,
                               order.get((m.assignment, m.grade_id), 0), m.grade_id))
    if len(missed) <= top:
        return missed, len(missed)
    cut = missed[top - 1]
    chosen = [m for m in missed if (m.share, m.missed) >= (cut.share, cut.missed)]
    return chosen, len(missed)


def flagged_rows(results) -> list:
    """Rows with a flag that needs the instructor's eyes (grader.record.flags)."""
    return [r for r in results if any(needs_attention(f) for f in r.flags)]


def flag_label(flag: str, assignment: str, names) -> str:
    """A flag, with the exercise's number after it when it names a test cell
    (``numerical_gradient:test_affine (3.3)``)."""
    detail = flag.partition(":")[2]
    found = (names or {}).get(assignment, {}).get(detail)
    return f"{flag} ({found.number})" if found is not None and found.number else flag


def _flags_line(result, limit: int = 300, names=None) -> str:
    return printable(", ".join(flag_label(f, result.assignment, names) for f in result.flags
                               if needs_attention(f)), limit)


def assignment_lines(results) -> list[tuple[str, int, float, float, float, int, int, int]]:
    """(assignment, n, mean, median, max, full, partial, zero) per assignment."""
    by = defaultdict(list)
    for result in results:
        by[result.assignment].append(result)
    lines = []
    for assignment in sorted(by):
        rows = by[assignment]
        totals = [r.score for r in rows]
        maximum = max((r.max_score for r in rows), default=0.0)
        full = sum(1 for r in rows if maximum and r.score >= r.max_score > 0)
        zero = sum(1 for r in rows if r.score <= 0)
        lines.append((assignment, len(rows), statistics.fmean(totals),
                      statistics.median(totals), maximum, full, len(rows) - full - zero, zero))
    return lines


def by_hand(results) -> tuple[int, float, int]:
    """(written answers to grade, their points, how many left blank) over the results: the
    part of the grade that waits for the instructor (formgrader). A blank answer waits for
    nothing: it is 0 in the gradebook, as nbgrader's autograde leaves it."""
    answers = [a for r in results if r.status not in NO_SCORE for a in r.written]
    answered = [a for a in answers if a.answered]
    return len(answered), sum(a.points for a in answered), len(answers) - len(answered)


def _by_hand_lines(results, gap: bool = True) -> list[str]:
    answers, points, blank = by_hand(results)
    if not answers + blank:
        return []
    return [""] * gap + M.bilingual("summary_by_hand", answers=answers, points=short_number(points),
                                    blank=blank).split("\n")


def screen(results, names=None, *, summary: str = "summary.txt",
           report: str = "report.html", reteach_lines: int = 8, eyes_lines: int = 8) -> str:
    """The summary that fits a screen (see the module docstring)."""
    students = len({r.student for r in results})
    lines = ["", f"{M.en('summary_title')} · {M.zh('summary_title')}: "
                 f"{M.en('summary_header', count=len(results), students=students)} · "
                 f"{M.zh('summary_header', count=len(results), students=students)}",
             "  " + M.en("summary_columns"), "  " + M.zh("summary_columns")]
    for assignment, n, mean, median, maximum, full, partial, zero in assignment_lines(results):
        lines.append(f"  {printable(assignment or '?', 22):<22} {n:>3} {mean:>7.1f} "
                     f"{short_number(median):>7} {short_number(maximum):>5}   "
                     f"{full:>4} / {partial:>4} / {zero:>4}")
    lines += _by_hand_lines(results, gap=False)  # "the scores above": right under them
    chosen, _ = reteach(results)
    if chosen:
        lines += ["", *M.bilingual("summary_reteach").split("\n")]
        for item in chosen[:reteach_lines]:
            lines.append(f"  {_name(names, item.assignment, item.grade_id, 39):<40} "
                         f"{printable(item.assignment, 24):<16} "
                         f"{M.en('summary_missed', missed=item.missed, count=item.count)} · "
                         f"{M.zh('summary_missed', missed=item.missed, count=item.count)}")
        if len(chosen) > reteach_lines:
            lines += M.bilingual("summary_reteach_more", indent="  ",
                                 count=len(chosen) - reteach_lines, where=summary).split("\n")
    eyes = flagged_rows(results)
    if eyes:
        lines += ["", *M.bilingual("summary_eyes", count=len(eyes)).split("\n")]
        for result in eyes[:eyes_lines]:
            lines.append(f"  {printable(result.student, 64):<16} {printable(result.assignment, 64):<16} "
                         f"{_flags_line(result, 140, names)}")
        if len(eyes) > eyes_lines:
            lines += M.bilingual("summary_eyes_more", indent="  ", count=len(eyes) - eyes_lines,
                                 where=summary).split("\n")
    lines += ["", *M.bilingual("summary_files", summary=summary, report=report).split("\n")]
    return "\n".join(lines) + "\n"


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


def render(results, names=None, top: int = 5) -> str:
    """The long summary (``summary.txt``), bilingual headings."""
    lines = ["", M.bilingual("summary_title"), "=" * 40]
    by_assignment = defaultdict(list)
    for result in results:
        by_assignment[result.assignment].append(result)
    table = exercise_table(results)
    for assignment in sorted(by_assignment):
        rows = by_assignment[assignment]
        totals = [r.score for r in rows]
        maximum = max((r.max_score for r in rows), default=0.0)
        lines += ["", M.bilingual(
            "summary_assignment", assignment=printable(assignment or "?", 64), count=len(rows),
            mean=short_number(round(statistics.fmean(totals), 1)), max=short_number(maximum),
            median=short_number(statistics.median(totals)), low=short_number(min(totals)),
            high=short_number(max(totals)))]
        if maximum and len(totals) >= HISTOGRAM_FROM:
            lines += _histogram(totals, maximum)
        elif totals:
            lines += _indented(M.bilingual("summary_scores", scores=", ".join(
                short_number(t) for t in sorted(totals))))
        odd = defaultdict(int)
        for r in rows:
            if r.status != "ok":
                odd[r.status] += 1
        if odd:
            lines += _indented(M.bilingual("summary_not_graded", statuses=", ".join(
                f"{printable(status, 32)} {count}" for status, count in sorted(odd.items()))))
        answers, points, blank = by_hand(rows)
        if answers + blank:
            lines += _indented(M.bilingual("summary_by_hand_assignment", answers=answers + blank,
                                           blank=blank,
                                           points=short_number(max(r.by_hand_points for r in rows))))
        exercises = table.get(assignment, {})
        if exercises:
            lines += _indented(M.bilingual("summary_exercise_header"))
            for ident, row in exercises.items():
                lines.append(f"      {_name(names, assignment, ident):<44} ({short_number(row['points'])}):"
                             f" {row['full']:>4} / {row['partial']:>4} / {row['zero']:>4},"
                             f" {row['mean']:.2f}")
    lines += _by_hand_lines(results)
    chosen, _ = reteach(results, top)
    if chosen:
        lines += ["", M.bilingual("summary_reteach")]
        for item in chosen:
            name = _name(names, item.assignment, item.grade_id)
            ident = f" ({item.grade_id})" if name != item.grade_id else ""
            lines.append(f"  {item.share:>5.0%}  {printable(item.assignment, 64)} / "
                         f"{name}{ident}  "
                         f"{M.en('summary_missed', missed=item.missed, count=item.count)} · "
                         f"{M.zh('summary_missed', missed=item.missed, count=item.count)}")
    eyes = flagged_rows(results)
    if eyes:
        lines += ["", M.bilingual("summary_eyes", count=len(eyes))]
        seen: dict[str, None] = {}
        for result in eyes:
            lines.append(f"  {printable(result.student, 64):<16} {printable(result.assignment, 64):<16} "
                         f"{_flags_line(result, 1000, names)}")
            for flag in result.flags:
                if needs_attention(flag):
                    seen.setdefault(flag_name(flag), None)
        lines += ["", M.bilingual("summary_flag_meanings")]
        for name in seen:
            meaning = describe_flag(name)
            if meaning is None:
                lines.append(f"  {printable(name, 64)}: " + " ".join(
                    M.bilingual("summary_unknown_flag").split("\n")))
            else:
                lines += [f"  {name}: {meaning.en}", f"  {' ' * len(name)}  {meaning.zh}"]
    return "\n".join(lines) + "\n"
