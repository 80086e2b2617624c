"""Collect a class's submissions from wherever they came from · 收集全班的提交.

Accepted inputs (``SOURCE``):

* nbgrader's ``submitted/`` layout: ``<student>/<assignment>/<notebook>.ipynb``;
* a plain folder of student folders (JupyterHub home folders): ``<student>/…/<notebook>.ipynb``
  (the assignment is recognised from the notebook's name, or from its graded cells when
  it was renamed);
* the zip an LMS exports, or the same export unzipped into a folder:
  - Canvas: ``<login>_<userid>_<submissionid>_<original name>`` (``_LATE`` may follow the
    login; re-uploads get ``-1``, ``-2`` … before ``.ipynb``);
  - Moodle: folders ``<Full Name>_<id>_assignsubmission_file_/<original name>``, or flat
    files ``<Full Name>_<id>_assignsubmission_file_<original name>``;
  - a zip a student uploaded (anywhere in their part of the source) is opened, one level
    deep.

**Who a file belongs to** is decided by where it sits, never by what it is called: the
top-level folder of ``SOURCE`` is the student, always, whatever the names below it
(an nbgrader ``<student>/<assignment>/`` included). The LMS's naming patterns are read only
at the root of ``SOURCE`` (files, and Moodle's folders), which only the LMS export writes;
deeper inside a student's folder, a file named ``bob_123_456_perceptron.ipynb`` or a
folder ``bob/`` is that student's file, flagged ``claims_other_student:bob`` when it names
another student of the class. Every conflict reaches the student's row as a flag
(``duplicate:``, ``claims_other_student:``, ``not_collected:``, ``undecodable_name:``,
``same_id:``, ``renamed:``, ``late``) and is told, in both languages, in ``collect.json``.

Every file in the input ends up either in the collected tree or in the report of what
could not be mapped, with a bilingual reason; a student with nothing collected is still a
row. Nothing in ``SOURCE`` is changed. The bytes are copied once, while the source is
walked (folders are opened without following symbolic links, files only when regular),
so what is graded is what was checked. Reading is bounded by construction: at most a
limit of bytes from any file or zip member, only the compression methods the LMSes use,
at most a number of members per zip, and zips inside zips are not opened.

The work is in four rooms: walking the source (:mod:`grader.record.walk`), reading a zip
without trusting it (:mod:`grader.record.archive`), who a file belongs to
(:mod:`grader.record.owners`) and which assignment it is (:mod:`grader.record.matching`);
this module chooses one file per student and notebook, stages it and accounts for
everyone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from grader.checks import messages as M
from grader.paths import SOLUTIONS
from grader.record.matching import Mapped, cell_index, map_notebook, notebook_index
from grader.record.owners import Place, Roster, lms_of, place_of, row_flag
from grader.record.terminal import error_line
from grader.record.walk import Entry, Walker, display

__all__ = ["Collected", "Collection", "Empty", "Identity", "Unmapped", "collect"]

M.register(
    {
        "collect_no_student": (
            "cannot tell which student this file belongs to",
            "无法判断这个文件属于哪位学生",
        ),
        "collect_duplicate": (
            "a second file for {student}/{assignment}/{name}; the newest upload ({kept}) is graded",
            "{student}/{assignment}/{name} 有多个文件；评分的是最新上传的 {kept}",
        ),
        "collect_renamed": (
            "renamed notebook: {origin} is graded as {name} (recognised by its cells)",
            "notebook 被改名：{origin} 按其单元格识别为 {name} 评分",
        ),
        "collect_renamed_in_folder": (
            "renamed notebook: {origin} is in the folder of {assignment}, so it is graded as "
            "{name}",
            "notebook 被改名：{origin} 位于作业 {assignment} 的文件夹中，因此按 {name} 评分",
        ),
        "collect_undecodable_name": (
            "the name of {origin} is not valid UTF-8; it is shown with � in place of the bytes "
            "that are not",
            "{origin} 的名称不是有效的 UTF-8；无法解码的字节显示为 �",
        ),
        "collect_claims_other": (
            "{origin} is in the part of the submissions that belongs to {owner}, but its name "
            "names {other}, another student of the class: it counts for {owner} only",
            "{origin} 位于属于 {owner} 的提交之中，但其名称指向班上的另一位学生 {other}："
            "它只计入 {owner} 的成绩",
        ),
        "collect_more_files": (
            "… and {count} more files that are not notebooks, not listed one by one",
            "……以及另外 {count} 个不是 notebook 的文件，没有逐一列出",
        ),
        "collect_more_refused": (
            "… and {count} more files, not listed one by one; {refused} of them were refused "
            "(see the reasons above)",
            "……以及另外 {count} 个文件，没有逐一列出；其中 {refused} 个被拒绝读取（原因见上文）",
        ),
    }
)

MAX_FILE_MB = 200  # a larger file or zip member is reported, never read (default; see collect)
LISTED_FILES = 20  # per student, files that are not notebooks are listed one by one up to this

# problems that cost a student something (a file they handed in was not read): the student's
# row is flagged ``not_collected:<file>``; the others (a PDF, a checkpoint) are only listed
FLAGGED = frozenset({"symlink", "special", "unsafe", "too_large", "bad_zip", "method",
                      "too_many", "budget", "zip_in_zip", "too_deep", "unreadable",
                      "too_many_files", "more"})


@dataclass
class Collected:
    student: str
    assignment: str
    notebook: str
    path: Path  # the staged copy
    origin: str  # where it came from, for the report
    renamed_from: str = ""  # the student's file name, when it was not the released one
    late: bool = False  # the LMS marked it late (Canvas's _LATE_)
    # what the instructor must know about this submission; they become the row's flags
    flags: list[str] = field(default_factory=list)


@dataclass
class Empty:
    """A student with nothing gradable collected: still a row in the grades."""

    student: str
    assignment: str | None  # known from an nbgrader layout, else None
    origin: str
    files: list[str] = field(default_factory=list)  # what was there instead (not notebooks)
    reasons: list[str] = field(default_factory=list)  # why their files could not be read
    status: str = "empty"  # or too_large: their notebook was too large to be read
    flags: list[str] = field(default_factory=list)


@dataclass
class Unmapped:
    origin: str
    reason: str  # bilingual
    student: str = ""  # whose file it was, when that is known
    flag: str = ""  # the flag it puts on that student's row, if any
    kind: str = ""  # what kind of problem: too_large, method, symlink, … ("" for the others)


@dataclass
class Identity:
    """Who a student id is in the LMS: what grade exports (grader.record.lms) need."""

    student: str
    lms: str = ""  # canvas | moodle | "" (a plain folder)
    lms_id: str = ""  # Canvas's user id, Moodle's participant id (its export's folder names)
    name: str = ""  # the name the source gives: a folder, a Canvas login, a Moodle full name


@dataclass
class Collection:
    submissions: list[Collected] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: list[Empty] = field(default_factory=list)
    students: dict[str, Identity] = field(default_factory=dict)



@dataclass
class _Candidate:
    entry: Entry
    place: Place
    student: str
    where: Mapped
    flags: list[str]


def _within(entry: Entry, place: Place | None) -> str:
    """Where an entry sits in its student's part of the source (what their row's flags name):
    ``sub/hw.ipynb``, ``hw.zip!perceptron.ipynb``, or an LMS file's own name."""
    top = place.owner.top if place is not None else ""
    return entry.origin[len(top) + 1:] if top and entry.origin.startswith(top + "/") \
        else entry.origin


