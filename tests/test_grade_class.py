"""An instructor grades a whole class (issue #9): bad input, resume, LMS zips, hidden seeds.

Every test here grades real notebooks through ``grader.record.batch.grade`` or the command line,
in the sandbox where bubblewrap works (the same code path as the grade of record).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import notebooks
from grader.course.demo import expected_score
from grader.course.samples import samples_for
from grader.record.batch import grade
from grader.record.intake import MAX_CELLS
from grader.record.notebook import Options
from grader.record.plan import parse_shard, shard_of
from grader.record.seeds import SecretError, StudentSeeds, course_secret
from grader.record.source import load_assignment

REPO = Path(__file__).resolve().parents[1]


def _sample(assignment: str, kind: str):
    return next(s for s in samples_for(assignment) if s.student == kind)


def _text(nb) -> str:
    return nbformat.writes(notebooks.clean(nbformat.from_dict(nb)))


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)


def _rows(out: Path, name: str = "grades.csv") -> dict[str, dict]:
    with open(out / name, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ bad input

PERCEPTRON = "01_perceptron"


def _bad_class(root: Path) -> Path:
    """One student per kind of bad input, in nbgrader's layout; returns the folder."""
    perfect = _sample(PERCEPTRON, "perfect")
    name = perfect.notebook_name
    good = _text(perfect.notebook)
    src = root / "submitted"

    def put(student: str, content, file: str = name, assignment: str = PERCEPTRON):
        _write(src / student / assignment / file, content)

    put("ok", good)
    put("corrupt", "{ this is not json")
    put("truncated", good[: len(good) // 2])
    put("zero_bytes", b"")
    put("v3", nbformat.writes(nbformat.convert(nbformat.reads(good, as_version=4), 3),
                              version=3))
    (src / "empty" / PERCEPTRON).mkdir(parents=True)
    put("only_pdf", b"%PDF-1.4", file="report.pdf")
    put("renamed", good, file="Copy of perceptron (1).ipynb")
    put("other", _text(_sample("02_mlp", "perfect").notebook))
    copied = json.loads(good)  # a copied cell keeps its id (JupyterLab's copy-paste across files)
    at = next(i for i, c in enumerate(copied["cells"])
              if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "radius")
    copied["cells"].insert(at + 1, json.loads(json.dumps(copied["cells"][at])))
    put("copied_cells", json.dumps(copied))
    huge = nbformat.reads(good, as_version=4)
    cell = next(c for c in huge.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (7 * 2**20))]
    put("huge", nbformat.writes(huge))
    put("gbk", json.dumps(json.loads(good), ensure_ascii=False, indent=1).encode("gb18030"))
    put("stray_byte", good.replace("The radius of a data set.", "The radius \udcff of a set.")
        .encode("utf-8", errors="surrogateescape"))
    put("blank", _text(_sample(PERCEPTRON, "blank").notebook))
    damaged = json.loads(good)  # what other tools and hand edits leave behind
    markdown = [c for c in damaged["cells"] if c["cell_type"] == "markdown"]
    markdown[0]["metadata"], markdown[1]["source"], markdown[2]["metadata"]["tags"] = [1], 42, "x"
    markdown[3]["metadata"]["nbgrader"] = "yes"
    damaged["cells"].append(7)
    put("damaged", json.dumps(damaged))
    put("deep", "[" * 100_000 + "]" * 100_000)
    return src


@pytest.fixture(scope="module")
def bad_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    src = _bad_class(root)
    results = grade(src, root / "out", jobs=2, quiet=True)
    return root / "out", {r.student: r for r in results}


def test_every_bad_submission_is_one_row_and_the_batch_goes_on(bad_class):
    out, results = bad_class
    rows = _rows(out)
    assert set(rows) == set(results) == {
        "ok", "corrupt", "truncated", "zero_bytes", "v3", "empty", "only_pdf", "renamed",
        "other", "copied_cells", "huge", "gbk", "stray_byte", "blank", "damaged", "deep"}
    full = float(rows["ok"]["max_score"])
    assert float(rows["ok"]["score"]) == full


@pytest.mark.parametrize("student, status, english, chinese", [
    ("corrupt", "unreadable", "not valid JSON", "不是有效的 JSON"),
    ("truncated", "unreadable", "cut off or corrupt", "被截断或已损坏"),
    ("zero_bytes", "unreadable", "empty file", "空文件"),
    ("deep", "unreadable", "nested too deeply", "不是 Jupyter notebook"),
    ("empty", "empty", "Nothing to grade", "没有可评分的内容"),
    ("only_pdf", "empty", "report.pdf", "其中只有"),
    ("other", "wrong_assignment", "notebook of assignment 02_mlp", "作业 02_mlp"),
    ("blank", "blank", "No solution cell was filled in", "没有填写任何解答单元格"),
])
def test_rejected_input_gets_a_bilingual_reason_and_zero(bad_class, student, status, english,
                                                         chinese):
    out, results = bad_class
    row = _rows(out)[student]
    assert row["status"] == status
    assert float(row["score"]) == 0 and float(row["max_score"]) > 0
    assert english in row["reason"] and chinese in row["reason"], row["reason"]


@pytest.mark.parametrize("student, flag", [
    ("v3", "nbformat3"),
    ("renamed", "renamed:Copy of perceptron (1).ipynb"),
    ("copied_cells", "duplicate_cell_ids"),
    ("huge", "huge_outputs:7MB"),
    ("gbk", "encoding:gb18030"),
    ("stray_byte", "encoding:invalid_bytes"),
    ("damaged", "repaired_structure"),
])
def test_repairable_input_is_graded_in_full_and_flagged(bad_class, student, flag):
    out, results = bad_class
    row = _rows(out)[student]
    assert row["status"] == "ok", row
    assert row["score"] == row["max_score"], row
    assert flag in row["flags"].split(";"), row["flags"]


def test_huge_outputs_do_not_reach_the_feedback(bad_class):
    out, _ = bad_class
    graded = next((out / "autograded" / "huge" / PERCEPTRON).glob("*.ipynb"))
    assert graded.stat().st_size < 2**20


def test_each_bad_row_is_in_the_gradebook_exactly_once(bad_class):
    from nbgrader.api import Gradebook

    out, results = bad_class
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        submissions = gb.find_assignment(PERCEPTRON).submissions
        students = sorted(s.student.id for s in submissions)
        assert students == sorted(results)
        scores = {s.student.id: s.score for s in submissions}
    assert scores["corrupt"] == 0 and scores["ok"] == results["ok"].max_score


def test_the_summary_names_the_class_and_the_hardest_exercises(bad_class):
    out, results = bad_class
    text = (out / "summary.txt").read_text(encoding="utf-8")
    assert f"{PERCEPTRON}: {len(results)} submissions" in text
    assert "median" in text and "中位数" in text
    # every graded row of this class is a perfect notebook: nothing to re-teach; the others
    # are counted by status, and their exercises are named as the notebook names them
    assert "Exercises to re-teach first" not in text
    assert "Rows whose status is not ok" in text and "unreadable 4" in text
    assert "1.5 radius R" in text


# ------------------------------------------------------------- LMS zip, CLI

def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "grade", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=900, **kwargs)


