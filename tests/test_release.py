"""The student release: installed outside the repository, its visible checks pass with the
answers and fail with the blanks, and nothing of the answers is in it (issue #15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
from pathlib import Path

import pytest

from grader import notebooks
from grader.course.release import release
from grader.paths import COURSE, REPO, SOLUTIONS, assignments


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    out = release(root / "nnfs-course")
    return out


def test_the_release_holds_the_notebooks_the_checks_and_no_answer(released):
    files = {p.relative_to(released).as_posix() for p in released.rglob("*") if p.is_file()}
    for ident in assignments():
        assert any(f.startswith(f"{ident}/") and f.endswith(".ipynb") for f in files), ident
    assert {"README.md", "requirements.txt", "pyproject.toml", "nbgrader_config.py",
            "grader/__init__.py", "grader/checks/api.py"} <= files
    assert not [f for f in files if "/references/" in f or f.startswith(("solutions", "samples"))]
    assert not [f for f in files if f.startswith(("grader/record", "grader/course"))]
    for path in released.rglob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, path


def test_what_a_released_numpy_answer_would_have_printed_is_recorded_not_the_code(released):
    recorded = released / "grader" / "checks" / "recorded"
    names = {p.stem for p in recorded.glob("*.json")}
    assert {"pla_train", "margin", "radius", "perceptron_bound", "xor_predict"} <= names
    pla = (REPO / "grader" / "checks" / "references" / "perceptron.py").read_text()
    body = pla.split("def pla(", 1)[1].split("\ndef ", 1)[0]
    for path in released.rglob("*.py"):
        assert "errors_this_epoch" not in path.read_text(encoding="utf-8"), path
    assert "errors_this_epoch" in body  # the marker is really in the answer we left out
    data = json.loads((recorded / "pla_train.json").read_text(encoding="utf-8"))
    assert data and all(isinstance(cases, list) and cases for cases in data.values())


def test_the_requirements_are_the_courses_pins(released):
    pins = (released / "requirements.txt").read_text().split()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in pins and all(p in project for p in pins)


def _fresh_venv(where: Path) -> Path:
    """A new virtual environment outside the repository whose third-party packages (NumPy,
    torch, nbgrader) are the course's pinned ones, reached without the repository's grader."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                              "['purelib'])"], check=True, capture_output=True,
                          text=True).stdout.strip()
    # a path in a .pth file adds that folder, but the .pth files inside it are not run: the
    # repository's editable install (a .pth there) stays out of this environment
    Path(site, "course-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _program(nb) -> list:
    """Every code cell but the tests, and whether it runs whole (setup and solution cells)."""
    return [[c.source, notebooks.is_setup_cell(c) or notebooks.is_solution_cell(c)]
            for c in nb.cells if c.cell_type == "code" and not notebooks.is_test_cell(c)]


RUNNER = textwrap.dedent('''
    # Each job (a notebook's code and its test cells, one JSON file named on the command line)
    # runs in a namespace of its own, in one process: the course's imports are paid once.
    import ast, contextlib, io, json, sys, warnings
    import grader
    from grader.checks.compare import CheckFailure

    def run(cells):
        ns = {"__name__": "__notebook__"}
        for source, whole in cells["code"]:  # as the grader loads a notebook: errors do not stop it
            tree = ast.parse(source)
            if not whole:  # a demo or a plot: only its imports and definitions
                tree.body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom,
                             ast.FunctionDef, ast.ClassDef))]
            for node in ([tree] if whole else tree.body):
                module = node if whole else ast.Module(body=[node], type_ignores=[])
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        exec(compile(module, "<code>", "exec"), ns)
                except Exception:
                    pass
        results = []
        for source in cells["tests"]:
            try:
                with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exec(compile(source, "<test>", "exec"), ns)
                results.append(["passed", ""])
            except CheckFailure as failure:
                results.append([failure.kind, failure.args[0]])
        return results

    jobs = {name: run(json.load(open(name, encoding="utf-8"))) for name in sys.argv[1:]}
    import importlib.util
    answers = importlib.util.find_spec("grader.checks.references") is not None
    json.dump({"grader": grader.__file__, "jobs": jobs, "answers": answers}, sys.stdout)
''')


@pytest.mark.slow
def test_installed_outside_the_repository_the_visible_checks_pass_and_fail_as_they_should(
        released, tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", str(released)], check=True, cwd=tmp_path)
    work = tmp_path / "student"
    work.mkdir()
    (work / "runner.py").write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNFS_ROOT")}
    env["MPLBACKEND"] = "Agg"
    jobs = {}  # blanks first: answers run before them could not lend them a pass
    for kind in ("blanks", "answers"):
        for ident in assignments():
            course_nb = notebooks.read(sorted((COURSE / ident).glob("*.ipynb"))[0])
            tests = [c.source for c in course_nb.cells if notebooks.is_test_cell(c)]
            source = course_nb if kind == "blanks" else \
                notebooks.read(sorted((SOLUTIONS / ident).glob("*.ipynb"))[0])
            job = work / f"{ident}-{kind}.json"
            job.write_text(json.dumps({"code": _program(source), "tests": tests}))
            jobs[job.name] = (ident, kind)
    run = subprocess.run([str(python), "runner.py", *jobs], cwd=work, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout)
    assert Path(seen["grader"]).is_relative_to(tmp_path / "venv"), seen["grader"]
    assert seen["answers"] is False  # the recorded values did the work
    assert set(seen["jobs"]) == set(jobs)
    for name, (ident, kind) in jobs.items():
        results = seen["jobs"][name]
        outcomes = [kind_ for kind_, _ in results]
        assert outcomes, (ident, kind)
        if kind == "answers":
            assert set(outcomes) == {"passed"}, (ident, results)
        else:
            assert "passed" not in outcomes, (ident, outcomes)
            for failure_kind, message in results:
                assert failure_kind in ("not_done", "exception"), (ident, message[:300])
                assert "✗" in message and any("\u4e00" <= ch <= "\u9fff" for ch in message)
    assert not (tmp_path / "solutions").exists()


@pytest.mark.slow
def test_nbgrader_exchange_round_trip_on_one_machine(released, tmp_path):
    """release_assignment -> fetch_assignment -> submit -> collect, then the grade of record."""
    from grader.course.samples import samples_for
    from grader.record.batch import grade

    course, student, exchange = tmp_path / "course", tmp_path / "student", tmp_path / "exchange"
    (course / "release").mkdir(parents=True)
    student.mkdir()
    exchange.mkdir()
    exchange.chmod(0o777)  # nbgrader's exchange is a folder every user can write to
    ident = "01_perceptron"
    import shutil

    shutil.copytree(released / ident, course / "release" / ident)
    settings = (f'c.CourseDirectory.course_id = "nnfs"\nc.Exchange.root = "{exchange}"\n'
                "c.Exchange.path_includes_course = True\n")
    (course / "nbgrader_config.py").write_text(f"c = get_config()\n{settings}"
                                               f'c.CourseDirectory.root = "{course}"\n')
    (student / "nbgrader_config.py").write_text(f"c = get_config()\n{settings}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    nbgrader = [sys.executable, "-m", "nbgrader"]

    def run(args, cwd):
        done = subprocess.run(nbgrader + args, cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]

    run(["release_assignment", ident, "--force"], course)
    run(["fetch_assignment", ident], student)
    fetched = next((student / "nnfs" / ident).glob("*.ipynb"))
    perfect = next(s for s in samples_for(ident) if s.student == "perfect")
    notebooks.write_clean(perfect.notebook, fetched)  # the student answers
    run(["submit", ident], student)
    run(["collect", ident], course)
    results = grade(course / "submitted", tmp_path / "graded", quiet=True, jobs=1)
    assert len(results) == 1 and results[0].score == results[0].max_score > 0