def _first(names: list[str]) -> list[str]:
    """The first LISTED_FILES distinct names (a zip's members all name the zip)."""
    return list(dict.fromkeys(names))[:LISTED_FILES]


def _located(item: Unmapped) -> str:
    """An unmapped file's reason with its name on each line: English, then Chinese."""
    lines = item.reason.split("\n")  # M.bilingual: English and Chinese lines, alternating
    return f"{item.origin}: {' '.join(lines[0::2])}\n{item.origin}：{''.join(lines[1::2])}"


def _upload_order(candidate: _Candidate) -> tuple:
    """Later re-uploads (``-2`` after ``-1`` after none) win, then the released name over a
    renamed copy, then the file nearest the top of the student's folder, then the name."""
    match = re.search(r"-(\d+)\.ipynb$", candidate.entry.origin)
    depth = len(candidate.place.container or candidate.place.below) + len(candidate.entry.inner)
    return (int(match.group(1)) if match else 0, not candidate.where.renamed_from, -depth,
            candidate.entry.origin)


# ----------------------------------------------------------------------- collect


def collect(source: Path, staging: Path, solutions: Path = SOLUTIONS,
            max_mb: float | None = None) -> Collection:
    """Copy every submitted notebook under ``staging/<student>/<assignment>/<notebook>``;
    a file larger than ``max_mb`` (default MAX_FILE_MB) is reported, not read."""
    staging.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=staging))
    try:
        run = _Collecting(staging, solutions, int((max_mb or MAX_FILE_MB) * 2**20))
        run.gather(Walker(incoming, run.limit).walk(Path(source)))
        return run.finish()
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


