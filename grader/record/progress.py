"""The progress line of a class run · 评分进度.

A line per finished submission (``[done/total] student assignment score status flags ETA``)
and, on a real terminal, a live bar. Every part a student could have chosen is made
printable first (:func:`grader.record.terminal.printable`).
"""

from __future__ import annotations

import shutil
import sys
import time

from grader.record.results import SubmissionResult
from grader.record.terminal import printable

__all__ = ["Progress", "progress_line", "number"]


def number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def progress_line(result: SubmissionResult, done: int, total: int) -> str:
    """One progress line; every part a student could have chosen is made printable."""
    flags = printable(", ".join(result.flags), 500)
    return (f"[{done}/{total}] {printable(result.student, 64):<16} "
            f"{printable(result.assignment, 64):<16} "
            f"{number(result.score):>5} / {number(result.max_score):<5} {printable(result.status, 32)}"
            + (f"  flags: {flags}" if flags else ""))



class Progress:
    """``[done/total] … ETA`` lines as results arrive, and a live bar on a terminal."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.quiet, self.done, self.started = total, quiet, 0, time.monotonic()
        self.bar = None
        # tqdm loops forever trimming a bar for a terminal that reports no width (a bare pty)
        # and counts wide characters wrongly: a fixed width, ASCII-only format
        columns = shutil.get_terminal_size(fallback=(0, 0)).columns
        if not quiet and total and sys.stderr.isatty() and columns >= 40:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, unit="nb", ncols=min(columns, 100),
                            bar_format="{n}/{total} |{bar}| {elapsed} < {remaining} ETA")

    def eta(self) -> str:
        if not self.done:
            return "?"
        left = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        minutes, seconds = divmod(round(left), 60)
        return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"

    def finished(self, result: SubmissionResult) -> None:
        self.done += 1
        if self.quiet:
            return
        line = f"{progress_line(result, self.done, self.total)}  ETA·剩余 {self.eta()}"
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
            self.bar.update(1)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
