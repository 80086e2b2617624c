"""The code is linted as part of the suite (ruff, configured in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

from grader.paths import REPO


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a dev dependency: pip install -e '.[dev]'"
    proc = subprocess.run([ruff, "check", "grader", "tests", "bench"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_ruff_lints_every_module_of_the_package():
    """The exclusions (the notebooks' cell sources in course/, solutions/, samples/) must not
    catch a folder of the package by name: "course" once excluded grader/course/ too."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    proc = subprocess.run([ruff, "check", "--show-files", "grader", "tests", "bench"], cwd=REPO,
                          capture_output=True, text=True)
    linted = {Path(line.strip()).resolve() for line in proc.stdout.splitlines() if line.strip()}
    corpora = [REPO / "tests" / name for name in ("hostile", "honest", "variants")]
    expected = {path.resolve() for folder in ("grader", "tests", "bench")
                for path in (REPO / folder).rglob("*.py")
                if not any(path.is_relative_to(c) for c in corpora)}
    assert expected and not expected - linted, sorted(str(p) for p in expected - linted)[:10]
