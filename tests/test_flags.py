"""Every flag and status the code can put on a row is in the one table (grader.record.flags),
and that table is in the README (both halves) and in `grade --help`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.record.flags import FLAGS, SANDBOX_REASONS, STATUSES, describe_flag, flag_name

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "grader").rglob("*.py"))


def _prefix(node: ast.expr) -> str | None:
    """The literal start of a flag expression, up to ':' (None when it starts dynamically)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.split(":", 1)[0]
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value.split(":", 1)[0]
        return None
    return None


def _flag_expressions(tree: ast.AST):
    """Every expression that becomes a flag: worker.flag(x), row_flag("name", …), _flag(nb, x),
    xs.append(x) and xs += [x, …] on a name ending in "flags", and flags = [x, …]."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "flag" and node.args:
                yield node.args[0]
            elif isinstance(func, ast.Name) and func.id == "row_flag" and node.args:
                yield node.args[0]
            elif isinstance(func, ast.Name) and func.id == "_flag" and len(node.args) > 1:
                yield node.args[1]  # the gradebook's _flag(notebook result, flag)
            elif isinstance(func, ast.Attribute) and func.attr == "append" and node.args:
                target = func.value
                name = target.attr if isinstance(target, ast.Attribute) else \
                    target.id if isinstance(target, ast.Name) else ""
                if name.endswith("flags"):
                    yield node.args[0]
        elif isinstance(node, ast.AugAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AugAssign) else node.targets
            names = [t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", "")
                     for t in targets]
            if any(n.endswith("flags") for n in names):
                for part in ast.walk(node.value):  # [a] + ([b] if … else []) + …
                    if isinstance(part, ast.List):
                        yield from part.elts
                    elif isinstance(part, ast.ListComp):
                        yield part.elt
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            # intake's readers return (text, ["encoding:gb18030"])
            for part in node.value.elts:
                if isinstance(part, ast.List):
                    yield from part.elts


def _emitted() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _flag_expressions(tree):
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            prefix = _prefix(node)
            if prefix is None:
                text = ast.unparse(node)
                # f"{exc.reason}:loading", f"{dead.reason}:{id}": the sandbox's reasons
                if "reason" in text:
                    for reason in SANDBOX_REASONS:
                        found.setdefault(reason, []).append(where)
                continue
            if prefix and not prefix.startswith(("_", " ")) and prefix.replace("_", "").isalnum():
                found.setdefault(prefix, []).append(where)
    return found


def test_the_scan_finds_the_flags_we_know_are_there():
    emitted = _emitted()
    for name in ("renamed", "late", "duplicate", "visible_only", "blocked_import", "file",
                 "test_cell_edited", "gradebook_failed", "slow", "unsandboxed", "encoding"):
        assert name in emitted, name


def test_every_flag_the_code_emits_is_in_the_table():
    emitted = _emitted()
    missing = {name: places for name, places in emitted.items() if name not in FLAGS}
    assert not missing, f"flags without a line in grader/record/flags.py: {missing}"


def test_every_flag_in_the_table_is_emitted_somewhere():
    emitted = _emitted()
    assert not [name for name in FLAGS if name not in emitted]


def _statuses_in_code() -> set[str]:
    found = set(SANDBOX_REASONS)
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            # Rejected("unreadable", …), status="blank", result.status, x = "blank", …
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Rejected" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "fail_all" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)  # grade_notebook's fail_all("missing", …)
            if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "status" \
                    and isinstance(node.value, ast.Constant):
                found.add(node.value.value)  # a dataclass default: status: str = "empty"
            if isinstance(node, ast.Dict):  # {"status": "too_large" if … else "empty"}
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "status":
                        found |= {c.value for c in ast.walk(value) if isinstance(c, ast.Constant)
                                  and isinstance(c.value, str)}
            if isinstance(node, ast.keyword) and node.arg == "status" and \
                    isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.add(node.value.value)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.Constant):
                for target in node.targets:
                    pairs = zip(target.elts, node.value.elts) if isinstance(target, ast.Tuple) \
                        and isinstance(node.value, ast.Tuple) else [(target, node.value)]
                    for t, v in pairs:
                        if isinstance(t, ast.Attribute) and t.attr == "status" and \
                                isinstance(v, ast.Constant) and isinstance(v.value, str):
                            found.add(v.value)
    # statuses of cells (passed/failed) and of a check's steps (ok/error/skipped, read from
    # an outcome's "status" key) are not row statuses
    return found - {"passed", "failed", "skipped", "status"}


def test_every_status_the_code_sets_is_in_the_table():
    missing = _statuses_in_code() - set(STATUSES) - {"ok"}
    assert not missing, f"statuses without a line in grader/record/flags.py: {missing}"


def test_an_unknown_flag_is_not_described_but_still_needs_attention():
    from grader.record.flags import needs_attention

    assert describe_flag("renamed:hw1.ipynb").en.startswith("The notebook had another name")
    assert describe_flag("made_up_by_a_student") is None
    assert needs_attention("made_up_by_a_student") and not needs_attention("late")
    assert flag_name("timeout:test_x") == "timeout"


@pytest.mark.parametrize("half", ["en", "zh"])
def test_the_readme_has_the_table_in_both_halves(half):
    from grader.record.flags import markdown_table

    text = (REPO / "README.md").read_text(encoding="utf-8")
    english, chinese = text.split("# 从零实现神经网络", 1)
    part = english if half == "en" else chinese
    assert markdown_table(half) in part, "README: paste `markdown_table()` (see grader/record/flags.py)"


def test_grade_help_lists_every_flag_and_status(capsys):
    from grader.cli import main

    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    text = capsys.readouterr().out
    for flag in FLAGS.values():
        assert flag.form in text, flag.form
    for status in STATUSES:
        assert f"{status}:" in text, status