def test_a_canvas_zip_is_graded_from_the_command_line(tmp_path):
    perfect, wrong = _sample(PERCEPTRON, "perfect"), _sample(PERCEPTRON, "partly_wrong")
    archive = tmp_path / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("lina_1001_5001_perceptron.ipynb", _text(perfect.notebook))
        z.writestr("wang_LATE_1002_5002_perceptron-1.ipynb", _text(wrong.notebook))
        z.writestr("omar_1003_5003_hw1_final.ipynb", _text(perfect.notebook))  # renamed
        z.writestr("omar_1003_5004_notes.docx", b"PK")
    env = {**os.environ, "NNFS_COURSE_SECRET": "a" * 32}
    done = _cli(str(archive), "--out", str(tmp_path / "out"), "--jobs", "2", "--lms", "canvas",
                env=env)
    assert done.returncode == 0, done.stderr
    rows = _rows(tmp_path / "out")
    with open(tmp_path / "out" / "lms" / "canvas-grades.csv", newline="", encoding="utf-8-sig") as f:
        canvas = {row["ID"]: row for row in csv.DictReader(f) if row["ID"]}
    assert canvas["1001"]["01_perceptron"] == rows["lina"]["score"]  # Canvas's user ids
    assert set(rows) == {"lina", "wang", "omar"}
    full = expected_score(perfect)  # every autograded point of 01 (answers by hand wait)
    assert float(rows["lina"]["score"]) == float(rows["lina"]["max_score"]) == full
    assert float(rows["wang"]["score"]) == expected_score(wrong) < full
    assert "renamed:hw1_final.ipynb" in rows["omar"]["flags"]
    assert "late" in rows["wang"]["flags"].split(";") and "late" not in rows["lina"]["flags"]
    assert "omar_1003_5004_notes.docx" in done.stdout  # reported, not silently dropped
    collected = json.loads((tmp_path / "out" / "collect.json").read_text(encoding="utf-8"))
    assert [u["origin"] for u in collected["unmapped"]] == ["omar_1003_5004_notes.docx"]
    assert "ETA" in done.stdout and "[3/3]" in done.stdout
    assert "mean" in done.stdout and "平均" in done.stdout


