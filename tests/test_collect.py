"""Collecting submissions: nbgrader layout, plain folders, Canvas and Moodle zips."""

import io
import json
import os
import stat
import struct
import time
import tracemalloc
import zipfile
from dataclasses import asdict

import pytest

from grader.record.collect import collect
from grader.record.owners import safe_student_id

NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _solutions(tmp_path):
    root = tmp_path / "solutions"
    for ident, name in [("01_perceptron", "perceptron"), ("03_backprop", "backprop")]:
        (root / ident).mkdir(parents=True)
        (root / ident / f"{name}.ipynb").write_bytes(NB)
    return root


def _zip(target, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    """Write a zip with these members to ``target`` (a path or a buffer); return it."""
    with zipfile.ZipFile(target, "w", compression=compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return target


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    return _zip(io.BytesIO(), members).getvalue()


def _keys(result):
    return sorted((s.student, s.assignment, s.notebook) for s in result.submissions)


def test_nbgrader_layout(tmp_path):
    sol = _solutions(tmp_path)
    src = tmp_path / "submitted"
    for student in ("ana", "bo"):
        (src / student / "01_perceptron").mkdir(parents=True)
        (src / student / "01_perceptron" / "perceptron.ipynb").write_bytes(NB)
    result = collect(src, tmp_path / "staged", sol)
    assert _keys(result) == [("ana", "01_perceptron", "perceptron.ipynb"),
                             ("bo", "01_perceptron", "perceptron.ipynb")]
    assert not result.unmapped


def test_plain_folder_recognises_the_assignment_by_notebook_name(tmp_path):
    sol = _solutions(tmp_path)
    src = tmp_path / "class"
    (src / "Chen Wei").mkdir(parents=True)
    (src / "Chen Wei" / "backprop.ipynb").write_bytes(NB)
    (src / "Chen Wei" / "notes.txt").write_text("hi")
    (src / "Chen Wei" / "other.ipynb").write_bytes(NB)
    result = collect(src, tmp_path / "staged", sol)
    assert _keys(result) == [("Chen_Wei", "03_backprop", "backprop.ipynb")]
    reasons = {u.origin: u.reason for u in result.unmapped}
    assert "not a notebook" in reasons["Chen Wei/notes.txt"]
    assert "other.ipynb" in reasons["Chen Wei/other.ipynb"] and "没有任何作业" in reasons[
        "Chen Wei/other.ipynb"]


def test_canvas_zip_with_late_and_reupload(tmp_path):
    sol = _solutions(tmp_path)
    archive = tmp_path / "submissions.zip"
    _zip(archive, {
        "smithj_1234_5678_perceptron.ipynb": NB,
        "lee_LATE_2222_3333_perceptron.ipynb": NB,
        "lee_LATE_2222_3334_perceptron-1.ipynb": b'{"newer": true}',
        "__MACOSX/._junk": b"",
        "readme.pdf": b"%PDF",
    })
    result = collect(archive, tmp_path / "staged", sol)
    assert _keys(result) == [("lee", "01_perceptron", "perceptron.ipynb"),
                             ("smithj", "01_perceptron", "perceptron.ipynb")]
    lee = next(s for s in result.submissions if s.student == "lee")
    assert lee.path.read_bytes() == b'{"newer": true}'  # the re-upload wins
    origins = {u.origin for u in result.unmapped}
    assert "readme.pdf" in origins and "lee_LATE_2222_3333_perceptron.ipynb" in origins


def test_moodle_zip(tmp_path):
    sol = _solutions(tmp_path)
    archive = tmp_path / "moodle.zip"
    _zip(archive, {
        "Zhang San_88_assignsubmission_file_/backprop.ipynb": NB,
        "Ana María_91_assignsubmission_file_/backprop.ipynb": NB,
    })
    result = collect(archive, tmp_path / "staged", sol)
    assert _keys(result) == [("Ana_María", "03_backprop", "backprop.ipynb"),
                             ("Zhang_San", "03_backprop", "backprop.ipynb")]


def test_unsafe_zip_paths_are_refused(tmp_path):
    sol = _solutions(tmp_path)
    archive = tmp_path / "evil.zip"
    _zip(archive, {"../../escape/perceptron.ipynb": NB})
    result = collect(archive, tmp_path / "staged", sol)
    assert not result.submissions and "staging" in result.unmapped[0].reason
    assert not (tmp_path / "escape").exists()


def test_corrupt_zip_is_one_clear_row(tmp_path):
    sol = _solutions(tmp_path)
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 not really")
    result = collect(archive, tmp_path / "staged", sol)
    assert not result.submissions
    reason = result.unmapped[0].reason
    assert "not a readable zip" in reason and "不是可读取的 zip" in reason


def test_every_input_file_is_accounted_for(tmp_path):
    sol = _solutions(tmp_path)
    src = tmp_path / "class"
    files = ["a/perceptron.ipynb", "a/x.py", "b/backprop.ipynb", "b/backprop-2.ipynb", "c.ipynb"]
    for rel in files:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(NB)
    result = collect(src, tmp_path / "staged", sol)
    seen = {s.origin for s in result.submissions} | {u.origin for u in result.unmapped}
    assert seen == set(files)


def test_student_ids_are_folder_safe():
    assert safe_student_id("  O'Brien / Pat ") == "OBrien__Pat"
    assert safe_student_id("..") == "unknown"


def test_namesakes_in_an_lms_export_stay_two_students(tmp_path):
    sol = _solutions(tmp_path)
    archive = tmp_path / "moodle.zip"
    _zip(archive, {
        "王伟_101_assignsubmission_file_/backprop.ipynb": NB,
        "王伟_202_assignsubmission_file_/backprop.ipynb": NB,
        "李娜_303_assignsubmission_file_/backprop.ipynb": NB,
    })
    result = collect(archive, tmp_path / "staged", sol)
    assert _keys(result) == [("李娜", "03_backprop", "backprop.ipynb"),
                             ("王伟_101", "03_backprop", "backprop.ipynb"),
                             ("王伟_202", "03_backprop", "backprop.ipynb")]
    assert not result.unmapped and any("王伟" in note for note in result.notes)


def test_symbolic_links_are_not_followed(tmp_path):
    sol = _solutions(tmp_path)
    src = tmp_path / "class"
    (src / "eve").mkdir(parents=True)
    (src / "eve" / "perceptron.ipynb").symlink_to(sol / "01_perceptron" / "perceptron.ipynb")
    result = collect(src, tmp_path / "staged", sol)
    assert not result.submissions
    assert "symbolic link" in result.unmapped[0].reason and "符号链接" in result.unmapped[0].reason
    assert [e.student for e in result.empty] == ["eve"]


def test_an_oversized_zip_member_is_reported_not_read(tmp_path, monkeypatch):
    from grader.record import collect as collect_module

    monkeypatch.setattr(collect_module, "MAX_FILE_MB", 1)
    sol = _solutions(tmp_path)
    archive = tmp_path / "bomb.zip"
    _zip(archive, {
        "ann_1_2_perceptron.ipynb": b" " * (3 * 2**20),  # compresses to a few KB
        "bo_3_4_perceptron.ipynb": NB,
    }, compression=zipfile.ZIP_DEFLATED)
    result = collect(archive, tmp_path / "staged", sol)
    assert _keys(result) == [("bo", "01_perceptron", "perceptron.ipynb")]
    assert "3 MB" in result.unmapped[0].reason


def test_renamed_notebooks_are_recognised_by_their_cells(tmp_path):
    marked = ('{"cells": [{"cell_type": "code", "source": "", "metadata": {"nbgrader": '
              '{"grade_id": "%s"}}, "outputs": [], "execution_count": null}], "metadata": {}, '
              '"nbformat": 4, "nbformat_minor": 5}')
    root = tmp_path / "solutions"
    for ident, name, cell in [("01_perceptron", "perceptron", "pla"), ("03_backprop", "backprop",
                                                                          "affine")]:
        (root / ident).mkdir(parents=True)
        (root / ident / f"{name}.ipynb").write_text(marked % cell)
    src = tmp_path / "class"
    (src / "ann").mkdir(parents=True)
    (src / "ann" / "Copy of my homework.ipynb").write_text(marked % "affine")
    (src / "bo" / "01_perceptron").mkdir(parents=True)
    (src / "bo" / "01_perceptron" / "hw1.ipynb").write_text(marked % "pla")
    (src / "bo" / "01_perceptron" / "timestamp.txt").write_text("2026-11-20 10:00:00")
    (src / "cy" / "01_perceptron").mkdir(parents=True)
    (src / "dee").mkdir()
    (src / "dee" / "essay.docx").write_bytes(b"PK")
    result = collect(src, tmp_path / "staged", root)
    assert _keys(result) == [("ann", "03_backprop", "backprop.ipynb"),
                             ("bo", "01_perceptron", "perceptron.ipynb")]
    assert {s.student: s.renamed_from for s in result.submissions} == {
        "ann": "Copy of my homework.ipynb", "bo": "hw1.ipynb"}
    assert (tmp_path / "staged" / "bo" / "01_perceptron" / "timestamp.txt").is_file()
    empty = {(e.student, e.assignment): e.files for e in result.empty}
    assert empty == {("cy", "01_perceptron"): [], ("dee", None): ["essay.docx"]}


def test_a_zip_a_student_uploaded_is_opened_one_level_deep(tmp_path):
    sol = _solutions(tmp_path)
    archive = tmp_path / "lms.zip"
    _zip(archive, {
        "Zhang San_88_assignsubmission_file_/hw.zip": _zip_bytes({
            "hw/backprop.ipynb": NB, "hw/notes.txt": b"hi",
            "hw/deeper.zip": _zip_bytes({"perceptron.ipynb": NB})}),
        "lee_22_33_mywork.zip": _zip_bytes({"perceptron.ipynb": NB}),
        "bo_44_55_broken.zip": b"not a zip",
    })
    result = collect(archive, tmp_path / "staged", sol)
    assert _keys(result) == [("Zhang_San", "03_backprop", "backprop.ipynb"),
                             ("lee", "01_perceptron", "perceptron.ipynb")]
    reasons = {u.origin: u.reason for u in result.unmapped}
    assert "not a notebook" in reasons["Zhang San_88_assignsubmission_file_/hw.zip!hw/notes.txt"]
    assert "zip inside a zip" in reasons[
        "Zhang San_88_assignsubmission_file_/hw.zip!hw/deeper.zip"]
    assert "not a readable zip" in reasons["bo_44_55_broken.zip"]


def test_checkpoints_and_hidden_files_are_reported_not_graded(tmp_path):
    sol = _solutions(tmp_path)
    src = tmp_path / "submitted"
    folder = src / "ana" / "01_perceptron"
    (folder / ".ipynb_checkpoints").mkdir(parents=True)
    (folder / "perceptron.ipynb").write_bytes(NB)
    (folder / ".ipynb_checkpoints" / "perceptron-checkpoint.ipynb").write_bytes(NB)
    result = collect(src, tmp_path / "staged", sol)
    assert _keys(result) == [("ana", "01_perceptron", "perceptron.ipynb")]
    # a hidden folder is one line, not walked (a home folder's .cache holds thousands of files)
    assert [u.origin for u in result.unmapped] == ["ana/01_perceptron/.ipynb_checkpoints"]


def test_zip_names_from_windows_tools_are_decoded(tmp_path):
    sol = _solutions(tmp_path)
    archive = tmp_path / "win.zip"
    # a GBK-encoded name with a backslash and no UTF-8 flag, as Windows' own zip tool
    # writes it: zipfile always writes UTF-8, so patch the name's bytes afterwards
    name = "王伟\\backprop.ipynb".encode("gb18030")
    placeholder = b"x" * len(name)
    _zip(archive, {
        placeholder.decode(): NB,
    })
    archive.write_bytes(archive.read_bytes().replace(placeholder, name))
    with zipfile.ZipFile(archive) as z:  # what zipfile reads back: cp437 mojibake
        assert "王伟" not in z.namelist()[0]
    result = collect(archive, tmp_path / "staged", sol)
    assert _keys(result) == [("王伟", "03_backprop", "backprop.ipynb")]


# ---------------------------------------------------------------------------------------
# An outsider's attacks on the input side (issue #14): identity, bad names, bombs.

MARKED = ('{"cells": [{"cell_type": "code", "source": "%s", "metadata": {"nbgrader": '
          '{"grade_id": "%s"}}, "outputs": [], "execution_count": null}], "metadata": {}, '
          '"nbformat": 4, "nbformat_minor": 5}')


def _marked_solutions(tmp_path):
    """Solutions whose notebooks carry graded cells, so renamed copies are recognised."""
    root = tmp_path / "solutions"
    for ident, name, cell in [("01_perceptron", "perceptron", "pla"),
                              ("03_backprop", "backprop", "affine")]:
        (root / ident).mkdir(parents=True)
        (root / ident / f"{name}.ipynb").write_text(MARKED % ("", cell))
    return root


def _work(author: str, cell: str = "pla") -> bytes:
    """A perceptron notebook that says who wrote it."""
    return (MARKED % (f"# by {author}", cell)).encode()


def _put(root, rel, content: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _staged(result, student, assignment="01_perceptron"):
    return next(s for s in result.submissions if (s.student, s.assignment) == (student,
                                                                               assignment))


def _flags(result, student):
    found = [f for s in result.submissions if s.student == student for f in s.flags]
    return found + [f for e in result.empty if e.student == student for f in e.flags]


def test_a_file_named_after_another_student_never_replaces_their_work(tmp_path):
    sol = _marked_solutions(tmp_path)
    src = tmp_path / "home"
    _put(src, "bob/perceptron.ipynb", _work("bob"))
    _put(src, "mallory/perceptron.ipynb", _work("mallory"))
    _put(src, "mallory/bob_123_456_perceptron.ipynb", _work("mallory, as bob"))
    _put(src, "mallory/bob/perceptron.ipynb", _work("mallory, in bob/"))
    _put(src, "mallory/bob/01_perceptron/perceptron.ipynb", _work("mallory, nbgrader"))
    _put(src, "mallory/bob/01_perceptron/timestamp.txt", b"2099-01-01 00:00:00")
    _put(src, "mallory/zz/perceptron.ipynb", _work("mallory, deeper"))  # the top one wins
    result = collect(src, tmp_path / "staged", sol)
    assert _keys(result) == [("bob", "01_perceptron", "perceptron.ipynb"),
                             ("mallory", "01_perceptron", "perceptron.ipynb")]
    assert b"by bob" in _staged(result, "bob").path.read_bytes()  # bob's own work, untouched
    assert _staged(result, "bob").flags == []
    assert not (tmp_path / "staged" / "bob" / "01_perceptron" / "timestamp.txt").exists()
    assert b"by mallory\"" in _staged(result, "mallory").path.read_bytes()
    flags = _flags(result, "mallory")
    assert "claims_other_student:bob" in flags
    assert "duplicate:bob_123_456_perceptron.ipynb" in flags
    assert sum(f.startswith("duplicate:") for f in flags) == 4
    notes = "\n".join(result.notes)
    assert "names bob, another student" in notes and "另一位学生 bob" in notes
    losers = {u.origin: u for u in result.unmapped}
    assert losers["mallory/bob/perceptron.ipynb"].student == "mallory"


def test_a_zip_export_names_students_only_at_its_root(tmp_path):
    sol = _marked_solutions(tmp_path)
    archive = tmp_path / "canvas.zip"
    _zip(archive, {
        "bob_3_4_perceptron.ipynb": _work("bob"),
        "mallory_1_2_hw.zip": _zip_bytes({"bob/perceptron.ipynb": _work("mallory in zip"),
                                          "bob_3_9_perceptron.ipynb": _work("mallory as bob")}),
        "Zed Li_7_assignsubmission_file_/bob_3_5_perceptron.ipynb": _work("zed as bob"),
    })
    result = collect(archive, tmp_path / "staged", sol)
    assert _keys(result) == [("Zed_Li", "01_perceptron", "perceptron.ipynb"),
                             ("bob", "01_perceptron", "perceptron.ipynb"),
                             ("mallory", "01_perceptron", "perceptron.ipynb")]
    assert b"by bob" in _staged(result, "bob").path.read_bytes()
    assert "claims_other_student:bob" in _flags(result, "mallory")
    assert "claims_other_student:bob" in _flags(result, "Zed_Li")
    assert not any(f.startswith("claims") for f in _flags(result, "bob"))


def test_an_unzipped_export_is_read_like_the_zip(tmp_path):
    """Documented choice: the LMS's names count at the root of a folder too (an export that
    was unzipped), and only there."""
    sol = _marked_solutions(tmp_path)
    src = tmp_path / "export"
    _put(src, "bob_3_4_perceptron.ipynb", _work("bob"))
    _put(src, "Zed Li_7_assignsubmission_file_/perceptron.ipynb", _work("zed"))
    _put(src, "Ann Wu_8_assignsubmission_file_perceptron.ipynb", _work("ann"))
    result = collect(src, tmp_path / "staged", sol)
    assert _keys(result) == [("Ann_Wu", "01_perceptron", "perceptron.ipynb"),
                             ("Zed_Li", "01_perceptron", "perceptron.ipynb"),
                             ("bob", "01_perceptron", "perceptron.ipynb")]


def test_two_candidates_for_one_notebook_are_flagged_on_the_row(tmp_path):
    sol = _marked_solutions(tmp_path)
    src = tmp_path / "home"
    _put(src, "ann/perceptron.ipynb", _work("ann"))
    _put(src, "ann/Copy of perceptron.ipynb", _work("ann, older"))
    result = collect(src, tmp_path / "staged", sol)
    assert b"by ann\"" in _staged(result, "ann").path.read_bytes()  # the released name wins
    assert _staged(result, "ann").flags == ["duplicate:Copy of perceptron.ipynb"]
    reason = next(u.reason for u in result.unmapped if u.origin == "ann/Copy of perceptron.ipynb")
    assert "a second file" in reason and "多个文件" in reason


def test_a_canvas_reupload_is_graded_and_flagged(tmp_path):
    sol = _solutions(tmp_path)
    archive = tmp_path / "canvas.zip"
    _zip(archive, {"lee_LATE_2222_3333_perceptron.ipynb": NB,
                   "lee_LATE_2222_3334_perceptron-1.ipynb": NB})
    result = collect(archive, tmp_path / "staged", sol)
    assert _staged(result, "lee").flags == ["late", "duplicate:lee_LATE_2222_3333_perceptron.ipynb"]


def test_folders_that_give_one_id_stay_two_students(tmp_path):
    sol = _marked_solutions(tmp_path)
    src = tmp_path / "home"
    _put(src, "OBrien/perceptron.ipynb", _work("one"))
    _put(src, "O'Brien/perceptron.ipynb", _work("two"))
    result = collect(src, tmp_path / "staged", sol)
    students = sorted(s.student for s in result.submissions)
    assert len(students) == 2 and students[0] == "OBrien" and students[1].startswith("OBrien_")
    assert any("O'Brien" in note and "同一个学生 id" in note for note in result.notes)
    assert _flags(result, students[1]) == ["same_id:O'Brien"]
    assert _flags(result, "OBrien") == ["same_id:OBrien"]


def test_undecodable_names_on_disk_are_shown_and_staged_safely(tmp_path):
    sol = _marked_solutions(tmp_path)
    src = tmp_path / "home"
    src.mkdir()
    student = os.fsdecode(b"st\xffudent")
    _put(src, f"{student}/perceptron.ipynb", _work("student"))
    notebook = os.fsdecode(b"per\xfe\xffceptron.ipynb")
    _put(src, f"ann/{notebook}", _work("ann"))
    _put(src, "ann/" + os.fsdecode(b"notes-\xff.txt"), b"x")
    (src / "ann" / os.fsdecode(b"sub\xff")).mkdir()
    result = collect(src, tmp_path / "staged", sol)
    assert _keys(result) == [("ann", "01_perceptron", "perceptron.ipynb"),
                             ("st_udent", "01_perceptron", "perceptron.ipynb")]
    ann = _staged(result, "ann")
    assert ann.renamed_from == "per\ufffd\ufffdceptron.ipynb"
    assert "undecodable_name:ann/per\ufffd\ufffdceptron.ipynb" in ann.flags
    assert any("not valid UTF-8" in n and "不是有效的 UTF-8" in n for n in result.notes)
    report = json.dumps([asdict(x) for x in result.submissions + result.unmapped + result.empty],
                        default=str, ensure_ascii=False)
    report.encode("utf-8")  # no lone surrogate left anywhere: every report can be written
    assert all(p.name.isascii() for p in (tmp_path / "staged").rglob("*")
               if not p.name.startswith("."))


def _flagged_non_utf8_name(members: dict[bytes, bytes]) -> bytes:
    """A zip whose names are marked UTF-8 (flag bit 0x800) but are not: zipfile writes the
    flag for non-ASCII names, so write a placeholder of the same length and swap the bytes."""
    placeholders = {}
    for raw in members:
        placeholder = "é" + "x" * (len(raw) - 2)
        assert len(placeholder.encode()) == len(raw)
        placeholders[placeholder] = raw
    data = _zip(io.BytesIO(), {p: members[raw] for p, raw in placeholders.items()}).getvalue()
    for placeholder, raw in placeholders.items():
        data = data.replace(placeholder.encode(), raw)
    return data


def test_a_zip_name_marked_utf8_that_is_not_is_one_entry_not_a_crash(tmp_path):
    sol = _marked_solutions(tmp_path)
    bad = _flagged_non_utf8_name({b"\xff\xfeperceptron.ipynb": _work("ann"),
                                  b"\xff\xfenotes.txt": b"x"})
    with pytest.raises(UnicodeDecodeError):  # what stopped the whole class before
        zipfile.ZipFile(io.BytesIO(bad))
    src = tmp_path / "home"
    _put(src, "ann/hw.zip", bad)
    _put(src, "bob/perceptron.ipynb", _work("bob"))
    result = collect(src, tmp_path / "staged", sol)
    assert _keys(result) == [("ann", "01_perceptron", "perceptron.ipynb"),
                             ("bob", "01_perceptron", "perceptron.ipynb")]
    assert b"by ann" in _staged(result, "ann").path.read_bytes()
    assert any(f.startswith("undecodable_name:") for f in _flags(result, "ann"))
    archive = tmp_path / "export.zip"  # the same at the root of an export
    archive.write_bytes(_flagged_non_utf8_name({b"ann_1_2_\xffperceptron.ipynb": _work("ann")}))
    result = collect(archive, tmp_path / "staged2", sol)
    assert _keys(result) == [("ann", "01_perceptron", "perceptron.ipynb")]


def _with_declared_size(data: bytes, size: int) -> bytes:
    """The zip with its (only) member's uncompressed size rewritten in both headers."""
    data = bytearray(data)
    struct.pack_into("<L", data, 22, size)  # local header
    struct.pack_into("<L", data, data.rfind(b"PK\x01\x02") + 24, size)  # central directory
    return bytes(data)


def test_a_bzip2_bomb_is_refused_without_being_decompressed(tmp_path):
    sol = _marked_solutions(tmp_path)
    bomb = _with_declared_size(_zip(io.BytesIO(), {"perceptron.ipynb": b"\0" * (64 * 2**20)},
                                    compression=zipfile.ZIP_BZIP2).getvalue(), 100)
    assert len(bomb) < 1024
    src = tmp_path / "home"
    _put(src, "eve/hw.zip", bomb)
    _put(src, "bob/perceptron.ipynb", _work("bob"))
    tracemalloc.start()
    try:
        result = collect(src, tmp_path / "staged", sol)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"collect allocated {peak / 2**20:.0f} MB"
    assert _keys(result) == [("bob", "01_perceptron", "perceptron.ipynb")]
    reason = next(u.reason for u in result.unmapped if u.origin == "eve/hw.zip!perceptron.ipynb")
    assert "bzip2" in reason and "deflate" in reason and "未解压" in reason
    eve = next(e for e in result.empty if e.student == "eve")
    assert eve.flags == ["not_collected:hw.zip!perceptron.ipynb"] and "bzip2" in eve.reasons[0]


def test_reading_a_member_is_bounded_whatever_it_declares(tmp_path):
    sol = _marked_solutions(tmp_path)
    liar = _with_declared_size(_zip(io.BytesIO(), {"perceptron.ipynb": b" " * (8 * 2**20)},
                                    compression=zipfile.ZIP_DEFLATED).getvalue(), 100)
    honest = _zip(io.BytesIO(), {"perceptron.ipynb": b" " * (3 * 2**20)},
                  compression=zipfile.ZIP_DEFLATED).getvalue()
    src = tmp_path / "home"
    _put(src, "eve/hw.zip", liar)
    _put(src, "ann/hw.zip", honest)
    tracemalloc.start()
    try:
        result = collect(src, tmp_path / "staged", sol, max_mb=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6 * 2**20, f"collect allocated {peak / 2**20:.0f} MB"
    assert not result.submissions
    reasons = {u.origin: u.reason for u in result.unmapped}
    assert "could not be read" in reasons["eve/hw.zip!perceptron.ipynb"]  # its CRC fails
    assert "3 MB" in reasons["ann/hw.zip!perceptron.ipynb"]
    ann = next(e for e in result.empty if e.student == "ann")
    assert ann.status == "too_large"


def _many_members(count: int, declared: int = 1) -> bytes:
    """A zip of ``count`` empty members that all point at one local header, whose end record
    claims ``declared`` members (zipfile trusts the table's length, not the count)."""
    name = b"a.txt"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    table = central * count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, declared, declared, len(table),
                      len(local), 0)
    return local + table + end


def test_a_zip_of_a_million_members_is_refused_quickly(tmp_path):
    sol = _marked_solutions(tmp_path)
    src = tmp_path / "home"
    _put(src, "eve/hw.zip", _many_members(1_000_000))
    _put(src, "bob/perceptron.ipynb", _work("bob"))
    started = time.monotonic()
    tracemalloc.start()
    try:
        result = collect(src, tmp_path / "staged", sol)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 20 and peak < 16 * 2**20
    assert _keys(result) == [("bob", "01_perceptron", "perceptron.ipynb")]
    reason = next(u.reason for u in result.unmapped if u.origin == "eve/hw.zip")
    assert "more than 1000 files" in reason and "超过 1000 个" in reason
    assert "not_collected:hw.zip" in _flags(result, "eve")


def test_other_zip_tricks_are_entries_with_reasons(tmp_path, monkeypatch):
    from grader.record import walk

    monkeypatch.setattr(walk, "MAX_ZIP_TOTAL_MB", 2)
    sol = _marked_solutions(tmp_path)
    link = zipfile.ZipInfo("perceptron.ipynb")
    link.create_system, link.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as z:
        z.writestr(link, "../../bob/perceptron.ipynb")
    src = tmp_path / "home"
    _put(src, "eve/link.zip", (tmp_path / "link.zip").read_bytes())
    _put(src, "eve/fake.zip", b"PK\x03\x04 this is not a zip")
    _put(src, "eve/perceptron.ipynb", _work("eve"))
    filler = b" " * (2**20 - 100)
    _put(src, "ann/hw.zip", _zip_bytes({"a/backprop.ipynb": filler, "b/backprop.ipynb": filler,
                                        "c/backprop.ipynb": filler}))
    _put(src, "ann/x.zip", b"")
    _put(src, "deep/" + "/".join(["d"] * 40) + "/perceptron.ipynb", _work("deep"))
    os.mkfifo(src / "eve" / "pipe.ipynb")  # reading it would block the grader forever
    for i in range(50):
        _put(src, f"ann/data/{i:03d}.png", b"")
    result = collect(src, tmp_path / "staged", sol, max_mb=1)
    reasons = {u.origin: u.reason for u in result.unmapped}
    assert "symbolic link" in reasons["eve/link.zip!perceptron.ipynb"]
    assert "not a readable zip" in reasons["eve/fake.zip"]
    assert "not a regular file" in reasons["eve/pipe.ipynb"]
    assert "add up to more than 2 MB" in reasons["ann/hw.zip!c/backprop.ipynb"]
    assert "nested more than 32 deep" in "".join(reasons.values())
    assert "32 more files" in reasons["ann"]  # 20 files are listed by name, the rest counted
    assert set(_flags(result, "eve")) >= {"not_collected:link.zip!perceptron.ipynb",
                                          "not_collected:fake.zip", "not_collected:pipe.ipynb"}
    assert _staged(result, "eve").path.read_bytes() == _work("eve")


def test_a_huge_folder_is_examined_up_to_a_limit_and_its_notebook_still_found(tmp_path,
                                                                              monkeypatch):
    from grader.record import walk

    monkeypatch.setattr(walk, "MAX_FILES_PER_STUDENT", 100)
    sol = _marked_solutions(tmp_path)
    src = tmp_path / "home"
    for i in range(300):  # sorts before the notebook, and is examined after it
        _put(src, f"ann/a_data/{i:04d}.png", b"")
        os.symlink("/etc/passwd", src / "ann" / "a_data" / f"{i:04d}.ipynb")
    _put(src, "ann/perceptron.ipynb", _work("ann"))
    _put(src, "bob/perceptron.ipynb", _work("bob"))
    result = collect(src, tmp_path / "staged", sol)
    assert _keys(result) == [("ann", "01_perceptron", "perceptron.ipynb"),
                             ("bob", "01_perceptron", "perceptron.ipynb")]
    ann = [u for u in result.unmapped if u.student == "ann"]
    assert len(ann) <= 25  # 20 by name, then one line for the rest and one for the limit
    reasons = "\n".join(u.reason for u in ann)
    assert "more than 100 files" in reasons and "超过 100 个文件" in reasons
    assert "refused" in reasons and "被拒绝读取" in reasons
    flags = _staged(result, "ann").flags
    assert any(f.startswith("not_collected:+") for f in flags), flags
    assert len(flags) <= 25
