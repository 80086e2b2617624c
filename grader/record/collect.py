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
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import stat
import struct
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.checks import messages as M
from grader.paths import SOLUTIONS

__all__ = ["Collected", "Collection", "Empty", "Identity", "Unmapped", "collect", "notebook_index",
           "LmsUpload", "lms_upload",
           "cell_index", "best_match", "safe_student_id"]

M.register(
    {
        "collect_not_notebook": (
            "not a notebook (only .ipynb files are graded)",
            "不是 notebook（只评分 .ipynb 文件）",
        ),
        "collect_unknown_notebook": (
            "no assignment has a notebook named {name}",
            "没有任何作业包含名为 {name} 的 notebook",
        ),
        "collect_no_student": (
            "cannot tell which student this file belongs to",
            "无法判断这个文件属于哪位学生",
        ),
        "collect_duplicate": (
            "a second file for {student}/{assignment}/{name}; the newest upload ({kept}) is graded",
            "{student}/{assignment}/{name} 有多个文件；评分的是最新上传的 {kept}",
        ),
        "collect_bad_zip": (
            "not a readable zip file: {error}",
            "不是可读取的 zip 文件：{error}",
        ),
        "collect_unsafe_path": (
            "a path that would leave the staging folder; skipped",
            "路径会跳出暂存目录，已跳过",
        ),
        "collect_ignored": (
            "a hidden or checkpoint file (.ipynb_checkpoints, .DS_Store, …); not graded",
            "隐藏文件或检查点文件（.ipynb_checkpoints、.DS_Store 等）；不评分",
        ),
        "collect_symlink": (
            "a symbolic link; links are not followed (they could point at anyone's files)",
            "符号链接；不会跟随链接（它可能指向任何人的文件）",
        ),
        "collect_too_large": (
            "{size} MB, more than the {limit} MB a submitted file may have; not read. A "
            "notebook this large is mostly outputs: clear them (Edit → Clear Outputs of All "
            "Cells), save and submit again.",
            "{size} MB，超过了提交文件的上限 {limit} MB；没有读取。这么大的 notebook 主要是输出："
            "请清除输出（Edit → Clear Outputs of All Cells），保存后重新提交。",
        ),
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
        "collect_renamed": (
            "renamed notebook: {origin} is graded as {name} (recognised by its cells)",
            "notebook 被改名：{origin} 按其单元格识别为 {name} 评分",
        ),
        "collect_renamed_in_folder": (
            "renamed notebook: {origin} is in the folder of {assignment}, so it is graded as "
            "{name}",
            "notebook 被改名：{origin} 位于作业 {assignment} 的文件夹中，因此按 {name} 评分",
        ),
        "collect_method": (
            "compressed with {method}: only stored and deflate members (what Canvas and Moodle "
            "write) are read; not extracted",
            "使用 {method} 压缩：只读取未压缩或 deflate 压缩的成员（Canvas 和 Moodle 导出的格式）；"
            "未解压",
        ),
        "collect_too_many_members": (
            "a zip of more than {limit} files; a zip a student uploaded is read only up to "
            "{limit} files, so none of it was read",
            "zip 中的文件超过 {limit} 个；学生上传的 zip 最多读取 {limit} 个文件，因此整个 zip 都没有读取",
        ),
        "collect_zip_budget": (
            "the files of this zip add up to more than {limit} MB; this one was not extracted",
            "这个 zip 中的文件合计超过 {limit} MB；这个文件没有解压",
        ),
        "collect_zip_in_zip": (
            "a zip inside a zip a student uploaded is not opened (one level only)",
            "学生上传的 zip 中的 zip 不会被打开（只打开一层）",
        ),
        "collect_special_file": (
            "not a regular file (a pipe, socket or device); not read",
            "不是普通文件（管道、套接字或设备）；没有读取",
        ),
        "collect_too_deep": (
            "folders nested more than {limit} deep; what is below was not examined",
            "文件夹嵌套超过 {limit} 层；更深处的内容没有检查",
        ),
        "collect_unreadable": (
            "could not be read: {error}",
            "无法读取：{error}",
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
        "collect_too_many_files": (
            "more than {limit} files in this student's folder; the rest was not examined",
            "这个学生的文件夹中有超过 {limit} 个文件；其余部分没有检查",
        ),
    }
)

_CANVAS = re.compile(
    r"^(?P<login>[^_/]+?)(?P<late>_LATE)?_(?P<userid>\d+)_(?P<subid>\d+)_(?P<name>.+)$",
    re.IGNORECASE,
)
_MOODLE_DIR = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_?$")
_MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_file_(?P<file>.+)$")
_REUPLOAD = re.compile(r"-\d+(?=\.ipynb$)")

MAX_FILE_MB = 200  # a larger file or zip member is reported, never read (default; see collect)
MAX_EXPORT_MEMBERS = 100_000  # members of the zip given as SOURCE (the LMS's own export)
MAX_ZIP_MEMBERS = 1_000  # members of a zip a student uploaded
MAX_ZIP_TOTAL_MB = 200  # bytes extracted from one zip a student uploaded, all members together
MAX_DIRECTORY_MB = 64  # a zip's table of contents (100,000 members take about 10 MB)
MAX_DEPTH = 32  # folders below the source's root
MAX_FILES_PER_STUDENT = 20_000  # files and folders examined in one top-level folder
LISTED_FILES = 20  # per student, files that are not notebooks are listed one by one up to this
TIMESTAMP_BYTES = 4096  # nbgrader's timestamp.txt holds one date
# what LMS exports and every zip tool use by default; bzip2 and lzma decompress without a
# bound on memory in Python's zipfile, and nobody needs them to hand in a notebook
ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma", 9: "deflate64",
                 93: "zstandard", 98: "ppmd"}

