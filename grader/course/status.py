"""``python -m grader status``: a self-learner's map of the course · 自学者的课程地图.

For every assignment of the course, which exercises of the learner's notebooks pass (graded
by the same engine as ``check``, :func:`grader.course.selfcheck.check_one`), and the next
exercise to do (the first one, in course order, without full marks). Nothing slow runs
twice: a notebook is graded only when it changed, its results are kept in
``FOLDER/.nnfs-status/`` under a key made of the notebook's bytes, the grader's code and
the instructor's notebook; a notebook whose solution cells are all still the release's
stubs is "not started" without being run. TinyTorch's ``tito status`` is the model.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.checks import messages as M
from grader.errors import UsageError
from grader.paths import REPO, SOLUTIONS, assignments
from grader.record.results import Totals
from grader.record.terminal import printable, short_number

__all__ = ["main", "course_map", "AssignmentState", "CACHE"]

CACHE = ".nnfs-status"

M.register(
    {
        "map_title": ("Your course map: {folder}", "你的课程地图：{folder}"),
        "map_not_started": ("not started", "尚未开始"),
        "map_missing": ("no notebook", "没有 notebook"),
        "map_done": ("all done", "全部完成"),
        "map_next": ("next: {exercise}", "下一个：{exercise}"),
        "map_unreadable": ("cannot be checked: {reason}", "无法检查：{reason}"),
        "map_grading": ("grading {path} (it changed since the last time) …",
                           "正在评分 {path}（自上次以来有改动）……"),
        "map_next_step": ("Next: {exercise} ({assignment}).", "下一步：{exercise}（{assignment}）。"),
        "map_check_hint": (
            "Why it does not pass yet: python -m grader check {path}",
            "查看它为什么还没有通过：python -m grader check {path}",
        ),
        "map_all_done": (
            "Every exercise of every assignment passes. Well done.",
            "所有作业的所有练习都已通过。做得好！",
        ),
        "map_legend": (
            "✓ passes  ✗ does not pass yet  · not started",
            "✓ 已通过  ✗ 尚未通过  · 尚未开始",
        ),
        "map_no_folder": (
            "{folder} does not exist: `make lab` makes your working copy there (or give the "
            "folder of your notebooks).",
            "{folder} 不存在：`make lab` 会在那里创建你的工作副本（或者指定你的 notebook 所在的文件夹）。",
        ),
    }
)


@dataclass
class ExerciseState:
    grade_id: str
    number: str
    title_en: str
    title_zh: str
    points: float
    score: float
    started: bool = True

    @property
    def passed(self) -> bool:
        return self.points > 0 and self.score >= self.points

    @property
    def label(self) -> M.Text:
        if self.number:
            return M.Text(f"Exercise {self.number} · {self.title_en}",
                          f"练习 {self.number} · {self.title_zh}")
        return M.Text(self.title_en, self.title_zh)


@dataclass
class AssignmentState(Totals):
    assignment: str
    path: str = ""  # the notebook (relative to the folder), "" when there is none
    state: str = "missing"  # missing | not_started | graded | unreadable
    reason: str = ""
    exercises: list[ExerciseState] = field(default_factory=list)

    def parts(self) -> list[ExerciseState]:
        return self.exercises

    @property
    def next(self) -> ExerciseState | None:
        return next((e for e in self.exercises if not e.passed), None)


@functools.cache
def _grader_version() -> str:
    """The code that decides a grade (checks, record, runtime): a change grades again."""
    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def _key(notebook: Path, solutions: Path, assignment: str) -> str:
    h = hashlib.sha256(notebook.read_bytes())
    h.update(_grader_version().encode())
    for path in sorted((solutions / assignment).glob("*.ipynb")):
        h.update(path.read_bytes())
    return h.hexdigest()


def _blank_state(assignment: str, solutions: Path) -> list[ExerciseState]:
    from grader.record.vocabulary import names_for

    return [ExerciseState(n.grade_id, n.number, n.title.en, n.title.zh, n.points, 0.0, False)
            for n in names_for(assignment, solutions).values()]


def _notebook_of(folder: Path, assignment: str, solutions: Path) -> Path | None:
    """The learner's notebook of ``assignment``: the released name, else one recognised by
    its cells in the assignment's folder."""
    released = sorted(p.name for p in (solutions / assignment).glob("*.ipynb"))
    here = folder / assignment
    for name in released:
        if (here / name).is_file():
            return here / name
    candidates = sorted(p for p in here.glob("*.ipynb") if p.is_file()) if here.is_dir() else []
    return candidates[0] if candidates else None


