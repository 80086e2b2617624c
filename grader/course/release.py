"""What an instructor hands out: the student release · 发给学生的版本.

``python -m grader release OUT [--language en|zh]`` writes a folder (and ``OUT.zip``
with ``--zip``) that holds everything a student needs and nothing of the answers:

=====================  =============================================================
``<id>/*.ipynb``       the student notebooks (``course/``, or its one-language copy)
``grader/``            the checks the notebooks import: the check library
                       (:mod:`grader.checks`) without its NumPy answers
                       (``grader/checks/references/``), with the values the visible
                       checks of those exercises compare with, computed now
                       (``grader/checks/recorded/``); the figure labels; nothing of the
                       grade of record, the course tooling or ``solutions/``
``pyproject.toml``     installs ``grader`` (``pip install .``)
``requirements.txt``   the pinned packages the notebooks need
``nbgrader_config.py`` Validate's settings (warnings on stderr cost nothing)
``README.md``          for students, in both languages
=====================  =============================================================

Nothing here is a hidden test: the release notebooks never had them (nbgrader's
``generate_assignment`` removed them), and the recorded values are those of the visible
check calls only.
"""

from __future__ import annotations

import ast
import shutil
import tomllib
import zipfile
from pathlib import Path

from grader import notebooks
from grader.checks import exercises, recorded
from grader.checks import messages as M
from grader.checks.specs import Exercise
from grader.paths import COURSE, REPO, assignments

__all__ = ["release", "recorded_calls", "CHECK_PACKAGE"]

M.register(
    {
        "release_exists": (
            "{out} exists and is not empty: a release is written into a new folder, so that "
            "nothing in it is overwritten. Choose another folder or remove this one.",
            "{out} 已存在且不为空：发布版要写入一个新文件夹，以免覆盖其中的任何内容。"
            "请换一个文件夹，或先删除它。",
        ),
        "release_written": (
            "Student release written to {out} ({notebooks} notebooks, {recorded} recorded "
            "exercises); nothing of solutions/ or the hidden tests is in it.",
            "学生版已写入 {out}（{notebooks} 个 notebook，{recorded} 个练习的参考值已预先计算）；"
            "其中不含 solutions/ 或隐藏测试的任何内容。",
        ),
    }
)

#: The parts of ``grader`` that the release carries (paths relative to ``grader/``).
CHECK_PACKAGE = ("__init__.py", "plotting.py", "checks", "runtime/__init__.py",
                 "runtime/steps.py", "runtime/plotting.py")
_LEFT_OUT = ("references", "__pycache__")

_STUDENT_CONFIG = '''# nbgrader's Validate for the student release · 学生版中 Validate 的设置
c = get_config()  # noqa: F821 - provided by nbgrader
# A warning on stderr from a correct answer must not cost a cell: drop warning chunks.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"Warning"
c.Execute.timeout = 300
'''


def _pins() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = ("numpy", "matplotlib", "scikit-learn", "torch", "jupyterlab", "nbgrader",
              "nbclient", "nbformat", "ipykernel", "ipywidgets", "tqdm")
    return [d for d in project["dependencies"] if d.split("==")[0].strip() in wanted]


def _copy_package(target: Path) -> None:
    source = REPO / "grader"
    for part in CHECK_PACKAGE:
        path = source / part
        if path.is_dir():
            shutil.copytree(path, target / part,
                            ignore=shutil.ignore_patterns(*_LEFT_OUT, "*.pyc"))
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / part)


def recorded_calls(course: Path) -> dict[str, dict[str, list[dict]]]:
    """{exercise: {call key: [case data]}} for every visible check call of an exercise whose
    reference is an answer (computed here, where the references are)."""
    from grader.record.testcells import parse_test_cell  # course tooling may use the record

    found: dict[str, dict[str, list[dict]]] = {}
    for path in sorted(Path(course).glob("*/*.ipynb")):
        for cell in notebooks.read(path).cells:
            if not notebooks.is_test_cell(cell):
                continue
            for call in parse_test_cell(cell).calls:
                spec = exercises.all_exercises().get(call.exercise or "")
                if not isinstance(spec, Exercise) or not spec.needs_solution:
                    continue
                literal = {k: a.value for k, a in call.kwargs.items() if a.name is None}
                cases = spec.cases(**literal)
                found.setdefault(spec.id, {})[recorded.call_key(literal)] = \
                    [case.data for case in cases]
    return found


def _readme(language: str | None) -> str:
    from grader.course.release_readme import README

    return README.format(language=language or "en+zh")


def release(out: Path, language: str | None = None, course: Path = COURSE,
            make_zip: bool = False) -> Path:
    """Write the student release into the new folder ``out``; return it (or the zip)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(M.bilingual("release_exists", out=out))
    source = Path(course)
    if language:
        from grader.course.lang import write_copies

        source = out.parent / f".{out.name}-{language}"
        write_copies(language, source, course)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for ident in assignments():
        for path in sorted((source / ident).glob("*.ipynb")):
            (out / ident).mkdir(exist_ok=True)
            shutil.copy2(path, out / ident / path.name)
            count += 1
    package = out / "grader"
    _copy_package(package)
    calls = recorded_calls(Path(course))
    for exercise, by_call in calls.items():
        recorded.write(package / "checks" / "recorded", exercise, by_call)
    (out / "requirements.txt").write_text("\n".join(_pins()) + "\n", encoding="utf-8")
    (out / "pyproject.toml").write_text(_PYPROJECT, encoding="utf-8")
    (out / "nbgrader_config.py").write_text(_STUDENT_CONFIG, encoding="utf-8")
    (out / "README.md").write_text(_readme(language), encoding="utf-8")
    if language:
        shutil.rmtree(source, ignore_errors=True)
    _verify(out)
    print(M.bilingual("release_written", out=out, notebooks=count, recorded=len(calls)))
    if make_zip:
        archive = out.with_suffix(".zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    handle.write(path, Path(out.name) / path.relative_to(out))
        return archive
    return out


_PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "nnfs-checks"
version = "0.1.0"
description = "Neural Networks from Scratch: the checks the notebooks import"
requires-python = ">=3.11"
dependencies = ["numpy", "torch", "matplotlib"]

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
"grader.checks" = ["recorded/*.json", "digests/*.json"]
'''


def _verify(out: Path) -> None:
    """Nothing of the answers is in the release (a second look, after writing it)."""
    for path in out.rglob("*"):
        if path.is_dir() and path.name == "references":
            raise RuntimeError(f"{path}: the references (answers) must not be released")
        if path.suffix == ".ipynb" and "BEGIN SOLUTION" in path.read_text(encoding="utf-8"):
            raise RuntimeError(f"{path}: a solution region in the release")
        if path.suffix == ".py":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and \
                        node.module.startswith(("grader.record", "grader.course")):
                    raise RuntimeError(f"{path}: imports {node.module}, which is not released")