# problems that cost a student something (a file they handed in was not read): the student's
# row is flagged ``not_collected:<file>``; the others (a PDF, a checkpoint) are only listed
_FLAGGED = frozenset({"symlink", "special", "unsafe", "too_large", "bad_zip", "method",
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


# ------------------------------------------------------------ the solutions' index


def notebook_index(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """notebook file name -> assignment id, from ``solutions/``."""
    index = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        index[path.name] = path.parent.name
    return index


@functools.lru_cache(maxsize=8)
def cell_index(solutions: Path = SOLUTIONS) -> dict[str, frozenset[str]]:
    """notebook file name -> the grade ids of its nbgrader cells (to recognise a notebook by
    its content: a renamed copy here, another assignment's notebook in grader.record.notebook)."""
    found = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        try:
            found[path.name] = frozenset(_grade_ids(path.read_bytes()))
        except ValueError:
            found[path.name] = frozenset()
    return found


def best_match(ids: set[str], known: dict[str, frozenset[str]]) -> str | None:
    """The key of ``known`` sharing most grade ids with ``ids``, if it shares any."""
    overlaps = {name: len(ids & cells) for name, cells in known.items()}
    best = max(overlaps, key=overlaps.get, default=None)
    return best if best is not None and overlaps[best] > 0 else None


def _grade_ids(payload: bytes) -> set[str]:
    text = payload.decode("utf-8", errors="replace")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a notebook")
    cells = data.get("cells") or [c for w in data.get("worksheets", []) if isinstance(w, dict)
                                  for c in w.get("cells", [])]
    ids = set()
    for cell in cells if isinstance(cells, list) else []:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {} if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            ids.add(meta["grade_id"])
    return ids


def _recognise(path: Path | None, cells: dict[str, frozenset[str]]) -> str | None:
    """The released notebook whose graded cells this file carries most of, if any."""
    if path is None:
        return None
    try:
        ids = _grade_ids(path.read_bytes())
    except Exception:  # not JSON, not a notebook, nested too deeply: not recognised
        return None
    return best_match(ids, cells)


# ------------------------------------------------------------------------ names


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


def _display(name: str) -> tuple[str, bool]:
    """A name from the disk as text, and whether it was valid UTF-8: the bytes that are not
    (which Python keeps as lone surrogates, unprintable and unwritable) become �."""
    try:
        name.encode("utf-8")
        return name, False
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", errors="replace"), True


def _safe_file_name(name: str) -> str:
    """A notebook name fit for the staging folder: what it shows, nothing that moves."""
    stem = re.sub(r"[^\w.\- ()]", "_", name.removesuffix(".ipynb")).strip(" .") or "notebook"
    return stem[:100] + ".ipynb"


def _flag(kind: str, value: str = "") -> str:
    """A row flag naming a file or a student: one short line, no ``;`` (the CSV's separator)."""
    if not value:
        return kind
    value = "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in value)
    value = value.replace(";", ",")
    return f"{kind}:{value[:80] + '…' if len(value) > 80 else value}"


def _canonical_name(name: str) -> str:
    return _REUPLOAD.sub("", name)


def _ignored_name(name: str) -> bool:
    """Jupyter's checkpoints, macOS resource forks, hidden files: never a submission."""
    return name.startswith(".") or name in ("__MACOSX", "__pycache__")


def _wanted(name: str) -> bool:
    """A file whose bytes are copied while walking: a notebook, nbgrader's timestamp, a zip."""
    return name.endswith(".ipynb") or name == "timestamp.txt" or name.lower().endswith(".zip")


# ----------------------------------------------------------------- walking the source


@dataclass
class _Entry:
    """One thing found in the source: a file (perhaps inside a zip a student uploaded), a
    folder, or something that was refused, with the reason."""

    parts: tuple[str, ...]  # display names from the source's root (for a zip member: the zip)
    inner: tuple[str, ...] = ()  # display names inside the zip at ``parts``
    file: Path | None = None  # a private copy of the bytes (notebooks and timestamps only)
    folder: bool = False
    problem: str = ""  # bilingual: why this was not read
    kind: str = ""  # the kind of problem (see _FLAGGED)
    undecodable: bool = False  # a name on its path was not valid UTF-8
    root: bool = False  # about the source itself (the export zip), nobody's file

    @property
    def name(self) -> str:
        return (self.inner or self.parts)[-1]

    @property
    def origin(self) -> str:
        outer = "/".join(self.parts)
        return f"{outer}!{'/'.join(self.inner)}" if self.inner else outer


class _TooLarge(Exception):
    pass


def _copy_bounded(read: Callable[[int], bytes], target: Path, limit: int,
                  truncate: bool = False) -> None:
    """Copy from ``read`` to ``target``, never more than ``limit`` bytes: a file that goes on
    raises _TooLarge (or, with ``truncate``, is cut), whatever size it declared."""
    copied = 0
    with open(target, "wb") as out:
        while True:
            chunk = read(min(2**20, limit + 1 - copied))
            if not chunk:
                return
            copied += len(chunk)
            if copied > limit:
                if truncate:
                    out.write(chunk[: len(chunk) - (copied - limit)])
                    return
                raise _TooLarge()
            out.write(chunk)


def _mb(size: int) -> str:
    return f"{size / 2**20:.0f}"


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}"


class _Walker:
    """Walks a folder or a zip and yields :class:`_Entry`; wanted files are copied to
    ``incoming`` as they are found, bounded by ``limit`` bytes each."""

    def __init__(self, incoming: Path, limit: int):
        self.incoming, self.limit, self.copies = incoming, limit, 0
        self.source_name = ""
        self.examined: dict[str, int] = {}  # per top-level folder: files and folders seen

    def _target(self) -> Path:
        self.copies += 1
        return self.incoming / f"{self.copies:07d}"

    def walk(self, source: Path) -> Iterator[_Entry]:
        if source.is_dir():
            try:
                descriptor = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as exc:
                yield _Entry((source.name,), problem=M.bilingual(
                    "collect_unreadable", error=_error(exc)), kind="unreadable", root=True)
                return
            try:
                yield from self._folder(descriptor, ())
            finally:
                os.close(descriptor)
            return
        self.source_name = source.name
        try:
            handle = open(source, "rb")
        except OSError as exc:
            yield _Entry((source.name,), problem=M.bilingual("collect_bad_zip", error=_error(exc)),
                         kind="bad_zip", root=True)
            return
        with handle:
            yield from self._zip(handle, (), MAX_EXPORT_MEMBERS, nested=False)

    # folders ------------------------------------------------------------------

    def _folder(self, descriptor: int, parts: tuple[str, ...]) -> Iterator[_Entry]:
        """A folder opened as ``descriptor``; its sub-folders are opened relative to it and
        never through a symbolic link, so a link swapped in while we walk is not followed."""
        try:
            with os.scandir(descriptor) as listing:
                # a folder's files before its sub-folders: a notebook at the top of a home
                # folder is seen even if a data folder below is too large to examine
                children = sorted(listing, key=lambda child: (_is_folder(child), child.name))
        except OSError as exc:
            yield _Entry(parts, problem=M.bilingual("collect_unreadable", error=_error(exc)),
                         kind="unreadable")
            return
        for child in children:
            name, undecodable = _display(child.name)
            here = parts + (name,)
            if parts and self._exhausted(parts[0]):
                if self.examined[parts[0]] == MAX_FILES_PER_STUDENT + 1:
                    self.examined[parts[0]] += 1  # said once
                    yield _Entry(here, problem=M.bilingual("collect_too_many_files",
                                                           limit=MAX_FILES_PER_STUDENT),
                                 kind="too_many_files")
                return
            entry = _Entry(here, undecodable=undecodable)
            if _ignored_name(name):
                entry.problem, entry.kind = M.bilingual("collect_ignored"), "ignored"
            elif child.is_symlink():
                entry.problem, entry.kind = M.bilingual("collect_symlink"), "symlink"
            elif child.is_dir(follow_symlinks=False):
                yield from self._subfolder(descriptor, child.name, here, undecodable)
                continue
            elif not child.is_file(follow_symlinks=False):
                entry.problem, entry.kind = M.bilingual("collect_special_file"), "special"
            elif _wanted(name):
                yield from self._file(descriptor, child.name, entry)
                continue
            yield entry

    def _exhausted(self, top: str) -> bool:
        """Count one more thing examined in ``top``; whether its budget is spent."""
        self.examined[top] = self.examined.get(top, 0) + 1
        return self.examined[top] > MAX_FILES_PER_STUDENT

    def _subfolder(self, descriptor: int, raw: str, here: tuple[str, ...],
                   undecodable: bool) -> Iterator[_Entry]:
        yield _Entry(here, folder=True, undecodable=undecodable)
        if len(here) > MAX_DEPTH:
            yield _Entry(here, problem=M.bilingual("collect_too_deep", limit=MAX_DEPTH),
                         kind="too_deep")
            return
        try:
            inner = os.open(raw, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=descriptor)
        except OSError as exc:  # replaced by a link or made unreadable meanwhile
            yield _Entry(here, problem=M.bilingual("collect_unreadable", error=_error(exc)),
                         kind="unreadable")
            return
        try:
            for entry in self._folder(inner, here):
                entry.undecodable = entry.undecodable or undecodable
                yield entry
        finally:
            os.close(inner)

    def _file(self, descriptor: int, raw: str, entry: _Entry) -> Iterator[_Entry]:
        """A regular file, opened without following a link and without blocking on a pipe."""
        try:
            fd = os.open(raw, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=descriptor)
        except OSError as exc:
            entry.problem, entry.kind = M.bilingual("collect_unreadable", error=_error(exc)), \
                "unreadable"
            yield entry
            return
        with open(fd, "rb", buffering=0) as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                entry.problem, entry.kind = M.bilingual("collect_special_file"), "special"
            elif entry.parts[-1].lower().endswith(".zip"):
                yield from self._zip(handle, entry.parts, MAX_ZIP_MEMBERS, nested=True,
                                     undecodable=entry.undecodable)
                return
            else:
                self._keep(entry, handle.read, info.st_size)
        yield entry

    def _keep(self, entry: _Entry, read: Callable[[int], bytes], size: int,
              limit: int | None = None) -> None:
        """Copy a wanted file's bytes, at most ``limit`` of them (``self.limit``) whatever
        size it claims; a file that goes on is reported, not copied."""
        limit = self.limit if limit is None else limit
        target = self._target()
        small = entry.parts[-1] == "timestamp.txt" and not entry.inner
        try:
            if size > limit and not small:
                raise _TooLarge()
            _copy_bounded(read, target, TIMESTAMP_BYTES if small else limit, truncate=small)
            entry.file = target
        except _TooLarge:
            target.unlink(missing_ok=True)
            if limit < self.limit:  # what was left of its zip's budget
                entry.problem = M.bilingual("collect_zip_budget", limit=MAX_ZIP_TOTAL_MB)
                entry.kind = "budget"
            else:
                entry.problem = M.bilingual("collect_too_large", size=_mb(max(size, limit + 1)),
                                            limit=f"{limit / 2**20:g}")
                entry.kind = "too_large"
        except Exception as exc:  # a bad CRC, a truncated member, an I/O error
            target.unlink(missing_ok=True)
            entry.problem = M.bilingual("collect_unreadable", error=_error(exc))
            entry.kind = "unreadable"

    # zips ---------------------------------------------------------------------

    def _zip(self, handle, parts: tuple[str, ...], members: int, nested: bool,
             undecodable: bool = False) -> Iterator[_Entry]:
        """Members of the zip open as ``handle``: the source itself (``nested`` false: its
        members' paths are the source's), or a zip found at ``parts`` (its members keep their
        own paths below it, in ``inner``)."""
        here = _Entry(parts or (self.source_name,), undecodable=undecodable, root=not nested)
        try:
            archive = _open_zip(handle, members)
        except _TooManyMembers:
            here.problem = M.bilingual("collect_too_many_members", limit=members)
            here.kind = "too_many"
            yield here
            return
        except Exception as exc:  # BadZipFile, and whatever a crafted header provokes
            here.problem, here.kind = M.bilingual("collect_bad_zip", error=_error(exc)), "bad_zip"
            yield here
            return
        # what one zip a student uploaded may expand to, all its members together
        budget = max(MAX_ZIP_TOTAL_MB * 2**20, self.limit) if nested else None
        with archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                entry = self._member_entry(info, parts, nested, undecodable)
                if entry.problem or not _wanted(entry.name):
                    yield entry  # listed as what it is, without being read
                    continue
                self._member(archive, info, entry, budget)
                if budget is not None and entry.file is not None:
                    budget -= entry.file.stat().st_size
                if entry.file is not None and not nested and entry.name.lower().endswith(".zip"):
                    yield from self._nested(entry)
                    continue
                yield entry

    def _member_entry(self, info: zipfile.ZipInfo, parts: tuple[str, ...], nested: bool,
                      undecodable: bool) -> _Entry:
        """The entry of a zip member, with the reason it is refused before being read."""
        name, bad_name = _member_name(info)
        path = PurePosixPath(name)
        undecodable = undecodable or bad_name
        if not _safe_member(path):
            entry = _Entry(parts, (name,), undecodable=undecodable) if nested else \
                _Entry((name,), undecodable=undecodable, root=True)
            entry.problem, entry.kind = M.bilingual("collect_unsafe_path"), "unsafe"
            return entry
        entry = _Entry(parts, path.parts, undecodable=undecodable) if nested else \
            _Entry(path.parts, undecodable=undecodable)
        if any(_ignored_name(part) for part in path.parts):
            entry.problem, entry.kind = M.bilingual("collect_ignored"), "ignored"
        elif nested and path.name.lower().endswith(".zip"):
            entry.problem, entry.kind = M.bilingual("collect_zip_in_zip"), "zip_in_zip"
        elif _wanted(path.name) and _is_link(info):
            entry.problem, entry.kind = M.bilingual("collect_symlink"), "symlink"
        elif _wanted(path.name) and info.compress_type not in ZIP_METHODS:
            method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
            entry.problem, entry.kind = M.bilingual("collect_method", method=method), "method"
        elif _wanted(path.name) and info.flag_bits & 0x1:
            entry.problem = M.bilingual("collect_unreadable", error="encrypted")
            entry.kind = "unreadable"
        return entry

    def _member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, entry: _Entry,
                budget: int | None) -> None:
        """Extract one member, bounded by the file limit and what is left of its zip's budget."""
        limit = self.limit if budget is None else min(self.limit, max(budget, 0))
        try:
            with archive.open(info) as stream:
                self._keep(entry, stream.read, info.file_size, limit)
        except Exception as exc:  # a local header that contradicts the directory, …
            entry.problem = M.bilingual("collect_unreadable", error=_error(exc))
            entry.kind = "unreadable"

    def _nested(self, entry: _Entry) -> Iterator[_Entry]:
        """A zip the LMS export holds (a student's upload): its copy is opened, then deleted."""
        copy, entry.file = entry.file, None
        try:
            with open(copy, "rb") as handle:
                yield from self._zip(handle, entry.parts, MAX_ZIP_MEMBERS, nested=True,
                                     undecodable=entry.undecodable)
        finally:
            copy.unlink(missing_ok=True)


def _is_folder(child: os.DirEntry) -> bool:
    try:
        return child.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _safe_member(path: PurePosixPath) -> bool:
    return bool(path.parts) and not path.is_absolute() and not any(
        part in ("..", ".", "") for part in path.parts)


def _is_link(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _member_name(info: zipfile.ZipInfo) -> tuple[str, bool]:
    """A zip member's name, and whether its bytes were not valid text: zips made on Windows use
    code pages (GBK for Chinese names) and backslashes, where the format asks for UTF-8 and
    slashes. A name marked UTF-8 that is not had its mark cleared by :func:`_open_zip`."""
    name, undecodable = info.filename, False
    if not info.flag_bits & 0x800:  # not marked UTF-8: Python decoded it as cp437
        raw = name.encode("cp437", errors="replace")
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            name, undecodable = raw.decode("utf-8", errors="replace"), True
    return name.replace("\\", "/"), undecodable


class _TooManyMembers(Exception):
    pass


class _Patched:
    """A read-only binary file with a few bytes replaced, for :mod:`zipfile` to read."""

    def __init__(self, handle, patches: dict[int, int]):
        self.handle, self.patches = handle, patches

    def read(self, size: int = -1) -> bytes:
        start = self.handle.tell()
        data = self.handle.read(size)
        for position, value in self.patches.items():
            if start <= position < start + len(data):
                at = position - start
                data = data[:at] + bytes([value]) + data[at + 1:]
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:  # the caller closes the file it opened
        pass


def _open_zip(handle, members: int) -> zipfile.ZipFile:
    """A ZipFile over ``handle`` after checking its table of contents ourselves: at most
    ``members`` members (a zip of a million empty files is refused before Python builds a
    million entries), and names marked UTF-8 that are not (Python refuses the whole zip for
    one such name) unmarked, in memory only, so they are decoded like any legacy name."""
    start, end = _directory(handle)
    patches: dict[int, int] = {}
    unmark: list[int] = []
    position, count = start, 0
    while position < end:
        handle.seek(position)
        head = handle.read(46)
        if len(head) < 46 or head[:4] != b"PK\x01\x02":
            raise zipfile.BadZipFile("damaged table of contents")
        count += 1
        if count > members:
            raise _TooManyMembers()
        flags = struct.unpack_from("<H", head, 8)[0]
        name_length, extra_length, comment_length = struct.unpack_from("<3H", head, 28)
        if flags & 0x800 and not _is_utf8(handle.read(name_length)):
            patches[position + 9] = head[9] & ~0x08
            unmark.append(count - 1)
        position += 46 + name_length + extra_length + comment_length
    archive = zipfile.ZipFile(_Patched(handle, patches))
    for index in unmark:  # each member's local header repeats the mark
        offset = archive.filelist[index].header_offset
        handle.seek(offset)
        local = handle.read(8)
        if len(local) == 8 and local[:4] == b"PK\x03\x04":
            patches[offset + 7] = local[7] & ~0x08
    return archive


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _directory(handle) -> tuple[int, int]:
    """Where a zip's table of contents starts and ends (from its end records)."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    tail_length = min(size, 22 + 0xFFFF)
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or tail_length - at < 22:
        raise zipfile.BadZipFile("File is not a zip file")
    end = size - tail_length + at
    _, _, _, _, entries, length, offset, _ = struct.unpack_from("<4s4H2LH", tail, at)
    if entries == 0xFFFF or 0xFFFFFFFF in (length, offset):  # zip64: the real numbers are in
        # its own end record, just before its locator (where Python's zipfile looks too)
        handle.seek(max(end - 20, 0))
        locator = handle.read(20)
        handle.seek(max(end - 76, 0))
        record = handle.read(56)
        if locator[:4] == b"PK\x06\x07" and record[:4] == b"PK\x06\x06":
            length = struct.unpack_from("<Q", record, 40)[0]
            end -= 76
    if length > MAX_DIRECTORY_MB * 2**20 or length > end:
        raise zipfile.BadZipFile("table of contents too large or misplaced")
    return end - length, end


# ------------------------------------------------------------------- identities


@dataclass(frozen=True)
class _Owner:
    """A student as the source names them: a folder, a Canvas login, a Moodle full name."""

    name: str
    lms_id: str = ""  # the LMS's numeric user id (Canvas, Moodle), "" where there is none
    top: str = ""  # the source's top-level folder or file that names them


@dataclass
class _Place:
    """Whose an entry is, and where it sits in their part of the source."""

    owner: _Owner
    below: tuple[str, ...]  # the path below the owner (for a zip member: in the zip)
    late: bool = False
    container: tuple[str, ...] = ()  # for a zip member, the zip's path below the owner


def _lms_of(owner: _Owner) -> str:
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


def _place(entry: _Entry) -> _Place | None:
    """The owner of an entry: the top-level folder, or the LMS's name for a file at the root.
    Nothing below the top level can change whose a file is."""
    if entry.root or not entry.parts or _ignored_name(entry.parts[0]):
        return None
    top = entry.parts[0]
    if len(entry.parts) == 1 and not entry.folder:  # a file at the root: only an LMS export
        canvas = _CANVAS.match(top)
        moodle = _MOODLE_FILE.match(top)
        if moodle:
            owner, below, late = _Owner(moodle["name"], moodle["id"], top), (moodle["file"],), False
        elif canvas:
            owner = _Owner(canvas["login"], canvas["userid"], top)
            below, late = (canvas["name"],), bool(canvas["late"])
        else:
            return None
    else:
        moodle = _MOODLE_DIR.match(top)
        owner = _Owner(moodle["name"], moodle["id"], top) if moodle else _Owner(top, "", top)
        below, late = entry.parts[1:], False
    if entry.inner:
        return _Place(owner, below[:-1] + entry.inner, late, container=below)
    return _Place(owner, below, late)


class _Roster:
    """Every student of the source and their final id. Two students whose names give one id
    stay two: an LMS id tells namesakes apart; otherwise a short hash of the folder's name."""

    def __init__(self, owners: set[_Owner], notes: list[str], reserved: set[str]):
        self.ids: dict[_Owner, str] = {}
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
                    flagged[person] = [_flag("same_id", person[0])]
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

    def claims(self, place: _Place) -> list[str]:
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


# --------------------------------------------------------------------- mapping


@dataclass
class _Mapped:
    assignment: str
    notebook: str
    renamed_from: str = ""
    in_folder: bool = False  # named after the assignment folder it sits in, not its cells


def _map(place: _Place, file: Path | None, index: dict[str, str],
         cells: dict[str, frozenset[str]]) -> _Mapped | str:
    """Which assignment and notebook a file of a student is, or a bilingual reason it is
    none. A notebook whose name is not a released one (``Copy of perceptron.ipynb``,
    ``hw1.ipynb``) is recognised by its graded cells; a folder named after an assignment
    (nbgrader's layout) names the assignment even when the file is not recognised (grading
    then says what is wrong with it)."""
    name = place.below[-1]
    if not name.endswith(".ipynb"):
        return M.bilingual("collect_not_notebook")
    assignments = set(index.values())
    hint = next((part for part in reversed(place.below[:-1]) if part in assignments), None)
    canonical = _canonical_name(name)
    if canonical in index and (hint is None or index[canonical] == hint):
        return _Mapped(index[canonical], canonical)
    recognised = _recognise(file, cells)
    if recognised and (hint is None or index[recognised] == hint):
        return _Mapped(index[recognised], recognised, name)
    if hint is not None:
        books = sorted(book for book, assignment in index.items() if assignment == hint)
        if len(books) == 1:  # the assignment's only notebook, renamed
            return _Mapped(hint, books[0], name, in_folder=True)
        return _Mapped(hint, _safe_file_name(canonical))
    return M.bilingual("collect_unknown_notebook", name=canonical)


@dataclass
class _Candidate:
    entry: _Entry
    place: _Place
    student: str
    where: _Mapped
    flags: list[str]


def _within(entry: _Entry, place: _Place | None) -> str:
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
        run.gather(_Walker(incoming, run.limit).walk(Path(source)))
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
        self.entries: list[tuple[_Entry, _Place | None]] = []
        # per student (their top-level name): files that are not candidates, listed by name,
        # only counted, and of those how many were refused
        self.listed: dict[str, int] = {}
        self.unlisted: dict[str, int] = {}
        self.refused: dict[str, int] = {}

    def gather(self, entries: Iterator[_Entry]) -> None:
        """Keep what matters: every notebook, the folders that say who and which assignment,
        and the first few other files of each student by name (a folder of 70,000 images is
        one line, not 70,000; the rest are counted)."""
        for entry in entries:
            place = _place(entry)
            if place is not None and entry.folder and len(place.below) > 1:
                continue  # only a student's folder and its assignment folders matter
            if place is not None and not entry.folder and entry.file is None \
                    and entry.kind != "too_many_files":  # that one is always said
                top = place.owner.top
                if self.listed.get(top, 0) >= LISTED_FILES:
                    self.unlisted[top] = self.unlisted.get(top, 0) + 1
                    self.refused[top] = self.refused.get(top, 0) + (entry.kind in _FLAGGED)
                    continue
                self.listed[top] = self.listed.get(top, 0) + 1
            self.entries.append((entry, place))

    def finish(self) -> Collection:
        result = self.result
        owners = {place.owner for _, place in self.entries if place is not None}
        reserved = self.assignments | {Path(book).stem for book in self.index}
        self.roster = _Roster(owners, result.notes, reserved)
        for owner in sorted(owners, key=lambda o: (o.lms_id == "", o.top)):  # LMS names first
            student = self.roster.ids[owner]
            if student not in result.students:
                lms = _lms_of(owner)
                result.students[student] = Identity(student, lms, owner.lms_id if lms else "",
                                                    _display(owner.name)[0])
        candidates = []
        stamps: dict[tuple[str, str], Path] = {}
        for entry, place in self.entries:
            if entry.folder:
                continue
            try:
                candidate = self.examine(entry, place, stamps)
            except Exception as exc:  # one file never stops the class
                candidate = None
                self.unmapped(entry, place, M.bilingual("collect_unreadable", error=_error(exc)),
                              "unreadable")
            if candidate is not None:
                candidates.append(candidate)
        self.more_files()
        chosen = self.choose(candidates)
        self.stage(chosen, stamps)
        self.account()
        return result

    def student(self, place: _Place) -> str:
        return self.roster.ids[place.owner]

    def unmapped(self, entry: _Entry, place: _Place | None, reason: str, kind: str = "") -> None:
        if entry.undecodable:
            reason += "\n" + M.bilingual("collect_undecodable_name", origin=entry.origin)
        student = self.student(place) if place is not None else ""
        flag = _flag("not_collected", _within(entry, place)) if kind in _FLAGGED and student \
            else ""
        self.result.unmapped.append(Unmapped(entry.origin, reason, student, flag, kind))

    def examine(self, entry: _Entry, place: _Place | None,
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
        where = _map(place, entry.file, self.index, self.cells)
        if isinstance(where, str):
            self.unmapped(entry, place, where)
            return None
        if entry.file is None:  # never: a notebook is copied or has a problem
            self.unmapped(entry, place, M.bilingual("collect_unreadable", error="not copied"),
                          "unreadable")
            return None
        claimed = self.roster.claims(place)
        flags = [_flag("claims_other_student", other) for other in claimed]
        for other in claimed:
            self.result.notes.append(M.bilingual("collect_claims_other", origin=entry.origin,
                                                 owner=self.student(place), other=other))
        if entry.undecodable:
            flags.append(_flag("undecodable_name", entry.origin))
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
            flag = _flag("not_collected", f"+{refused} more") if refused else ""
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
                kept.flags.append(_flag("duplicate", _within(other.entry, other.place)))
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
                              M.bilingual("collect_unreadable", error=_error(exc)), "unreadable")
                continue
            flags = ([_flag("renamed", where.renamed_from)] if where.renamed_from else []) \
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