def _grade(folder: Path, assignment: str, path: Path, solutions: Path, say) -> AssignmentState:
    from grader.course.selfcheck import check_one
    from grader.record import intake

    relative = str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)
    state = AssignmentState(assignment, relative)
    cache = folder / CACHE / f"{assignment}.json"
    key = _key(path, solutions, assignment)
    try:
        kept = json.loads(cache.read_text(encoding="utf-8"))
        if kept.get("key") == key:
            state.state, state.reason = kept["state"], kept.get("reason", "")
            state.exercises = [ExerciseState(**e) for e in kept["exercises"]]
            return state
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        nb, _ = intake.read_submission(path)
    except intake.Rejected as exc:
        state.state, state.reason = "unreadable", " ".join(exc.message.split("\n"))
        return state
    if intake.looks_blank(nb):
        state.state, state.exercises = "not_started", _blank_state(assignment, solutions)
    else:
        say(M.bilingual("map_grading", path=printable(relative, 200)))
        try:
            done = check_one(path, solutions)
        except UsageError as exc:
            state.state, state.reason = "unreadable", " ".join(exc.message.split("\n"))
            return state
        state.state = "graded"
        state.exercises = [ExerciseState(c.grade_id, c.number, c.title.en if c.title else c.grade_id,
                                         c.title.zh if c.title else c.grade_id, c.points, c.score)
                           for c in done.cells]
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, "state": state.state, "reason": state.reason,
                                     "exercises": [asdict(e) for e in state.exercises]},
                                    ensure_ascii=False), encoding="utf-8")
    except OSError:  # a read-only folder: the map is still shown, only not kept
        pass
    return state


def course_map(folder: Path, solutions: Path = SOLUTIONS, refresh: bool = False,
               say=print) -> list[AssignmentState]:
    """Every assignment's state in ``folder`` (graded when changed; see the module docstring)."""
    states = []
    for assignment in assignments(solutions):
        path = _notebook_of(folder, assignment, solutions)
        if path is None:
            state = AssignmentState(assignment, "", "missing",
                                    exercises=_blank_state(assignment, solutions))
            for exercise in state.exercises:
                exercise.started = False
        else:
            if refresh:
                (folder / CACHE / f"{assignment}.json").unlink(missing_ok=True)
            state = _grade(folder, assignment, path, solutions, say)
        states.append(state)
    return states



def render(folder: Path, states: list[AssignmentState]) -> str:
    lines = ["", *M.bilingual("map_title", folder=printable(folder, 200)).split("\n"), ""]
    for state in states:
        marks = "".join("·" if not e.started else "✓" if e.passed else "✗"
                        for e in state.exercises)
        if state.state == "missing":
            what = M.text("map_missing")
        elif state.state == "unreadable":
            what = M.text("map_unreadable", reason=printable(state.reason, 120))
        elif state.state == "not_started":
            what = M.text("map_not_started")
        else:
            what = None
        score = f"{short_number(state.score)} / {short_number(state.max_score)}" if state.state == "graded" \
            else ""
        head = f"  {state.assignment:<17} {score:>9}  {marks:<16}"
        nxt = state.next
        if what is not None:
            lines.append(f"{head} {what.en} · {what.zh}")
        elif nxt is None:
            done = M.text("map_done")
            lines.append(f"{head} {done.en} · {done.zh}")
        else:
            lines.append(f"{head} {M.en('map_next', exercise=nxt.label.en)}")
            lines.append(f"  {'':<17} {'':>9}  {'':<16} {M.zh('map_next', exercise=nxt.label.zh)}")
    lines += ["", "  " + M.en("map_legend"), "  " + M.zh("map_legend"), ""]
    first = next(((s, s.next) for s in states if s.next is not None), None)
    if first is None:
        lines += M.bilingual("map_all_done").split("\n")
    else:
        state, exercise = first
        where = folder / state.assignment
        try:
            shown = where.relative_to(Path.cwd())
        except ValueError:
            shown = where
        lines += M.bilingual("map_next_step", exercise=exercise.label,
                             assignment=state.assignment).split("\n")
        if state.state == "graded":
            lines += M.bilingual("map_check_hint", path=printable(shown, 200)).split("\n")
    return "\n".join(lines) + "\n"


def main(folder: Path | None = None, solutions: Path = SOLUTIONS, refresh: bool = False) -> int:
    folder = Path(folder) if folder is not None else REPO / "work"
    if not folder.is_dir():
        raise UsageError(M.bilingual("map_no_folder", folder=folder))
    states = course_map(folder, Path(solutions), refresh,
                        say=lambda text: print(text, flush=True))
    print(render(folder, states), end="")
    return 0
