"""Who a file belongs to · 文件属于哪位学生.

Whose a file is comes from where it sits, never from what it is called: the top-level
folder of the source is the student; at the root only, the names an LMS export gives its
files and folders (Canvas's ``<login>_<userid>_<submissionid>_<name>``, Moodle's
``<Full Name>_<id>_assignsubmission_file_``) name the student. :class:`Roster` turns those
owners into student ids that stay distinct (namesakes, folders that give one id) and spots
a file whose path names another student of the class.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from grader.checks import messages as M
from grader.record.walk import Entry, ignored_name

__all__ = ["LmsUpload", "Owner", "Place", "Roster", "lms_of", "lms_upload", "place_of",
           "row_flag", "safe_student_id"]

M.register(
    {
        "collect_same_name": (
            "{count} different students share the name {student}; their LMS ids keep them "
            "apart: {ids}",
            "{count} 位不同的学生同名 {student}；用他们在 LMS 中的 id 区分：{ids}",
        ),
        "collect_same_id": (
            "{count} different folders ({names}) give the same student id {student}; they are "
            "kept apart as {ids}",
            "{count} 个不同的文件夹（{names}）对应同一个学生 id {student}；分别记为 {ids}",
        ),
    }
)

_CANVAS = re.compile(
    r"^(?P<login>[^_/]+?)(?P<late>_LATE)?_(?P<userid>\d+)_(?P<subid>\d+)_(?P<name>.+)$",
    re.IGNORECASE,
)
_MOODLE_DIR = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_?$")
_MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_file_(?P<file>.+)$")


def safe_student_id(raw: str) -> str:
    """A folder-safe student id: letters, digits, ``.``, ``-``, ``_`` (accents kept as letters),
    at most 64 characters (a longer name keeps a hash of the rest, so it stays distinct)."""
    text = unicodedata.normalize("NFKC", raw).strip().replace("\ufffd", "_")
    text = re.sub(r"\s+", "_", text)
    text = re.sub(r"[^\w.\-]", "", text)
    text = text.strip("._") or "unknown"
    if len(text) > 64:
        text = f"{text[:55]}_{_short_hash(raw)}"
    return text


def _short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]



def row_flag(kind: str, value: str = "") -> str:
    """A row flag naming a file or a student: one short line, no ``;`` (the CSV's separator)."""
    if not value:
        return kind
    value = "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in value)
    value = value.replace(";", ",")
    return f"{kind}:{value[:80] + '…' if len(value) > 80 else value}"



@dataclass(frozen=True)
class Owner:
    """A student as the source names them: a folder, a Canvas login, a Moodle full name."""

    name: str
    lms_id: str = ""  # the LMS's numeric user id (Canvas, Moodle), "" where there is none
    top: str = ""  # the source's top-level folder or file that names them


@dataclass
class Place:
    """Whose an entry is, and where it sits in their part of the source."""

    owner: Owner
    below: tuple[str, ...]  # the path below the owner (for a zip member: in the zip)
    late: bool = False
    container: tuple[str, ...] = ()  # for a zip member, the zip's path below the owner


def lms_of(owner: Owner) -> str:
    """Which LMS's export named this owner ("" for a plain folder)."""
    if not owner.lms_id:
        return ""
    return "moodle" if _MOODLE_FILE.match(owner.top) or _MOODLE_DIR.match(owner.top) else "canvas"


@dataclass(frozen=True)
class LmsUpload:
    """What an LMS's name for one uploaded file says (see :func:`lms_upload`)."""

    lms: str  # canvas | moodle
    lms_id: str  # Canvas's user id; Moodle's participant id (one per assignment)
    name: str  # Canvas's login, Moodle's full name
    prefix: str  # the name without the student's file name, e.g. lina_1001_5001_


def lms_upload(origin: str) -> LmsUpload | None:
    """The LMS's name of a collected file (``collect.json``'s ``origin``), when the file came
    from an LMS export: what a grade or a feedback file needs to be matched to it when it is
    uploaded back (``lina_1001_5001_…``, ``Ann Lee_42_assignsubmission_file_/…``)."""
    top = origin.split("/", 1)[0].split("!", 1)[0]
    moodle = _MOODLE_FILE.match(top) or _MOODLE_DIR.match(top)
    if moodle:
        return LmsUpload("moodle", moodle["id"], moodle["name"],
                         f"{moodle['name']}_{moodle['id']}_assignsubmission_file_")
    canvas = _CANVAS.match(top)
    if canvas and "/" not in origin.split("!", 1)[0]:  # Canvas names files at the root only
        return LmsUpload("canvas", canvas["userid"], canvas["login"],
                         top[: len(top) - len(canvas["name"])])
    return None


def place_of(entry: Entry) -> Place | None:
    """The owner of an entry: the top-level folder, or the LMS's name for a file at the root.
    Nothing below the top level can change whose a file is."""
    if entry.root or not entry.parts or ignored_name(entry.parts[0]):
        return None
    top = entry.parts[0]
    if len(entry.parts) == 1 and not entry.folder:  # a file at the root: only an LMS export
        canvas = _CANVAS.match(top)
        moodle = _MOODLE_FILE.match(top)
        if moodle:
            owner, below, late = Owner(moodle["name"], moodle["id"], top), (moodle["file"],), False
        elif canvas:
            owner = Owner(canvas["login"], canvas["userid"], top)
            below, late = (canvas["name"],), bool(canvas["late"])
        else:
            return None
    else:
        moodle = _MOODLE_DIR.match(top)
        owner = Owner(moodle["name"], moodle["id"], top) if moodle else Owner(top, "", top)
        below, late = entry.parts[1:], False
    if entry.inner:
        return Place(owner, below[:-1] + entry.inner, late, container=below)
    return Place(owner, below, late)


class Roster:
    """Every student of the source and their final id. Two students whose names give one id
    stay two: an LMS id tells namesakes apart; otherwise a short hash of the folder's name."""

    def __init__(self, owners: set[Owner], notes: list[str], reserved: set[str]):
        self.ids: dict[Owner, str] = {}
        self.reserved = {name.casefold() for name in reserved}  # assignment and notebook names
        people = {(o.name, o.lms_id) for o in owners}
        groups: dict[str, list[tuple[str, str]]] = {}
        for person in sorted(people):
            groups.setdefault(safe_student_id(person[0]), []).append(person)
        chosen: dict[tuple[str, str], str] = {}
        flagged: dict[tuple[str, str], list[str]] = {}
        for student, group in groups.items():
            if len(group) == 1:
                chosen[group[0]] = student
                continue
            for name, lms in group:
                chosen[(name, lms)] = student if (not lms and name == student) else \
                    f"{student}_{lms or _short_hash(name, 6)}"
            ids = ", ".join(sorted(chosen[p] for p in group))
            if all(lms for _, lms in group) and len({n for n, _ in group}) == 1:
                notes.append(M.bilingual("collect_same_name", count=len(group), student=student,
                                         ids=", ".join(sorted(lms for _, lms in group))))
            else:  # folders the instructor may not know are one person or two: flag each row
                notes.append(M.bilingual("collect_same_id", count=len(group), student=student,
                                         names=", ".join(n for n, _ in group), ids=ids))
                for person in group:
                    flagged[person] = [row_flag("same_id", person[0])]
        used: set[str] = set()
        for person in sorted(chosen):  # a suffixed id may be another student's own id
            if chosen[person] in used:
                chosen[person] += f"_{_short_hash('|'.join(person), 6)}"
            used.add(chosen[person])
        self.flags = {chosen[person]: found for person, found in flagged.items()}  # for the rows
        for owner in owners:
            self.ids[owner] = chosen[(owner.name, owner.lms_id)]
        # the names a path may use for a student (a folder, a login): to spot a file that
        # claims another student
        self.names: dict[str, str] = {}
        for owner in owners:
            self.names.setdefault(safe_student_id(owner.name).casefold(), self.ids[owner])
            self.names.setdefault(self.ids[owner].casefold(), self.ids[owner])

    def claims(self, place: Place) -> list[str]:
        """Other students of the class that a name on the entry's path names."""
        me = self.ids[place.owner]
        mine = {me.casefold(), safe_student_id(place.owner.name).casefold()}
        found = []
        for name in _names_in(place.below + place.container):
            key = safe_student_id(name).casefold()
            student = self.names.get(key)
            if student and key not in mine | self.reserved and student != me \
                    and student not in found:
                found.append(student)
        return found


def _names_in(path: tuple[str, ...]) -> Iterator[str]:
    """The names a path gives that could be a student's: its folders, a file's stem, and the
    student a Canvas or Moodle name pattern starts with."""
    for part in path:
        stem = re.sub(r"(-\d+)?\.(ipynb|zip)$", "", part, flags=re.IGNORECASE)
        yield stem
        for pattern, group in ((_CANVAS, "login"), (_MOODLE_DIR, "name"), (_MOODLE_FILE, "name")):
            found = pattern.match(part)
            if found:
                yield found[group]
