"""`python -m grader check` and `status`: the grade of record's engine on a learner's own
notebooks (issue #21). Perceptron notebooks only: they grade in about a second."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from grader import notebooks
from grader.course.demo import expected_score
from grader.course.samples import samples_for
from grader.course.selfcheck import check_one, check_path
from grader.course.status import CACHE, course_map, render

PERCEPTRON = "01_perceptron"


def _sample(kind: str):
    return next(s for s in samples_for(PERCEPTRON) if s.student == kind)


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_renamed_notebook_outside_its_folder_is_recognised_and_graded(tmp_path, capsys):
    wrong = _sample("partly_wrong")
    path = tmp_path / "Downloads" / "Copy of perceptron (2).ipynb"
    notebooks.write_clean(wrong.notebook, path)
    before = _tree(tmp_path)
    assert check_path(path) == 1  # not full marks: exit status 1
    out = capsys.readouterr().out
    assert "recognised by its cells as 01_perceptron/perceptron.ipynb" in out
    assert "根据其单元格" in out
    total = sum(float(notebooks.nbgrader_meta(c)["points"]) for c in wrong.notebook.cells
                if notebooks.is_test_cell(c))
    expected = expected_score(wrong)
    assert f"Not full marks yet: {expected:g} / {total:g}" in out
    assert _tree(tmp_path) == before  # nothing written next to the learner's files


def test_check_prints_a_line_per_exercise_as_it_goes_then_the_table(tmp_path, capsys):
    perfect = _sample("perfect")
    notebooks.write_clean(perfect.notebook, tmp_path / PERCEPTRON / perfect.notebook_name)
    seen = []
    done = check_one(tmp_path / PERCEPTRON / perfect.notebook_name, on_cell=seen.append)
    assert done.full and [c.grade_id for c in seen] == [c.grade_id for c in done.cells]
    assert seen[0].number == "1.1" and seen[0].title.en == "absorb the bias"
    assert check_path(tmp_path / PERCEPTRON) == 0
    out = capsys.readouterr().out
    total = sum(c.points for c in done.cells)
    progress, table = out.split(f"01_perceptron/perceptron.ipynb: {total:g} / {total:g} points")
    assert "✓ 1.1 absorb the bias" in progress and "✓ 1.8 XOR from perceptrons" in progress
    assert "passed · 通过" in table and "Full marks" in table and "满分" in table
    assert "test_add_bias" not in progress  # the notebook's names, not test ids


def test_the_failure_message_is_the_checks_own_and_bilingual(tmp_path):
    wrong = _sample("partly_wrong")
    path = tmp_path / "perceptron.ipynb"
    notebooks.write_clean(wrong.notebook, path)
    done = check_one(path)
    failed = {c.grade_id: c.message for c in done.cells if c.score < c.points}
    assert set(failed) == set(wrong.fails)
    message = failed[wrong.fails[0]]
    assert "Exercise 1." in message and "练习 1." in message
    assert "[hidden call" not in message


def test_status_maps_the_course_and_grades_a_notebook_only_when_it_changed(tmp_path, monkeypatch):
    from grader.course import selfcheck

    wrong = _sample("partly_wrong")
    notebooks.write_clean(wrong.notebook, tmp_path / PERCEPTRON / wrong.notebook_name)
    blank = next(s for s in samples_for("02_mlp") if s.student == "blank")
    notebooks.write_clean(blank.notebook, tmp_path / "02_mlp" / blank.notebook_name)
    calls = []
    real = selfcheck.check_one
    monkeypatch.setattr(selfcheck, "check_one", lambda *a, **k: calls.append(a) or real(*a, **k))

    states = {s.assignment: s for s in course_map(tmp_path, say=lambda _: None)}
    assert len(calls) == 1  # the blank notebook is "not started" without running anything
    assert states[PERCEPTRON].state == "graded"
    assert states[PERCEPTRON].score == expected_score(wrong)
    assert states["02_mlp"].state == "not_started" and states["03_backprop"].state == "missing"
    text = render(tmp_path, list(states.values()))
    first_failed = min((c for c in states[PERCEPTRON].exercises if not c.passed),
                       key=lambda c: states[PERCEPTRON].exercises.index(c))
    assert f"next: Exercise {first_failed.number}" in text and "下一个：练习" in text
    assert "not started · 尚未开始" in text and "no notebook · 没有 notebook" in text
    assert len(text.splitlines()) <= 24
    assert max(len(line) for line in text.splitlines() if str(tmp_path) not in line) <= 110
    assert f"python -m grader check {tmp_path / PERCEPTRON}" in text

    course_map(tmp_path, say=lambda _: None)
    assert len(calls) == 1  # unchanged: read from FOLDER/.nnfs-status, not graded again
    cached = json.loads((tmp_path / CACHE / f"{PERCEPTRON}.json").read_text(encoding="utf-8"))
    assert cached["state"] == "graded"

    perfect = _sample("perfect")
    notebooks.write_clean(perfect.notebook, tmp_path / PERCEPTRON / perfect.notebook_name)
    states = {s.assignment: s for s in course_map(tmp_path, say=lambda _: None)}
    assert len(calls) == 2 and states[PERCEPTRON].next is None  # changed: graded again


@pytest.mark.parametrize("kind", ["perfect"])
def test_check_and_status_agree(tmp_path, kind):
    sample = _sample(kind)
    path = tmp_path / PERCEPTRON / sample.notebook_name
    notebooks.write_clean(sample.notebook, path)
    checked = check_one(path)
    state = next(s for s in course_map(tmp_path, say=lambda _: None) if s.assignment == PERCEPTRON)
    assert [(e.grade_id, e.score) for e in state.exercises] == \
        [(c.grade_id, c.score) for c in checked.cells]


def test_check_says_the_written_answer_is_graded_by_hand_and_whether_it_is_blank(tmp_path,
                                                                                  capsys):
    perfect = _sample("perfect")
    path = tmp_path / PERCEPTRON / perfect.notebook_name
    notebooks.write_clean(perfect.notebook, path)
    assert check_path(path) == 0
    answered = capsys.readouterr().out
    nb = notebooks.read(path)
    answer = next(c for c in nb.cells if notebooks.is_solution_cell(c) and
                  notebooks.nbgrader_meta(c).get("grade"))
    answer.source = "YOUR ANSWER HERE · 在这里写你的答案"
    notebooks.write_clean(nb, path)
    assert check_path(path) == 0  # the autograded part is still full: the exit status says so
    blank = capsys.readouterr().out
    for out in (answered, blank):
        assert "Full marks on everything graded here." in out and "Full marks. " not in out
        assert "Written answers are graded by hand, not here" in out and "文字作答由人工评分" in out
    assert "Question 1.4 · written answer (2 points): answered." in answered
    assert "Question 1.4 · written answer (2 points): still blank." in blank
    assert "问题 1.4 · 文字作答（2 分）：仍是空白" in blank


def test_check_says_where_the_instructor_will_not_find_a_written_answer(tmp_path, capsys):
    """An answer pasted into a new cell (metadata lost) or into a copy of its cell is not
    where formgrader looks: ``check`` says so instead of "still blank"."""
    perfect = _sample("perfect")
    path = tmp_path / PERCEPTRON / perfect.notebook_name
    nb = copy.deepcopy(perfect.notebook)
    answer = next(c for c in nb.cells if notebooks.is_solution_cell(c) and
                  notebooks.nbgrader_meta(c).get("grade"))
    copied = copy.deepcopy(answer)
    copied["id"] = "my-copy"
    answer.source = "YOUR ANSWER HERE · 在这里写你的答案"
    nb.cells.insert(nb.cells.index(answer) + 1, copied)
    notebooks.write_clean(nb, path)
    check_path(path)
    twice = capsys.readouterr().out
    assert "two cells are its answer cell (a copy); only the first is read, and it is blank" \
        in twice and "只读取第一个，而它是空白的" in twice
    nb.cells.remove(answer)
    del copied.metadata["nbgrader"]  # pasted into a new cell
    notebooks.write_clean(nb, path)
    check_path(path)
    lost = capsys.readouterr().out
    assert "its answer cell is not in your notebook" in lost
    assert "老师在那里找不到你的回答" in lost and "still blank" not in lost


def test_a_failure_of_the_checker_itself_is_one_bilingual_line_not_a_traceback(
        tmp_path, capsys, monkeypatch):
    from grader.course import selfcheck

    perfect = _sample("perfect")
    path = tmp_path / PERCEPTRON / perfect.notebook_name
    notebooks.write_clean(perfect.notebook, path)

    def broken(*args, **kwargs):
        raise AttributeError("'list' object has no attribute 'splitlines'")

    monkeypatch.setattr(selfcheck, "check_one", broken)
    assert check_path(path) == 2
    err = capsys.readouterr().err
    assert "Could not check" in err and "无法检查" in err and "Traceback" not in err