def test_bad_shard_and_missing_source_are_clear_errors(tmp_path):
    done = _cli(str(tmp_path), "--out", str(tmp_path / "o"), "--shard", "3/2", "--fixed-seeds")
    assert done.returncode == 2 and "K/N" in done.stderr and "格式" in done.stderr
    done = _cli(str(tmp_path / "nope.zip"), "--out", str(tmp_path / "o"), "--fixed-seeds")
    assert done.returncode == 2 and "不是文件夹" in done.stderr


def test_the_output_folder_may_not_be_inside_the_submissions(tmp_path):
    (tmp_path / "class").mkdir()
    done = _cli(str(tmp_path / "class"), "--out", str(tmp_path / "class" / "out"), "--fixed-seeds")
    assert done.returncode == 2 and "must not be inside" in done.stderr


# ------------------------------------------------------ idempotence and resume

def _small_class(src: Path, n: int = 4) -> None:
    kinds = ["perfect", "partly_wrong", "blank", "noisy_but_right"]
    for i in range(n):
        sample = _sample(PERCEPTRON, kinds[i % len(kinds)])
        notebooks.write_clean(sample.notebook, src / f"s{i}" / PERCEPTRON / sample.notebook_name)


def test_a_second_run_grades_only_what_changed(tmp_path):
    src, out = tmp_path / "submitted", tmp_path / "out"
    _small_class(src)
    first = grade(src, out, jobs=2, quiet=True)
    assert _report(out)["graded"] == 4
    stamps = {p: p.stat().st_mtime_ns for p in (out / "results").rglob("*.json")}
    again = grade(src, out, jobs=2, quiet=True)
    assert _report(out)["graded"] == 0 and _report(out)["reused"] == 4
    assert [r.score for r in again] == [r.score for r in first]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # not rewritten
    # s2 hands in the perfect notebook instead of the blank one
    perfect = _sample(PERCEPTRON, "perfect")
    notebooks.write_clean(perfect.notebook, src / "s2" / PERCEPTRON / perfect.notebook_name)
    grade(src, out, jobs=2, quiet=True)
    assert _report(out)["graded"] == 1
    rows = _rows(out)
    assert len(rows) == 4 and rows["s2"]["score"] == rows["s2"]["max_score"]
    grade(src, out, jobs=2, quiet=True, force=True)
    assert _report(out)["graded"] == 4


