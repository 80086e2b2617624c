"""Every assignment, whatever its content: release, hygiene, bilingual parity, declarative tests.

Slow tests (marked) execute whole notebooks in a kernel.
"""

from __future__ import annotations

import ast
import importlib
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from grader import notebooks
from grader.cli import main as cli_main
from grader.course.build import build
from grader.course.generated import MANIFEST, WouldLoseEdits, read_manifest
from grader.course.selfcheck import check_notebook
from grader.paths import COURSE, SOLUTIONS, assignments

IDS = assignments()
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def _solution(ident: str) -> Path:
    return sorted((SOLUTIONS / ident).glob("*.ipynb"))[0]


def _course(ident: str) -> Path:
    return COURSE / ident / _solution(ident).name


def _all_notebooks() -> list[Path]:
    return sorted(SOLUTIONS.glob("*/*.ipynb")) + sorted(COURSE.glob("*/*.ipynb"))


def test_there_are_assignments():
    assert "01_perceptron" in IDS


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("course")
    build(IDS, SOLUTIONS, out)
    return out


@pytest.mark.parametrize("ident", IDS)
def test_course_equals_a_fresh_build(ident, fresh_build):
    committed = sorted(p.name for p in (COURSE / ident).iterdir())
    built = sorted(p.name for p in (fresh_build / ident).iterdir())
    assert committed == built, "course/ has other files than a fresh build: run python -m grader build"
    for name in built:
        assert (COURSE / ident / name).read_bytes() == (fresh_build / ident / name).read_bytes(), (
            f"course/{ident}/{name} differs from a fresh build: run `python -m grader build {ident}`"
        )


def test_course_manifest_equals_a_fresh_build(fresh_build):
    """course/.nnfs-generated.json (what the build wrote, so that no command overwrites an
    edit) is committed and the same after every build."""
    assert (COURSE / MANIFEST).read_bytes() == (fresh_build / MANIFEST).read_bytes(), (
        "course/.nnfs-generated.json differs from a fresh build: run `python -m grader build`"
    )
    assert sorted(read_manifest(COURSE)) == sorted(
        p.relative_to(COURSE).as_posix() for p in COURSE.glob("*/*") if p.is_file())


# --- a student's answer in course/ survives a build ---------------------------------------------

def _answer(path: Path, text: str = "def pla_train(X, y, epochs):  # my answer\n    return 42\n") -> str:
    """Write an answer into the first solution cell of the notebook at ``path``, as a student
    would in JupyterLab; return it."""
    nb = notebooks.read(path)
    cell = next(c for c in nb.cells if notebooks.is_solution_cell(c))
    cell.source = text
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return text


@pytest.fixture
def edited_course(tmp_path) -> Path:
    """A copy of course/ (with its manifest) where a student wrote an answer in 01_perceptron."""
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    _answer(course / "01_perceptron" / _solution("01_perceptron").name)
    return course


def test_build_stops_before_it_would_overwrite_an_answer(edited_course, capsys):
    notebook = edited_course / "01_perceptron" / _solution("01_perceptron").name
    before = notebook.read_bytes()
    with pytest.raises(WouldLoseEdits) as stop:
        build(["01_perceptron"], SOLUTIONS, edited_course)
    assert notebook.read_bytes() == before
    assert stop.value.files == [f"01_perceptron/{notebook.name}"]
    # the command line says it in both languages and exits with status 3
    assert cli_main(["build", "--course", str(edited_course)]) == 3
    err = capsys.readouterr().err
    assert "Stopped" in err and "已停止" in err and "--backup" in err and notebook.name in err
    assert notebook.read_bytes() == before
    assert not (edited_course.parent / "backups").exists()


def test_build_backup_keeps_the_answer_and_regenerates(edited_course, capsys):
    notebook = edited_course / "01_perceptron" / _solution("01_perceptron").name
    before = notebook.read_bytes()
    assert cli_main(["build", "01_perceptron", "--course", str(edited_course), "--backup"]) == 0
    out = capsys.readouterr().out
    assert "Moved 1 changed file" in out and "已把" in out
    kept = list((edited_course.parent / "backups").glob("course-*/01_perceptron/" + notebook.name))
    assert len(kept) == 1 and kept[0].read_bytes() == before
    assert notebook.read_bytes() == _course("01_perceptron").read_bytes()
    assert (edited_course / MANIFEST).read_bytes() == (COURSE / MANIFEST).read_bytes()


# --- kernel metadata: notebooks open in JupyterLab without an unsaved change -------------------

def test_kernel_metadata_is_what_ipykernel_reports_but_the_python_version():
    from ipykernel.ipkernel import IPythonKernel
    from ipykernel.kernelspec import KERNEL_NAME, get_kernel_dict

    reported = dict(IPythonKernel.language_info)
    assert reported.pop("version")  # each student's own Python: filled in by the lab
    assert reported == notebooks.LANGUAGE_INFO
    spec = get_kernel_dict()
    assert notebooks.KERNELSPEC == {"name": KERNEL_NAME, "display_name": spec["display_name"],
                                    "language": spec["language"]}


@pytest.mark.parametrize("path", _all_notebooks(), ids=str)
def test_notebook_holds_the_kernel_metadata_jupyterlab_writes(path):
    metadata = notebooks.read(path).metadata
    assert metadata["kernelspec"] == notebooks.KERNELSPEC
    assert metadata["language_info"] == notebooks.LANGUAGE_INFO, (
        f"{path}: run `python -m grader build` (course/) or `python -m grader author` (solutions/)"
    )


@pytest.mark.parametrize("path", _all_notebooks(), ids=str)
def test_notebook_is_committed_clean(path):
    nb = notebooks.read(path)
    import nbformat

    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path}: outputs in {cell.id}"


