"""The package's rooms and the direction of imports between them (CONTRIBUTING: "Layout").

* ``grader/runtime`` (the only part the sandbox sees) imports nothing else of the project,
  not even lazily: inside the sandbox nothing else exists;
* ``grader/checks`` (what students import) never imports the grade of record or the course
  tooling: a student's kernel and the release have no use for them;
* ``grader/record`` (the grade of record) never imports the course tooling;
* no module is over 600 lines (a room that grows further is two rooms).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "grader"

ALLOWED = {
    "runtime": {"runtime"},
    "checks": {"checks", "runtime"},
    "record": {"record", "checks", "runtime", "top"},
    "course": {"course", "record", "checks", "runtime", "top"},
    "top": {"top", "checks", "runtime", "record", "course"},
}


def _room(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "grader":
        return "outside"
    return parts[1] if len(parts) >= 2 and parts[1] in ALLOWED else "top"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module this file imports (function-level imports included), absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_only_where_the_rooms_allow(path):
    room = _room(_module_name(path))
    wrong = [(line, name) for line, name in _imports(path)
             if name.startswith("grader") and _room(name) not in ALLOWED[room]]
    assert not wrong, f"{room} may import only {sorted(ALLOWED[room])}: {wrong}"


def test_the_runtime_uses_relative_imports_only():
    """Inside the sandbox the runtime is the package ``grader``; outside, grader.runtime."""
    for path in sorted((PACKAGE / "runtime").glob("*.py")):
        absolute = [name for _, name in _imports(path) if name.startswith("grader")]
        text = path.read_text(encoding="utf-8")
        assert not absolute or all("from grader" not in line for line in text.splitlines()
                                   if line.lstrip().startswith(("from ", "import "))), \
            (path.name, absolute)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_600_lines(path):
    rel = path.relative_to(PACKAGE).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 600, f"{rel} has {lines} lines"


def test_the_grader_package_imports_without_torch():
    """Setup cells run `from grader import ...` in the sandbox, where torch is blocked."""
    import subprocess
    import sys

    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.partition('.')[0] in ('torch', 'sympy'):\n"
            "            raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "from grader import check, check_function, check_layer, check_loss\n"
            "import grader.runtime.worker\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
