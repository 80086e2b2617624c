"""Collecting submissions: nbgrader layout, plain folders, Canvas and Moodle zips."""

import zipfile

from grader.record.collect import collect, safe_student_id

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
    import io

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
    assert "not a notebook" in reasons[
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
    assert [u.origin for u in result.unmapped] == [
        "ana/01_perceptron/.ipynb_checkpoints/perceptron-checkpoint.ipynb"]


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