class _Collecting:
    """The steps of one :func:`collect`: gather the entries, name the students, map and
    choose the files, stage them, then account for the students with nothing staged."""

    def __init__(self, staging: Path, solutions: Path, limit: int):
        self.staging, self.limit = staging, limit
        self.index = notebook_index(solutions)
        self.cells = cell_index(Path(solutions).resolve())
        self.assignments = set(self.index.values())
        self.result = Collection()
        self.entries: list[tuple[Entry, Place | None]] = []
        # per student (their top-level name): files that are not candidates, listed by name,
        # only counted, and of those how many were refused
        self.listed: dict[str, int] = {}
        self.unlisted: dict[str, int] = {}
        self.refused: dict[str, int] = {}

    def gather(self, entries: Iterator[Entry]) -> None:
        """Keep what matters: every notebook, the folders that say who and which assignment,
        and the first few other files of each student by name (a folder of 70,000 images is
        one line, not 70,000; the rest are counted)."""
        for entry in entries:
            place = place_of(entry)
            if place is not None and entry.folder and len(place.below) > 1:
                continue  # only a student's folder and its assignment folders matter
            if place is not None and not entry.folder and entry.file is None \
                    and entry.kind != "too_many_files":  # that one is always said
                top = place.owner.top
                if self.listed.get(top, 0) >= LISTED_FILES:
                    self.unlisted[top] = self.unlisted.get(top, 0) + 1
                    self.refused[top] = self.refused.get(top, 0) + (entry.kind in FLAGGED)
                    continue
                self.listed[top] = self.listed.get(top, 0) + 1
            self.entries.append((entry, place))

    def finish(self) -> Collection:
        result = self.result
        owners = {place.owner for _, place in self.entries if place is not None}
        reserved = self.assignments | {Path(book).stem for book in self.index}
        self.roster = Roster(owners, result.notes, reserved)
        for owner in sorted(owners, key=lambda o: (o.lms_id == "", o.top)):  # LMS names first
            student = self.roster.ids[owner]
            if student not in result.students:
                lms = lms_of(owner)
                result.students[student] = Identity(student, lms, owner.lms_id if lms else "",
                                                    display(owner.name)[0])
        candidates = []
        stamps: dict[tuple[str, str], Path] = {}
        for entry, place in self.entries:
            if entry.folder:
                continue
            try:
                candidate = self.examine(entry, place, stamps)
            except Exception as exc:  # one file never stops the class
                candidate = None
                self.unmapped(entry, place, M.bilingual("collect_unreadable", error=error_line(exc, 200)),
                              "unreadable")
            if candidate is not None:
                candidates.append(candidate)
        self.more_files()
        chosen = self.choose(candidates)
        self.stage(chosen, stamps)
        self.account()
        return result

    def student(self, place: Place) -> str:
        return self.roster.ids[place.owner]

    def unmapped(self, entry: Entry, place: Place | None, reason: str, kind: str = "") -> None:
        if entry.undecodable:
            reason += "\n" + M.bilingual("collect_undecodable_name", origin=entry.origin)
        student = self.student(place) if place is not None else ""
        flag = row_flag("not_collected", _within(entry, place)) if kind in FLAGGED and student \
            else ""
        self.result.unmapped.append(Unmapped(entry.origin, reason, student, flag, kind))

    def examine(self, entry: Entry, place: Place | None,
                stamps: dict[tuple[str, str], Path]) -> _Candidate | None:
        """One file: a candidate for a student's notebook, a timestamp, or unmapped."""
        if entry.problem:
            self.unmapped(entry, place, entry.problem, entry.kind)
            return None
        if place is None or not place.below:
            self.unmapped(entry, place, M.bilingual("collect_no_student"))
            return None
        if len(place.below) == 2 and place.below[1] == "timestamp.txt" and \
                place.below[0] in self.assignments and not entry.inner and entry.file:
            stamps[(self.student(place), place.below[0])] = entry.file  # nbgrader's submission time
            return None
        where = map_notebook(place, entry.file, self.index, self.cells)
        if isinstance(where, str):
            self.unmapped(entry, place, where)
            return None
        if entry.file is None:  # never: a notebook is copied or has a problem
            self.unmapped(entry, place, M.bilingual("collect_unreadable", error="not copied"),
                          "unreadable")
            return None
        claimed = self.roster.claims(place)
        flags = [row_flag("claims_other_student", other) for other in claimed]
        for other in claimed:
            self.result.notes.append(M.bilingual("collect_claims_other", origin=entry.origin,
                                                 owner=self.student(place), other=other))
        if entry.undecodable:
            flags.append(row_flag("undecodable_name", entry.origin))
            self.result.notes.append(M.bilingual("collect_undecodable_name",
                                                 origin=entry.origin))
        return _Candidate(entry, place, self.student(place), where, flags)

    def more_files(self) -> None:
        """One line per student for the files not listed by name."""
        for top, count in sorted(self.unlisted.items()):
            student = next(self.student(p) for _, p in self.entries
                           if p is not None and p.owner.top == top)
            refused = self.refused.get(top, 0)
            reason = M.bilingual("collect_more_refused", count=count, refused=refused) if refused \
                else M.bilingual("collect_more_files", count=count)
            flag = row_flag("not_collected", f"+{refused} more") if refused else ""
            self.result.unmapped.append(Unmapped(top, reason, student, flag,
                                                 "more" if refused else ""))

    def choose(self, candidates: list[_Candidate]) -> dict[tuple[str, str, str], _Candidate]:
        """One file per student, assignment and notebook: the newest upload; every other
        candidate is reported, and flagged ``duplicate:<file>`` on the student's row."""
        groups: dict[tuple[str, str, str], list[_Candidate]] = {}
        for candidate in candidates:
            key = (candidate.student, candidate.where.assignment, candidate.where.notebook)
            groups.setdefault(key, []).append(candidate)
        chosen = {}
        for key, group in groups.items():
            kept = max(group, key=_upload_order)
            for other in group:
                if other is kept:
                    continue
                note = M.bilingual("collect_duplicate", student=key[0], assignment=key[1],
                                   name=key[2], kept=kept.entry.origin)
                self.result.notes.append(note)
                self.result.unmapped.append(Unmapped(other.entry.origin, note, key[0]))
                kept.flags.append(row_flag("duplicate", _within(other.entry, other.place)))
                kept.flags += [f for f in other.flags if f not in kept.flags]
            chosen[key] = kept
        return chosen

    def stage(self, chosen: dict[tuple[str, str, str], _Candidate],
              stamps: dict[tuple[str, str], Path]) -> None:
        """Move the chosen copies into place (the student id and the notebook's name are
        ours, never a file name of the student's)."""
        for (student, assignment, name), candidate in sorted(chosen.items()):
            target = self.staging / student / assignment / name
            where, origin = candidate.where, candidate.entry.origin
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(candidate.entry.file, target)
            except OSError as exc:  # one file never stops the class
                self.unmapped(candidate.entry, candidate.place,
                              M.bilingual("collect_unreadable", error=error_line(exc, 200)), "unreadable")
                continue
            flags = ([row_flag("renamed", where.renamed_from)] if where.renamed_from else []) \
                + (["late"] if candidate.place.late else []) + candidate.flags
            self.result.submissions.append(Collected(student, assignment, name, target, origin,
                                                     where.renamed_from, candidate.place.late,
                                                     flags))
            if where.in_folder:
                self.result.notes.append(M.bilingual("collect_renamed_in_folder", origin=origin,
                                                     assignment=assignment, name=name))
            elif where.renamed_from:
                self.result.notes.append(M.bilingual("collect_renamed", origin=origin, name=name))
        for (student, assignment), copy in stamps.items():
            target = self.staging / student / assignment / "timestamp.txt"
            if target.parent.is_dir():
                os.replace(copy, target)

    def account(self) -> None:
        """Every student is a row: the flags of files not collected reach the rows of those
        who have one, and those with nothing collected get an empty row saying why."""
        result = self.result
        flags: dict[str, list[str]] = {student: list(found)
                                       for student, found in self.roster.flags.items()}
        for item in result.unmapped:
            if item.student and item.flag and item.flag not in flags.setdefault(item.student, []):
                flags[item.student].append(item.flag)
        for item in result.submissions:
            item.flags += [f for f in flags.get(item.student, []) if f not in item.flags]
        result.empty = self.empties(flags)

    def empties(self, flags: dict[str, list[str]]) -> list[Empty]:
        """Students (and nbgrader assignment folders) from which nothing was collected."""
        got = {(s.student, s.assignment) for s in self.result.submissions}
        students = {s.student for s in self.result.submissions}
        tops: dict[str, str] = {}
        folders: dict[str, set[str]] = {}  # nbgrader: <student>/<assignment>/
        files: dict[tuple[str, str | None], list[str]] = {}
        for entry, place in self.entries:
            if place is None:
                continue
            student = self.student(place)
            tops.setdefault(student, place.owner.top)
            below = place.container or place.below
            if below and below[0] in self.assignments and (len(below) > 1 or entry.folder):
                folders.setdefault(student, set()).add(below[0])
                if len(below) > 1 and not entry.folder:
                    files.setdefault((student, below[0]), []).append("/".join(below[1:]))
            if not entry.folder and below:
                files.setdefault((student, None), []).append("/".join(below))
        reasons: dict[str, list[str]] = {}
        too_large: set[str] = set()
        for item in self.result.unmapped:
            if item.student and item.flag:
                reasons.setdefault(item.student, []).append(_located(item))
                if item.kind == "too_large":
                    too_large.add(item.student)
        empty = []
        for student, top in sorted(tops.items()):
            common = {"reasons": reasons.get(student, [])[:5], "flags": flags.get(student, []),
                      "status": "too_large" if student in too_large else "empty"}
            for assignment in sorted(folders.get(student, ())):
                if (student, assignment) not in got:
                    empty.append(Empty(student, assignment, f"{top}/{assignment}",
                                       _first(files.get((student, assignment), [])), **common))
            if not folders.get(student) and student not in students:
                empty.append(Empty(student, None, top, _first(files.get((student, None), [])),
                                   **common))
        return empty

