"""Reading a zip without trusting it · 不信任地读取 zip 文件.

Python's :mod:`zipfile` believes a zip's table of contents; a zip made to hurt (a million
empty members, a table of contents of gigabytes, a name marked UTF-8 that is not) costs
memory or fails as a whole before a single member is read. :func:`open_zip` reads the
table of contents first, bounded, then lets :mod:`zipfile` open what passed. What a
member's name and header say (a link, a path that leaves the folder, its compression
method) is judged here too; how much of a member is read is the walker's business
(:mod:`grader.record.walk`).
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from pathlib import PurePosixPath

__all__ = ["MAX_DIRECTORY_MB", "METHOD_NAMES", "TooManyMembers", "ZIP_METHODS", "is_link",
           "member_name", "open_zip", "safe_member"]

MAX_DIRECTORY_MB = 64  # a zip's table of contents (100,000 members take about 10 MB)
# what LMS exports and every zip tool use by default; bzip2 and lzma decompress without a
# bound on memory in Python's zipfile, and nobody needs them to hand in a notebook
ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma", 9: "deflate64",
                 93: "zstandard", 98: "ppmd"}



def safe_member(path: PurePosixPath) -> bool:
    return bool(path.parts) and not path.is_absolute() and not any(
        part in ("..", ".", "") for part in path.parts)


def is_link(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def member_name(info: zipfile.ZipInfo) -> tuple[str, bool]:
    """A zip member's name, and whether its bytes were not valid text: zips made on Windows use
    code pages (GBK for Chinese names) and backslashes, where the format asks for UTF-8 and
    slashes. A name marked UTF-8 that is not had its mark cleared by :func:`open_zip`."""
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


class TooManyMembers(Exception):
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


def open_zip(handle, members: int) -> zipfile.ZipFile:
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
            raise TooManyMembers()
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