def test_a_run_killed_halfway_finishes_the_rest_without_doubles(tmp_path):
    from nbgrader.api import Gradebook

    src, out = tmp_path / "submitted", tmp_path / "out"
    CLASS = 16  # enough that a fast grader is still busy when the run is killed
    _small_class(src, CLASS)
    command = [sys.executable, "-m", "grader", "grade", str(src), "--out", str(out), "--jobs", "1",
               "--fixed-seeds"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if len(list((out / "results").rglob("*.json"))) >= 2:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(list((out / "results").rglob("*.json")))
    assert 2 <= done_before < CLASS, "the run should have been killed halfway"
    finished = _cli(str(src), "--out", str(out), "--jobs", "2", "--fixed-seeds")
    assert finished.returncode == 0, finished.stderr
    report = _report(out)
    assert report["graded"] == CLASS - done_before and report["reused"] == done_before
    assert sorted(_rows(out)) == sorted(f"s{i}" for i in range(CLASS))
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        ids = [s.student.id for s in gb.find_assignment(PERCEPTRON).submissions]
    assert sorted(ids) == sorted(f"s{i}" for i in range(CLASS))


# ----------------------------------------------------------------- shards

def test_shards_split_a_class_into_disjoint_parts_that_cover_it():
    students = [f"student{i:03d}" for i in range(300)]
    for n in (1, 2, 3, 7):
        parts = [{s for s in students if shard_of(s, n) == k} for k in range(1, n + 1)]
        assert sum(len(p) for p in parts) == len(students)
        assert set().union(*parts) == set(students)
        assert all(parts), "every shard gets work"
    assert parse_shard("2/4") == (2, 4) and parse_shard(None) is None
    for bad in ("0/2", "3/2", "a/b", "2"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_a_shard_grades_only_its_students_into_suffixed_files(tmp_path):
    src, out = tmp_path / "submitted", tmp_path / "out"
    _small_class(src, 6)
    results = grade(src, out, jobs=2, quiet=True, shard=(1, 2))
    mine = {f"s{i}" for i in range(6) if shard_of(f"s{i}", 2) == 1}
    assert {r.student for r in results} == mine
    assert set(_rows(out, "grades.shard-1-of-2.csv")) == mine
    assert not (out / "grades.csv").exists()


# ------------------------------------------------------- per-student seeds

def _cheat_for(student: str, secret: bytes) -> str:
    """A `radius` that looks its answers up in a table made for one student's hidden inputs."""
    import numpy as np

    from grader.checks.api import check_function

    test = next(t for b in load_assignment(PERCEPTRON).notebooks for t in b.tests
                if t.grade_id == "test_radius")
    table: dict[str, float] = {}

    def recorder(X):
        value = float(np.max(np.linalg.norm(X, axis=1)))
        table[np.asarray(X, dtype=float).tobytes().hex()] = value
        return value

    seeds = StudentSeeds(secret)
    for call in test.calls:
        kwargs = {k: a.value for k, a in call.kwargs.items()}
        if call.hidden:
            kwargs["seeds"] = seeds(student, test.grade_id, kwargs["seeds"])
        check_function(call.args[0].value, recorder, **kwargs)
    return ("import numpy as np\n"
            f"_ANSWERS = {table!r}\n"
            "def radius(X):\n"
            "    return _ANSWERS.get(np.asarray(X, dtype=float).tobytes().hex(), 1.0)\n")


def test_an_answer_hard_coded_for_another_students_inputs_fails(tmp_path):
    secret = b"s" * 32
    cheat = _cheat_for("ann", secret)
    perfect = _sample(PERCEPTRON, "perfect")
    nb = nbformat.from_dict(perfect.notebook)
    cell = next(c for c in nb.cells if notebooks.grade_id(c) == "radius")
    cell.source = cheat
    for student in ("ann", "bob"):
        notebooks.write_clean(nb, tmp_path / "in" / student / PERCEPTRON / perfect.notebook_name)
    options = Options(hidden_seeds=StudentSeeds(secret))
    results = {r.student: r for r in grade(tmp_path / "in", tmp_path / "out", jobs=2,
                                            quiet=True, options=options)}
    cells = {s: {c.grade_id: c for nb in r.notebooks for c in nb.cells} for s, r in results.items()}
    assert cells["ann"]["test_radius"].status == "passed"  # the table fits ann's inputs
    assert cells["bob"]["test_radius"].status == "failed"  # and not bob's
    assert "visible_only:test_radius" in results["bob"].flags
    again = grade(tmp_path / "in", tmp_path / "again", jobs=1, quiet=True, options=options)
    assert {r.student: r.score for r in again} == {s: r.score for s, r in results.items()}


def test_seeds_are_reproducible_distinct_and_need_the_secret():
    a, b = StudentSeeds(b"k" * 32), StudentSeeds(b"j" * 32)
    assert a("ann", "t", [1, 2]) == a("ann", "t", [1, 2])
    assert a("ann", "t", [1, 2]) != a("bob", "t", [1, 2])
    assert a("ann", "t", [1, 2]) != b("ann", "t", [1, 2])
    assert a("ann", "t", [1]) != a("ann", "u", [1])
    assert "k" * 8 not in repr(a)


def test_the_course_secret_is_created_privately_and_never_in_the_repository(tmp_path, monkeypatch):
    monkeypatch.delenv("NNFS_COURSE_SECRET", raising=False)
    monkeypatch.delenv("NNFS_COURSE_SECRET_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    said = []
    first = course_secret(say=said.append)
    secret_file = tmp_path / ".config" / "nnfs-grader" / "course-secret"
    assert secret_file.stat().st_mode & 0o077 == 0
    assert course_secret(say=said.append) == first and len(said) == 1
    inside = REPO / "course-secret.txt"
    with pytest.raises(SecretError, match="inside the repository"):
        course_secret(inside)
    short = tmp_path / "short"
    short.write_text("abc")
    with pytest.raises(SecretError, match="too short"):
        course_secret(short)


# ----------------------------------------------------------------- config

def test_limits_come_from_the_config_per_assignment(tmp_path):
    from grader.record.config import ConfigError, load_limits

    config = tmp_path / "grading.toml"
    config.write_text('[limits]\ncell_seconds = 30\n[limits."05_training"]\ncell_seconds = 90\n')
    base, specific = load_limits(config)
    assert base.cell_seconds == 30 and specific["05_training"].cell_seconds == 90
    options = Options(limits=base, limits_by_notebook=specific)
    assert options.for_notebook("05_training", "training.ipynb").limits.cell_seconds == 90
    assert options.for_notebook("01_perceptron", "perceptron.ipynb").limits.cell_seconds == 30
    base, specific = load_limits(config, {"cell_seconds": 5})
    assert base.cell_seconds == 5 and specific["05_training"].cell_seconds == 5
    config.write_text("[limits]\ncell_secs = 3\n")
    with pytest.raises(ConfigError, match="cell_secs"):
        load_limits(config)
    assert load_limits(REPO / "grading.toml")[1]["05_training"].cell_seconds >= 120


def test_student_chosen_text_cannot_become_a_spreadsheet_formula(tmp_path):
    from grader.record.outputs import write_csv
    from grader.record.results import NotebookResult, SubmissionResult

    result = SubmissionResult("-2+3", PERCEPTRON, [NotebookResult(
        "-2+3", PERCEPTRON, "x.ipynb", status="unreadable", message="=HYPERLINK(\"x\")",
        flags=["@SUM(A1)"])])
    write_csv(tmp_path / "g.csv", [result], {})
    row = _rows(tmp_path, "g.csv")["'-2+3"]
    assert row["flags"] == "'@SUM(A1)" and row["reason"].startswith("'=")


def test_nbgrader_export_lists_every_row_of_a_class_with_bad_input(bad_class):
    from grader.course.build import run_nbgrader

    out, results = bad_class
    run_nbgrader(["export", f"--to={out / 'export.csv'}", f"--CourseDirectory.root={out}",
                  f"--CourseDirectory.db_url=sqlite:///{out}/gradebook.db"], cwd=out)
    with open(out / "export.csv", newline="", encoding="utf-8") as handle:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert exported == {student: r.score for student, r in results.items()}


@pytest.mark.parametrize("students, jobs", [(1, "1"), (3, "2")])  # in process; a worker pool
def test_an_unreachable_gradebook_stops_the_run_with_nothing_recorded_and_the_password_hidden(
        tmp_path, students, jobs):
    _small_class(tmp_path / "in", students)
    done = _cli(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--fixed-seeds",
                "--jobs", jobs, "--db-url", "postgresql://grader:hunter2secret@127.0.0.1:9/class")
    assert done.returncode == 2
    assert "Cannot open the gradebook" in done.stderr and "无法打开成绩册" in done.stderr
    assert "hunter2secret" not in done.stderr + done.stdout
    assert not list((tmp_path / "out").glob("results/*/*.json"))
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_a_row_the_gradebook_refused_is_graded_again_next_time(tmp_path, monkeypatch):
    from grader.record import gradebook

    src, out = tmp_path / "submitted", tmp_path / "out"
    _small_class(src, 3)
    real = gradebook.Writer.record

    def flaky(self, result, source):
        if result.student == "s1":
            raise OSError("connection reset")
        return real(self, result, source)

    monkeypatch.setattr(gradebook.Writer, "record", flaky)
    first = {r.student: r for r in grade(src, out, jobs=1, quiet=True)}
    assert "gradebook_failed" in first["s1"].flags and set(first) == {"s0", "s1", "s2"}
    monkeypatch.setattr(gradebook.Writer, "record", real)
    grade(src, out, jobs=1, quiet=True)
    assert _report(out)["graded"] == 1 and _report(out)["reused"] == 2


def test_a_second_run_on_the_same_output_folder_is_refused_while_the_first_runs(tmp_path):
    from grader.record.batch import lock_output

    _small_class(tmp_path / "in", 1)
    (tmp_path / "out").mkdir()
    with lock_output(tmp_path / "out" / ".collected.lock", tmp_path / "out"):
        with pytest.raises(RuntimeError, match="Another grading run"):
            grade(tmp_path / "in", tmp_path / "out", quiet=True)
    assert len(grade(tmp_path / "in", tmp_path / "out", quiet=True, jobs=1)) == 1


def test_the_reference_passes_every_hidden_call_whatever_the_students_seeds():
    """Per-student seeds must never make a hidden test fail a correct answer (a sweep of
    100 students per hidden call passed when this test was written; here 6, for time)."""
    import contextlib
    import io
    import warnings

    sys.path.insert(0, str(REPO / "tests"))
    from support import solution

    from grader.paths import assignments
    from grader.record.evaluate import check_functions

    checks, seeds, failures, tried = check_functions(), StudentSeeds(b"q" * 32), [], 0
    for assignment in assignments():
        names = solution(assignment)
        for book in load_assignment(assignment).notebooks:
            for test in book.tests:
                for call in (c for c in test.calls if c.hidden and "seeds" in c.kwargs):
                    for student in (f"student{i}" for i in range(6)):
                        args = [names[a.name] if a.name else a.value for a in call.args]
                        kwargs = {k: names[a.name] if a.name else a.value
                                  for k, a in call.kwargs.items()}
                        kwargs["seeds"] = seeds(student, test.grade_id, kwargs["seeds"])
                        tried += 1
                        try:
                            with contextlib.redirect_stdout(io.StringIO()), \
                                    warnings.catch_warnings():
                                warnings.simplefilter("ignore")
                                checks[call.function](*args, **kwargs)
                        except Exception as exc:
                            failures.append((assignment, test.grade_id, kwargs["seeds"], exc))
    assert tried > 100 and not failures, failures[:3]


def test_the_feedback_page_says_why_a_bad_submission_got_nothing(bad_class):
    out, _ = bad_class
    page = next((out / "feedback" / "truncated" / PERCEPTRON).glob("*.html"))
    top = page.read_text(encoding="utf-8").split("<table>")[0]
    assert "cut off or corrupt" in top and "被截断或已损坏" in top


def test_a_folder_the_grader_did_not_make_is_never_emptied(tmp_path):
    _small_class(tmp_path / "in", 1)
    keep = tmp_path / "out" / "collected" / "my_notes.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("precious")
    with pytest.raises(RuntimeError, match="was not made by the grader"):
        grade(tmp_path / "in", tmp_path / "out", quiet=True)
    assert keep.read_text() == "precious"
    # refused, the run leaves the folder as it found it: not even its lock file
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["collected"]


def test_one_student_can_be_regraded_alone(tmp_path):
    src, out = tmp_path / "submitted", tmp_path / "out"
    _small_class(src, 3)
    grade(src, out, jobs=2, quiet=True)
    again = grade(src, out, jobs=1, quiet=True, force=True, students=["s1"])
    assert _report(out)["graded"] == 1 and _report(out)["reused"] == 2
    assert [r.student for r in again] == ["s0", "s1", "s2"]  # the CSV keeps the whole class
    assert sorted(_rows(out)) == ["s0", "s1", "s2"]


@pytest.mark.parametrize("columns", [0, 120])
def test_the_progress_bar_on_a_terminal_never_hangs(columns):
    """tqdm once looped forever on a pty that reports no width; the bar is drawn only
    when there is room, and the per-submission lines always are."""
    import fcntl
    import pty
    import struct
    import termios

    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    code = ("from grader.record.progress import Progress\n"
            "from grader.record.results import SubmissionResult\n"
            "p = Progress(3, False)\nprint('bar' if p.bar else 'no bar', flush=True)\n"
            "[p.finished(SubmissionResult(f's{i}', 'a')) for i in range(3)]\np.close()\n")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([sys.executable, "-c", code], stdin=child_fd, stdout=child_fd,
                               stderr=child_fd, cwd=REPO, env=env)
    os.close(child_fd)
    import select

    output, deadline = b"", time.monotonic() + 60
    while process.poll() is None or select.select([main_fd], [], [], 0)[0]:
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the progress display hung; it printed {output[-300:]!r}")
        if select.select([main_fd], [], [], 0.2)[0]:
            try:
                output += os.read(main_fd, 4096)
            except OSError:  # the child closed the pty
                break
    os.close(main_fd)
    assert process.wait(timeout=10) == 0
    text = output.decode("utf-8", errors="replace")
    assert "[3/3]" in text and "ETA" in text
    assert ("no bar" in text) == (columns == 0)


# ------------------------------------------------- an outsider attacks the input (#14)

def _bzip2_bomb(name: str) -> bytes:
    """A zip of under 1 KB whose bzip2 member declares 100 bytes and holds 64 MB."""
    import io
    import struct

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_BZIP2) as z:
        z.writestr(name, b"\0" * (64 * 2**20))
    data = bytearray(buffer.getvalue())
    struct.pack_into("<L", data, 22, 100)
    struct.pack_into("<L", data, data.rfind(b"PK\x01\x02") + 24, 100)
    return bytes(data)


def _zip_named(raw: bytes, content: str) -> bytes:
    """A zip whose one member's name is marked UTF-8 (bit 0x800) but is not."""
    import io

    placeholder = "é" + "x" * (len(raw) - 2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(placeholder, content)
    return buffer.getvalue().replace(placeholder.encode(), raw)


ESCAPES = ("\x1b", "\r", "\b", "\u202e", "\x07")


def _hostile_class(root: Path) -> Path:
    """JupyterHub home folders: two honest students, and one student per attack."""
    perfect = _text(_sample(PERCEPTRON, "perfect").notebook)
    wrong = _text(_sample(PERCEPTRON, "partly_wrong").notebook)
    blank = _text(_sample(PERCEPTRON, "blank").notebook)
    name = _sample(PERCEPTRON, "perfect").notebook_name
    src = root / "home"
    _write(src / "honest" / name, perfect)
    _write(src / "bob" / name, perfect)  # the victim
    _write(src / "wrong" / name, wrong)
    # plants another student's name next to a partly wrong notebook of their own
    _write(src / "mallory" / name, wrong)
    _write(src / "mallory" / f"bob_123_456_{name}", blank)
    _write(src / "mallory" / "bob" / name, blank)
    _write(src / "mallory" / "bob" / PERCEPTRON / name, blank)
    _write(src / "mallory" / "zz" / name, perfect)  # deeper: never preferred to the top one
    _write(src / "dup" / name, perfect)
    _write(src / "dup" / f"Copy of {name}", blank)
    _write(src / "rawname" / os.fsdecode(b"percep\xfftron.ipynb"), perfect)
    _write(src / os.fsdecode(b"st\xffudent") / name, perfect)
    _write(src / "zipname" / "hw.zip", _zip_named(b"\xff\xfe" + name.encode(), perfect))
    _write(src / "bomber" / "hw.zip", _bzip2_bomb(name))
    sys.path.insert(0, str(REPO / "tests"))
    from test_collect import _many_members

    _write(src / "many" / "hw.zip", _many_members(100_000))
    cells = json.loads(perfect)
    cells["cells"] += [{"cell_type": "markdown", "metadata": {}, "source": ""}] * (MAX_CELLS + 1)
    _write(src / "cells" / name, json.dumps(cells))
    _write(src / "esc" / f"\x1b[2J\x1b]0;owned\x07\r\b\u202e{name}", perfect)
    _write(src / "esc" / "\x1b[31mnotes\r.txt", "x")
    _write(src / "\x1b[2J\u202eevil" / name, perfect)
    return src


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    import contextlib
    import io

    from grader.cli import main

    root = tmp_path_factory.mktemp("hostile")
    src = _hostile_class(root)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["grade", str(src), "--out", str(root / "out"), "--jobs", "2",
                       "--fixed-seeds"])
    return root / "out", status, out.getvalue() + err.getvalue()


def test_an_attacked_class_finishes_and_honest_students_keep_full_marks(hostile_class):
    out, status, _ = hostile_class
    assert status == 0  # every row is the student's doing, none the grader's failure
    rows = _rows(out)
    assert set(rows) == {"honest", "bob", "wrong", "mallory", "dup", "rawname", "st_udent",
                         "zipname", "bomber", "many", "cells", "esc", "2Jevil"}
    full = rows["honest"]["max_score"]
    for student in ("honest", "bob", "dup", "rawname", "st_udent", "zipname", "esc", "2Jevil"):
        assert rows[student]["score"] == full and rows[student]["status"] == "ok", rows[student]
    assert rows["bob"]["flags"] == ""  # nothing mallory planted reached bob's row
    # no undeserved point: mallory's own notebook is graded, not a planted perfect copy
    assert rows["mallory"]["score"] == rows["wrong"]["score"] != full


@pytest.mark.parametrize("student, flags", [
    ("mallory", ["claims_other_student:bob", "duplicate:bob_123_456_perceptron.ipynb",
                 "duplicate:zz/perceptron.ipynb"]),
    ("dup", ["duplicate:Copy of perceptron.ipynb"]),
    ("rawname", ["undecodable_name:rawname/percep\ufffdtron.ipynb",
                 "renamed:percep\ufffdtron.ipynb"]),
    ("st_udent", ["undecodable_name:st\ufffdudent/perceptron.ipynb"]),
    ("zipname", ["undecodable_name:zipname/hw.zip!\ufffd\ufffdperceptron.ipynb"]),
    ("bomber", ["not_collected:hw.zip!perceptron.ipynb"]),
    ("many", ["not_collected:hw.zip"]),
])
def test_the_instructor_is_told_on_the_students_row(hostile_class, student, flags):
    out, _, _ = hostile_class
    row = _rows(out)[student]
    assert set(flags) <= set(row["flags"].split(";")), row["flags"]
    reported = next(s for s in _report(out)["submissions"] if s["student"] == student)
    assert set(flags) <= set(reported["flags"])


@pytest.mark.parametrize("student, status, english, chinese", [
    ("bomber", "empty", "compressed with bzip2", "使用 bzip2 压缩"),
    ("many", "empty", "a zip of more than 1000 files", "zip 中的文件超过 1000 个"),
    ("cells", "too_large", f"cells, more than the {MAX_CELLS}", f"超过了 notebook 的上限 {MAX_CELLS} 个"),
])
def test_input_that_can_never_be_graded_is_a_zero_with_a_reason(hostile_class, student, status,
                                                                english, chinese):
    out, _, _ = hostile_class
    row = _rows(out)[student]
    assert row["status"] == status and float(row["score"]) == 0, row
    assert english in row["reason"] and chinese in row["reason"], row["reason"]


def test_nothing_a_student_chose_reaches_the_terminal_raw(hostile_class):
    out, _, printed = hostile_class
    assert not [c for c in ESCAPES if c in printed], [c for c in ESCAPES if c in printed]
    assert "\\x1b[31mnotes\\x0d.txt" in printed  # shown, escaped, in the unmapped list
    assert "collect.json" in printed and "flags" in printed
    for name in ("collect.json", "report.json"):
        json.loads((out / name).read_text(encoding="utf-8"))  # valid, and readable UTF-8
    page = next((out / "feedback" / "cells" / PERCEPTRON).glob("*.html")).read_text("utf-8")
    assert f"more than the {MAX_CELLS} a notebook may have" in page


def test_printable_shows_what_moves_the_cursor_and_cuts_long_text():
    from grader.record.terminal import printable

    assert printable("a\x1b[2Jb\rc\bd\u202ee\x00f") == "a\\x1b[2Jb\\x0dc\\x08d\\u202ee\\x00f"
    assert printable("王伟 Ana María") == "王伟 Ana María"
    assert printable("x" * 1000, 10) == "x" * 10 + "…"
    assert printable("one\ntwo\x1b", lines=True) == "one\ntwo\\x1b"
    assert printable("a\nb") == "a\\x0ab"


def test_the_progress_line_and_the_summary_escape_student_text():
    from grader.record.progress import progress_line
    from grader.record.results import NotebookResult, SubmissionResult
    from grader.record.summary import render

    book = NotebookResult("s\x1b[2J", "a\u202e", "x.ipynb", status="o\rk",
                          flags=["renamed:\x1b]0;t\x07.ipynb"])
    text = progress_line(SubmissionResult("s\x1b[2J", "a\u202e", [book]), 1, 1) + render(
        [SubmissionResult("s\x1b[2J", "a\u202e", [book])])
    assert not [c for c in ESCAPES if c in text] and "\\x1b" in text


def test_feedback_pages_escape_student_text():
    from grader.record.feedback import render
    from grader.record.results import NotebookResult, SubmissionResult
    from grader.record.source import AssignmentSource

    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    book = NotebookResult(hostile, PERCEPTRON, hostile, status="unreadable", message=hostile)
    page = render(SubmissionResult(hostile, PERCEPTRON, [book]), 0,
                  AssignmentSource(PERCEPTRON, []))
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page


def test_a_lone_surrogate_in_student_text_never_stops_the_outputs(tmp_path):
    """An undecodable byte that slipped into a message or a flag (as a lone surrogate) is
    written escaped: the CSV, the JSON and the feedback page are still written, and valid."""
    from grader.record.feedback import write_feedback
    from grader.record.outputs import write_csv, write_report
    from grader.record.results import NotebookResult, SubmissionResult
    from grader.record.source import AssignmentSource

    odd = "bad \udcff byte"
    result = SubmissionResult("s", PERCEPTRON, [NotebookResult(
        "s", PERCEPTRON, "x.ipynb", status="unreadable", message=odd, flags=[f"renamed:{odd}"])])
    write_csv(tmp_path / "g.csv", [result], {})
    write_report(tmp_path / "report.json", [result], "bwrap")
    write_feedback(tmp_path, result, AssignmentSource(PERCEPTRON, []))
    assert "renamed:bad \\udcff byte" in _rows(tmp_path, "g.csv")["s"]["flags"]
    assert json.loads((tmp_path / "report.json").read_text("utf-8"))["submissions"][0][
        "flags"] == [f"renamed:{odd}"]
    assert "bad ? byte" in (tmp_path / "feedback" / "s" / PERCEPTRON / "x.html").read_text()
