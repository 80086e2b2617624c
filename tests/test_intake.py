"""Reading damaged notebooks: every form is repaired and flagged, or rejected with a reason.

Fast unit tests of grader.record.intake; tests/test_grade_class.py grades such notebooks end to end.
"""

import json

import pytest

from grader.record.intake import Rejected, read_submission

V4 = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}}
CODE = {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [],
        "execution_count": None}


def _read(tmp_path, content):
    path = tmp_path / "hw.ipynb"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return read_submission(path)


@pytest.mark.parametrize("content, english, chinese", [
    ("", "empty file", "空文件"),
    ('{"cells": [', "not valid JSON", "不是有效的 JSON"),
    ("[" * 50_000 + "]" * 50_000, "nested too deeply", "不是 Jupyter notebook"),
    ('{"a": 1}', "not a Jupyter notebook", "不是 Jupyter notebook"),
    ('{"cells": [], "nbformat": 2}', "notebook format 2", "无法读取"),
    ('{"nbformat": 4, "cells": [{"cell_type": "code", "metadata": {"x": ' + "[" * 30_000
     + "]" * 30_000 + "}}]}", "nested too deeply", "不是 Jupyter notebook"),
])
def test_unreadable_notebooks_are_rejected_in_both_languages(tmp_path, content, english, chinese):
    with pytest.raises(Rejected) as info:
        _read(tmp_path, content)
    assert english in info.value.message and chinese in info.value.message


@pytest.mark.parametrize("cells", [
    5,
    {"a": 1},
    [7, CODE],
    [{**CODE, "source": 42}],
    [{**CODE, "metadata": ["x"]}],
    [{**CODE, "metadata": {"tags": "setup"}}],
    [{**CODE, "cell_type": "widget"}],
    [{**CODE, "outputs": None}],
])
def test_damaged_structure_is_repaired_and_flagged(tmp_path, cells):
    nb, flags = _read(tmp_path, json.dumps({**V4, "cells": cells}))
    assert "repaired_structure" in flags
    assert all(isinstance(c.source, str) and isinstance(c.metadata, dict) for c in nb.cells)


def test_a_valid_notebook_reads_without_flags_and_without_outputs(tmp_path):
    cell = {**CODE, "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi"}]}
    nb, flags = _read(tmp_path, json.dumps({**V4, "cells": [cell]}))
    assert flags == [] and nb.cells[0].outputs == []


def test_gbk_and_stray_bytes(tmp_path):
    text = json.dumps({**V4, "cells": [{**CODE, "source": "# 感知机的学习算法，逐个样本更新权重"}]},
                      ensure_ascii=False)
    nb, flags = _read(tmp_path, text.encode("gb18030"))
    assert flags == ["encoding:gb18030"] and "感知机" in nb.cells[0].source
    nb, flags = _read(tmp_path, text.encode("utf-8").replace("权".encode(), b"\xff"))
    assert flags == ["encoding:invalid_bytes"] and "感知机" in nb.cells[0].source