@pytest.mark.parametrize("ident", IDS)
def test_no_solution_or_hidden_test_leaks_into_course(ident):
    text = _course(ident).read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    source = notebooks.read(_solution(ident))
    course = notebooks.read(_course(ident))
    released = {notebooks.grade_id(c): c.source for c in course.cells if notebooks.grade_id(c)}
    for cell in source.cells:
        if notebooks.is_test_cell(cell) and notebooks.HIDDEN_BEGIN in cell.source:
            hidden = cell.source.split(notebooks.HIDDEN_BEGIN, 1)[1].split(notebooks.HIDDEN_END)[0]
            for line in filter(str.strip, hidden.splitlines()):
                assert line not in released[notebooks.grade_id(cell)]
        if notebooks.is_solution_cell(cell) and "### BEGIN SOLUTION" in cell.source:
            answer = cell.source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION")[0]
            lines = [ln.strip() for ln in answer.splitlines() if len(ln.strip()) > 12]
            leaked = [ln for ln in lines if ln in released[notebooks.grade_id(cell)]]
            assert not leaked, f"solution lines visible in the release: {leaked}"


@pytest.mark.parametrize("ident", IDS)
def test_prose_is_bilingual(ident):
    cells = notebooks.read(_solution(ident)).cells
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        tag = notebooks.language_tag(cell)
        assert tag, f"markdown cell {cell.id} has no en/zh/both tag"
        if tag == "en":
            assert i + 1 < len(cells) and notebooks.language_tag(cells[i + 1]) == "zh", (
                f"English cell {cell.id} is not followed by its Chinese twin"
            )
            assert not CJK.search(cell.source), f"Chinese text in English cell {cell.id}"
        elif tag == "zh":
            assert i > 0 and notebooks.language_tag(cells[i - 1]) == "en", (
                f"Chinese cell {cell.id} does not follow an English cell"
            )
            assert CJK.search(cell.source), f"cell {cell.id} is tagged zh but has no Chinese"
        else:  # shared: a bilingual heading, or only formulas
            prose = re.sub(r"\$\$.*?\$\$|\$.*?\$", "", cell.source, flags=re.S)
            if LATIN_WORD.search(prose):
                assert CJK.search(prose) and "·" in prose, (
                    f"shared cell {cell.id} must carry both languages ('English · 中文')"
                )


CHECKS = set(importlib.import_module("grader.checks.api").__all__)


def _test_cells(ident):
    return [c for c in notebooks.read(_solution(ident)).cells if notebooks.is_test_cell(c)]


@pytest.mark.parametrize("ident", IDS)
def test_test_cells_are_declarative(ident):
    for cell in _test_cells(ident):
        tree = ast.parse(notebooks.strip_hidden_markers(cell.source))
        for node in tree.body:
            assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call), (
                f"{cell.id}: only check calls are allowed, found {ast.unparse(node)[:80]}"
            )
            call = node.value
            assert isinstance(call.func, ast.Name) and call.func.id in CHECKS, (
                f"{cell.id}: {ast.unparse(call.func)} is not a grader check function"
            )
            first, *rest = call.args
            assert isinstance(first, ast.Constant) and isinstance(first.value, str)
            for arg in rest:
                assert isinstance(arg, ast.Name), f"{cell.id}: positional args are student names"
            for kw in call.keywords:
                ast.literal_eval(kw.value)  # raises unless literal data


@pytest.mark.parametrize("ident", IDS)
def test_every_solution_cell_has_its_test_cell(ident):
    cells = notebooks.read(_solution(ident)).cells
    tests = {notebooks.grade_id(c) for c in cells if notebooks.is_test_cell(c)}
    for cell in cells:
        if notebooks.is_solution_cell(cell) and cell.cell_type == "code":  # not a manual answer
            assert f"test_{notebooks.grade_id(cell)}" in tests, notebooks.grade_id(cell)


def _seeds(source: str) -> set[int]:
    seeds: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "seeds":
            seeds |= set(ast.literal_eval(node.value))
    return seeds


@pytest.mark.parametrize("ident", IDS)
def test_hidden_tests_use_other_seeds_than_visible_ones(ident):
    for cell in _test_cells(ident):
        if notebooks.HIDDEN_BEGIN not in cell.source:
            continue
        visible, rest = cell.source.split(notebooks.HIDDEN_BEGIN, 1)
        hidden = rest.split(notebooks.HIDDEN_END)[0]
        assert not (_seeds(visible) & _seeds(hidden)), cell.id


@pytest.mark.slow
@pytest.mark.parametrize("ident", IDS)
def test_release_scores_zero_and_fails_only_with_not_implemented(ident):
    """The grade of record on the notebook as handed out. (How its other cells fail when the
    whole notebook runs in a kernel: tests/test_demo.py, on nbgrader's run of the blank sample,
    which is this release.)"""
    results, fatal = check_notebook(_course(ident))
    assert fatal is None, fatal
    assert results and all(r.score == 0 for r in results)
    for r in results:
        assert ("NotImplementedError" in r.message or "not written yet" in r.message
                or "not answered yet" in r.message), r.message  # a question's blank answer


@pytest.mark.parametrize("steps", ['[["no_such_cmd"]]', "[]", "[[]]", '{"a": 1}', "[[1, 2]]", "",
                                   '[["--version"]]'])
def test_nbgrader_steps_runs_nothing_it_does_not_recognise(steps, tmp_path):
    """nbgrader answers an unknown command with its help and exit 0; the runner refuses it."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "grader.course.nbgrader_steps"], input=steps,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "nbgrader_steps:" in done.stderr, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
