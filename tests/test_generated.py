"""Generated folders are regenerated only while they hold what was generated (tiny fixtures)."""

from __future__ import annotations

import json

import pytest

from grader.course.generated import (
    MANIFEST,
    WouldLoseEdits,
    changed,
    digest,
    read_manifest,
    replace,
)

CMD = "python -m grader build"


def _generate(root, files, folders=None, backup=False):
    files = {k: v.encode() for k, v in files.items()}
    return replace(root, files, folders or sorted({k.split("/")[0] for k in files}), CMD, backup=backup)


def test_first_generation_writes_the_files_and_a_manifest(tmp_path):
    _generate(tmp_path, {"01_a/a.ipynb": "one", "02_b/b.ipynb": "two"})
    assert (tmp_path / "01_a" / "a.ipynb").read_text() == "one"
    assert read_manifest(tmp_path) == {"01_a/a.ipynb": digest(b"one"), "02_b/b.ipynb": digest(b"two")}
    assert changed(tmp_path) == []


def test_manifest_is_the_same_for_the_same_files(tmp_path):
    _generate(tmp_path / "x", {"01_a/a.ipynb": "one"})
    _generate(tmp_path / "y", {"01_a/a.ipynb": "one"})
    _generate(tmp_path / "y", {"01_a/a.ipynb": "one"})
    assert (tmp_path / "x" / MANIFEST).read_bytes() == (tmp_path / "y" / MANIFEST).read_bytes()
    assert "generated_by" in json.loads((tmp_path / "x" / MANIFEST).read_text())


def test_unchanged_files_are_regenerated_and_stale_ones_removed(tmp_path):
    _generate(tmp_path, {"01_a/a.ipynb": "one", "01_a/old.csv": "x"})
    _generate(tmp_path, {"01_a/a.ipynb": "ONE"})
    assert (tmp_path / "01_a" / "a.ipynb").read_text() == "ONE"
    assert not (tmp_path / "01_a" / "old.csv").exists()
    assert read_manifest(tmp_path) == {"01_a/a.ipynb": digest(b"ONE")}


def test_an_edited_file_stops_the_command_and_nothing_changes(tmp_path):
    _generate(tmp_path, {"01_a/a.ipynb": "one", "02_b/b.ipynb": "two"})
    (tmp_path / "01_a" / "a.ipynb").write_text("my answer")
    before = (tmp_path / MANIFEST).read_bytes()
    with pytest.raises(WouldLoseEdits) as stop:
        _generate(tmp_path, {"01_a/a.ipynb": "ONE", "02_b/b.ipynb": "TWO"})
    assert (tmp_path / "01_a" / "a.ipynb").read_text() == "my answer"
    assert (tmp_path / "02_b" / "b.ipynb").read_text() == "two"  # all or nothing
    assert (tmp_path / MANIFEST).read_bytes() == before
    message = str(stop.value)
    assert "01_a/a.ipynb" in message and "02_b" not in message
    assert "Stopped" in message and "已停止" in message  # both languages
    assert f"{CMD} --backup" in message and "backups" in message
    assert stop.value.files == ["01_a/a.ipynb"]


def test_a_file_the_tool_never_wrote_stops_the_command(tmp_path):
    _generate(tmp_path, {"01_a/a.ipynb": "one"})
    (tmp_path / "01_a" / "notes.txt").write_text("mine")
    (tmp_path / "01_a" / "scratch").mkdir()
    (tmp_path / "01_a" / "scratch" / "try.py").write_text("mine too")
    with pytest.raises(WouldLoseEdits) as stop:
        _generate(tmp_path, {"01_a/a.ipynb": "ONE"})
    assert stop.value.files == ["01_a/notes.txt", "01_a/scratch/try.py"]
    assert (tmp_path / "01_a" / "notes.txt").read_text() == "mine"


def test_a_folder_without_manifest_is_not_overwritten(tmp_path):
    (tmp_path / "01_a").mkdir()
    (tmp_path / "01_a" / "a.ipynb").write_text("someone's")
    with pytest.raises(WouldLoseEdits):
        _generate(tmp_path, {"01_a/a.ipynb": "one"})
    # ... unless it already holds exactly what would be written (nothing is lost)
    (tmp_path / "01_a" / "a.ipynb").write_text("one")
    _generate(tmp_path, {"01_a/a.ipynb": "one"})
    assert read_manifest(tmp_path) == {"01_a/a.ipynb": digest(b"one")}


