"""Walking the source, file by file · 逐个文件遍历提交来源.

:class:`Walker` walks a folder or a zip (an LMS's export) and yields one :class:`Entry` for
everything it finds: a file, a folder, or something refused with its bilingual reason.
Folders are opened without following symbolic links, files only when regular; the bytes of
the files that matter (notebooks, nbgrader's timestamps, zips) are copied once, while
walking, so what is graded is what was checked. Every read is bounded: bytes per file,
bytes and members per zip a student uploaded, folders deep, files per student; zips inside
zips are not opened. Whose an entry is and which assignment it is are decided later
(:mod:`grader.record.owners`, :mod:`grader.record.matching`).
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.checks import messages as M
from grader.record.archive import (
    METHOD_NAMES,
    ZIP_METHODS,
    TooManyMembers,
    is_link,
    member_name,
    open_zip,
    safe_member,
)
from grader.record.terminal import error_line

__all__ = ["Entry", "Walker", "display", "ignored_name", "wanted"]

M.register(
    {
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
        "collect_too_many_files": (
            "more than {limit} files in this student's folder; the rest was not examined",
            "这个学生的文件夹中有超过 {limit} 个文件；其余部分没有检查",
        ),
    }
)

MAX_EXPORT_MEMBERS = 100_000  # members of the zip given as SOURCE (the LMS's own export)
MAX_ZIP_MEMBERS = 1_000  # members of a zip a student uploaded
MAX_ZIP_TOTAL_MB = 200  # bytes extracted from one zip a student uploaded, all members together
MAX_DEPTH = 32  # folders below the source's root
MAX_FILES_PER_STUDENT = 20_000  # files and folders examined in one top-level folder
TIMESTAMP_BYTES = 4096  # nbgrader's timestamp.txt holds one date


def display(name: str) -> tuple[str, bool]:
    """A name from the disk as text, and whether it was valid UTF-8: the bytes that are not
    (which Python keeps as lone surrogates, unprintable and unwritable) become �."""
    try:
        name.encode("utf-8")
        return name, False
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", errors="replace"), True



def ignored_name(name: str) -> bool:
    """Jupyter's checkpoints, macOS resource forks, hidden files: never a submission."""
    return name.startswith(".") or name in ("__MACOSX", "__pycache__")


def wanted(name: str) -> bool:
    """A file whose bytes are copied while walking: a notebook, nbgrader's timestamp, a zip."""
    return name.endswith(".ipynb") or name == "timestamp.txt" or name.lower().endswith(".zip")



@dataclass
class Entry:
    """One thing found in the source: a file (perhaps inside a zip a student uploaded), a
    folder, or something that was refused, with the reason."""

    parts: tuple[str, ...]  # display names from the source's root (for a zip member: the zip)
    inner: tuple[str, ...] = ()  # display names inside the zip at ``parts``
    file: Path | None = None  # a private copy of the bytes (notebooks and timestamps only)
    folder: bool = False
    problem: str = ""  # bilingual: why this was not read
    kind: str = ""  # the kind of problem (see grader.record.collect's FLAGGED)
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