def test_backup_moves_the_changed_files_aside_then_regenerates(tmp_path):
    course = tmp_path / "course"
    _generate(course, {"01_a/a.ipynb": "one"})
    (course / "01_a" / "a.ipynb").write_text("my answer")
    (course / "01_a" / "notes.txt").write_text("mine")
    backup = _generate(course, {"01_a/a.ipynb": "ONE"}, backup=True)
    assert backup.parent == tmp_path / "backups" and backup.name.startswith("course-")
    assert (backup / "01_a" / "a.ipynb").read_text() == "my answer"
    assert (backup / "01_a" / "notes.txt").read_text() == "mine"
    assert (course / "01_a" / "a.ipynb").read_text() == "ONE"
    assert not (course / "01_a" / "notes.txt").exists()
    # a second backup in the same second gets a folder of its own
    (course / "01_a" / "a.ipynb").write_text("again")
    second = _generate(course, {"01_a/a.ipynb": "ONE"}, backup=True)
    assert second != backup and (second / "01_a" / "a.ipynb").read_text() == "again"


def test_other_folders_are_never_touched(tmp_path):
    _generate(tmp_path, {"01_a/a.ipynb": "one", "02_b/b.ipynb": "two"})
    (tmp_path / "02_b" / "b.ipynb").write_text("my answer")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "x.txt").write_text("x")
    _generate(tmp_path, {"01_a/a.ipynb": "ONE"}, folders=["01_a"])
    assert (tmp_path / "02_b" / "b.ipynb").read_text() == "my answer"
    assert (tmp_path / "mine" / "x.txt").read_text() == "x"
    assert read_manifest(tmp_path)["02_b/b.ipynb"] == digest(b"two")  # still what was generated
    assert changed(tmp_path) == ["02_b/b.ipynb", "mine/x.txt"]


def test_a_checkpoint_of_an_unchanged_notebook_goes_a_changed_one_stays(tmp_path):
    _generate(tmp_path, {"01_a/a.ipynb": "one"})
    checkpoints = tmp_path / "01_a" / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "a-checkpoint.ipynb").write_text("one")
    _generate(tmp_path, {"01_a/a.ipynb": "ONE"})
    assert not checkpoints.exists()
    checkpoints.mkdir()
    (checkpoints / "a-checkpoint.ipynb").write_text("half an answer")
    with pytest.raises(WouldLoseEdits) as stop:
        _generate(tmp_path, {"01_a/a.ipynb": "ONE!"})
    assert stop.value.files == ["01_a/.ipynb_checkpoints/a-checkpoint.ipynb"]


def test_windows_line_endings_are_not_an_edit(tmp_path):
    _generate(tmp_path, {"01_a/a.ipynb": "one\ntwo\n"})
    (tmp_path / "01_a" / "a.ipynb").write_bytes(b"one\r\ntwo\r\n")  # a checkout with autocrlf
    assert changed(tmp_path) == []
    _generate(tmp_path, {"01_a/a.ipynb": "ONE\n"})


def test_a_damaged_manifest_protects_everything(tmp_path):
    _generate(tmp_path, {"01_a/a.ipynb": "one"})
    (tmp_path / MANIFEST).write_text("{not json")
    assert read_manifest(tmp_path) == {}
    with pytest.raises(WouldLoseEdits):
        _generate(tmp_path, {"01_a/a.ipynb": "ONE"})


def test_a_symlink_is_never_followed_or_deleted(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    root = tmp_path / "course"
    _generate(root, {"01_a/a.ipynb": "one"})
    (root / "01_a" / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(WouldLoseEdits) as stop:
        _generate(root, {"01_a/a.ipynb": "ONE"})
    assert stop.value.files == ["01_a/link"]
    _generate(root, {"01_a/a.ipynb": "ONE"}, backup=True)
    assert (outside / "keep.txt").read_text() == "keep"