class Walker:
    """Walks a folder or a zip and yields :class:`Entry`; wanted files are copied to
    ``incoming`` as they are found, bounded by ``limit`` bytes each."""

    def __init__(self, incoming: Path, limit: int):
        self.incoming, self.limit, self.copies = incoming, limit, 0
        self.source_name = ""
        self.examined: dict[str, int] = {}  # per top-level folder: files and folders seen

    def _target(self) -> Path:
        self.copies += 1
        return self.incoming / f"{self.copies:07d}"

    def walk(self, source: Path) -> Iterator[Entry]:
        if source.is_dir():
            try:
                descriptor = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as exc:
                yield Entry((source.name,), problem=M.bilingual(
                    "collect_unreadable", error=error_line(exc, 200)), kind="unreadable", root=True)
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
            yield Entry((source.name,), problem=M.bilingual("collect_bad_zip", error=error_line(exc, 200)),
                         kind="bad_zip", root=True)
            return
        with handle:
            yield from self._zip(handle, (), MAX_EXPORT_MEMBERS, nested=False)

    # folders ------------------------------------------------------------------

    def _folder(self, descriptor: int, parts: tuple[str, ...]) -> Iterator[Entry]:
        """A folder opened as ``descriptor``; its sub-folders are opened relative to it and
        never through a symbolic link, so a link swapped in while we walk is not followed."""
        try:
            with os.scandir(descriptor) as listing:
                # a folder's files before its sub-folders: a notebook at the top of a home
                # folder is seen even if a data folder below is too large to examine
                children = sorted(listing, key=lambda child: (_is_folder(child), child.name))
        except OSError as exc:
            yield Entry(parts, problem=M.bilingual("collect_unreadable", error=error_line(exc, 200)),
                         kind="unreadable")
            return
        for child in children:
            name, undecodable = display(child.name)
            here = parts + (name,)
            if parts and self._exhausted(parts[0]):
                if self.examined[parts[0]] == MAX_FILES_PER_STUDENT + 1:
                    self.examined[parts[0]] += 1  # said once
                    yield Entry(here, problem=M.bilingual("collect_too_many_files",
                                                           limit=MAX_FILES_PER_STUDENT),
                                 kind="too_many_files")
                return
            entry = Entry(here, undecodable=undecodable)
            if ignored_name(name):
                entry.problem, entry.kind = M.bilingual("collect_ignored"), "ignored"
            elif child.is_symlink():
                entry.problem, entry.kind = M.bilingual("collect_symlink"), "symlink"
            elif child.is_dir(follow_symlinks=False):
                yield from self._subfolder(descriptor, child.name, here, undecodable)
                continue
            elif not child.is_file(follow_symlinks=False):
                entry.problem, entry.kind = M.bilingual("collect_special_file"), "special"
            elif wanted(name):
                yield from self._file(descriptor, child.name, entry)
                continue
            yield entry

    def _exhausted(self, top: str) -> bool:
        """Count one more thing examined in ``top``; whether its budget is spent."""
        self.examined[top] = self.examined.get(top, 0) + 1
        return self.examined[top] > MAX_FILES_PER_STUDENT

    def _subfolder(self, descriptor: int, raw: str, here: tuple[str, ...],
                   undecodable: bool) -> Iterator[Entry]:
        yield Entry(here, folder=True, undecodable=undecodable)
        if len(here) > MAX_DEPTH:
            yield Entry(here, problem=M.bilingual("collect_too_deep", limit=MAX_DEPTH),
                         kind="too_deep")
            return
        try:
            inner = os.open(raw, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=descriptor)
        except OSError as exc:  # replaced by a link or made unreadable meanwhile
            yield Entry(here, problem=M.bilingual("collect_unreadable", error=error_line(exc, 200)),
                         kind="unreadable")
            return
        try:
            for entry in self._folder(inner, here):
                entry.undecodable = entry.undecodable or undecodable
                yield entry
        finally:
            os.close(inner)

    def _file(self, descriptor: int, raw: str, entry: Entry) -> Iterator[Entry]:
        """A regular file, opened without following a link and without blocking on a pipe."""
        try:
            fd = os.open(raw, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=descriptor)
        except OSError as exc:
            entry.problem, entry.kind = M.bilingual("collect_unreadable", error=error_line(exc, 200)), \
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

    def _keep(self, entry: Entry, read: Callable[[int], bytes], size: int,
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
            entry.problem = M.bilingual("collect_unreadable", error=error_line(exc, 200))
            entry.kind = "unreadable"

    # zips ---------------------------------------------------------------------

    def _zip(self, handle, parts: tuple[str, ...], members: int, nested: bool,
             undecodable: bool = False) -> Iterator[Entry]:
        """Members of the zip open as ``handle``: the source itself (``nested`` false: its
        members' paths are the source's), or a zip found at ``parts`` (its members keep their
        own paths below it, in ``inner``)."""
        here = Entry(parts or (self.source_name,), undecodable=undecodable, root=not nested)
        try:
            archive = open_zip(handle, members)
        except TooManyMembers:
            here.problem = M.bilingual("collect_too_many_members", limit=members)
            here.kind = "too_many"
            yield here
            return
        except Exception as exc:  # BadZipFile, and whatever a crafted header provokes
            here.problem, here.kind = M.bilingual("collect_bad_zip", error=error_line(exc, 200)), "bad_zip"
            yield here
            return
        # what one zip a student uploaded may expand to, all its members together
        budget = max(MAX_ZIP_TOTAL_MB * 2**20, self.limit) if nested else None
        with archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                entry = self._member_entry(info, parts, nested, undecodable)
                if entry.problem or not wanted(entry.name):
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
                      undecodable: bool) -> Entry:
        """The entry of a zip member, with the reason it is refused before being read."""
        name, bad_name = member_name(info)
        path = PurePosixPath(name)
        undecodable = undecodable or bad_name
        if not safe_member(path):
            entry = Entry(parts, (name,), undecodable=undecodable) if nested else \
                Entry((name,), undecodable=undecodable, root=True)
            entry.problem, entry.kind = M.bilingual("collect_unsafe_path"), "unsafe"
            return entry
        entry = Entry(parts, path.parts, undecodable=undecodable) if nested else \
            Entry(path.parts, undecodable=undecodable)
        if any(ignored_name(part) for part in path.parts):
            entry.problem, entry.kind = M.bilingual("collect_ignored"), "ignored"
        elif nested and path.name.lower().endswith(".zip"):
            entry.problem, entry.kind = M.bilingual("collect_zip_in_zip"), "zip_in_zip"
        elif wanted(path.name) and is_link(info):
            entry.problem, entry.kind = M.bilingual("collect_symlink"), "symlink"
        elif wanted(path.name) and info.compress_type not in ZIP_METHODS:
            method = METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
            entry.problem, entry.kind = M.bilingual("collect_method", method=method), "method"
        elif wanted(path.name) and info.flag_bits & 0x1:
            entry.problem = M.bilingual("collect_unreadable", error="encrypted")
            entry.kind = "unreadable"
        return entry

    def _member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, entry: Entry,
                budget: int | None) -> None:
        """Extract one member, bounded by the file limit and what is left of its zip's budget."""
        limit = self.limit if budget is None else min(self.limit, max(budget, 0))
        try:
            with archive.open(info) as stream:
                self._keep(entry, stream.read, info.file_size, limit)
        except Exception as exc:  # a local header that contradicts the directory, …
            entry.problem = M.bilingual("collect_unreadable", error=error_line(exc, 200))
            entry.kind = "unreadable"

    def _nested(self, entry: Entry) -> Iterator[Entry]:
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
