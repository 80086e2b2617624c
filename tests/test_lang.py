"""One-language copies (``python -m grader lang``) keep every graded cell and grade the same."""

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from grader import notebooks
from grader.cli import main as cli_main
from grader.course.lang import cut_line, one_language, segment_language, write_copies
from grader.course.samples import samples_for
from grader.course.selfcheck import check_notebook
from grader.paths import COURSE

COURSE_NOTEBOOKS = sorted(COURSE.glob("*/*.ipynb"))
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _id(path: Path) -> str:
    return path.parent.name


# --- cutting a bilingual line ------------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "en", "zh"),
    [
        ("## 2. Backpropagation · 反向传播", "## 2. Backpropagation", "## 2. 反向传播"),
        ("## Summary · 小结", "## Summary", "## 小结"),
        ("### Exercise 2.1 · `softmax` · 练习 2.1",
         "### Exercise 2.1 · `softmax`", "### 练习 2.1 · `softmax`"),
        ("### Exercise 6.1 · reconstruction loss · 练习 6.1 · 重建损失",
         "### Exercise 6.1 · reconstruction loss", "### 练习 6.1 · 重建损失"),
        ("# 02 · From XOR to the MLP · 从异或到多层感知机",
         "# 02 · From XOR to the MLP", "# 02 · 从异或到多层感知机"),
        ("## 6. The δ view · δ 视角", "## 6. The δ view", "## 6. δ 视角"),
        ("## 4. Output layers: softmax · 输出层:softmax",
         "## 4. Output layers: softmax", "## 4. 输出层:softmax"),
    ],
)
def test_cut_line_keeps_one_language_and_the_shared_parts(line, en, zh):
    assert cut_line(line, "en") == en
    assert cut_line(line, "zh") == zh


def test_cut_line_drops_a_title_line_of_the_other_language():
    assert cut_line("# Assignment 1 · The perceptron", "zh") is None
    assert cut_line("# 作业 1 · 感知机", "en") is None
    assert cut_line("# Assignment 1 · The perceptron", "en") == "# Assignment 1 · The perceptron"


def test_cut_line_keeps_lines_without_a_separator():
    for line in ("$$L = \\frac1N \\sum_n \\ell_n$$", "| `X` | (N, num_inputs) |", ""):
        assert cut_line(line, "en") == line
        assert cut_line(line, "zh") == line


def test_segment_language_ignores_code_and_math():
    assert segment_language("`collapse_affine`") is None
    assert segment_language("$x_1$ 与 $x_2$") == "zh"
    assert segment_language("02") is None
    assert segment_language("L1 稀疏惩罚") == "zh"


def test_one_language_rejects_an_unknown_language():
    with pytest.raises(ValueError):
        one_language(notebooks.read(COURSE_NOTEBOOKS[0]), "fr")


# --- every course notebook -----------------------------------------------------------------

@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=_id)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_language_copy_keeps_every_code_cell_byte_for_byte(path, lang):
    nb = notebooks.read(path)
    copy = one_language(nb, lang)
    original_code = [c for c in nb.cells if c.cell_type == "code"]
    copied_code = [c for c in copy.cells if c.cell_type == "code"]
    assert copied_code == original_code  # source, id, nbgrader metadata and checksums
    graded = [notebooks.grade_id(c) for c in copy.cells if notebooks.grade_id(c)]
    assert graded == [notebooks.grade_id(c) for c in nb.cells if notebooks.grade_id(c)]


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=_id)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_language_copy_has_no_prose_of_the_other_language(path, lang):
    nb = notebooks.read(path)
    copy = one_language(nb, lang)
    other = "zh" if lang == "en" else "en"
    tags = [notebooks.language_tag(c) for c in copy.cells if c.cell_type == "markdown"]
    assert other not in tags
    assert tags.count(lang) == sum(notebooks.language_tag(c) == lang for c in nb.cells)
    for cell in copy.cells:
        if notebooks.language_tag(cell) != "both":
            continue
        for line in cell.source.splitlines():
            if " · " not in line:
                continue
            kinds = {segment_language(part) for part in re.split(r"\s+·\s+", line)} - {None}
            assert kinds <= {lang}, f"{line!r} still has {other} text"
        if lang == "en":
            headings = [ln for ln in cell.source.splitlines() if ln.startswith("#")]
            assert not any(_CJK.search(h) for h in headings), cell.source


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=_id)
def test_every_bilingual_heading_keeps_its_text_in_both_copies(path):
    nb = notebooks.read(path)
    en, zh = one_language(nb, "en"), one_language(nb, "zh")
    both = [c for c in nb.cells if notebooks.language_tag(c) == "both"]
    en_both = [c for c in en.cells if notebooks.language_tag(c) == "both"]
    zh_both = [c for c in zh.cells if notebooks.language_tag(c) == "both"]
    # a heading cell never disappears: a reader of either language sees every section
    assert len(en_both) == len(zh_both) == len(both)
    for cell in zh_both:
        for line in cell.source.splitlines():
            if line.startswith("#"):
                assert _CJK.search(line), f"Chinese copy has an English-only heading {line!r}"


def test_lang_command_writes_one_copy_per_course_notebook(tmp_path, capsys):
    assert cli_main(["lang", "zh", "--out", str(tmp_path / "zh")]) == 0
    written = sorted((tmp_path / "zh").glob("*/*.ipynb"))
    assert [p.relative_to(tmp_path / "zh") for p in written] == [
        p.relative_to(COURSE) for p in COURSE_NOTEBOOKS
    ]
    assert "course" not in {p.name for p in tmp_path.iterdir()}
    first = notebooks.read(written[0])
    assert first.metadata["nnfs"]["language"] == "zh"
    assert "wrote" in capsys.readouterr().out


def test_lang_command_rejects_an_unknown_assignment(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_copies("en", tmp_path, assignments=["99_nothing"])


# --- nobody's work is lost ------------------------------------------------------------------

ANSWER = "# my answer · 我的答案\nx = 42\n"


def _answer(path: Path) -> None:
    nb = notebooks.read(path)
    next(c for c in nb.cells if notebooks.is_solution_cell(c)).source = ANSWER
    path.write_text(nbformat.writes(nb), encoding="utf-8")


def test_lang_builds_from_the_release_never_from_answers_in_course(tmp_path, capsys):
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    first = COURSE_NOTEBOOKS[0].relative_to(COURSE)
    _answer(course / first)
    theirs = (course / first).read_bytes()
    written = write_copies("zh", tmp_path / "zh", course, [first.parts[0]])
    assert (course / first).read_bytes() == theirs  # left as it is
    copy = (tmp_path / "zh" / first).read_bytes()
    assert b"my answer" not in copy
    assert copy == notebooks.dumps_clean(one_language(notebooks.read(COURSE / first), "zh")).encode()
    assert written == [tmp_path / "zh" / first]
    out = capsys.readouterr().out
    assert "differs from the release" in out and "与发布版不同" in out


def test_lang_stops_before_it_would_overwrite_an_edit_and_backup_keeps_it(tmp_path, capsys):
    out = tmp_path / "course-zh"
    first = COURSE_NOTEBOOKS[0].relative_to(COURSE)
    ident = first.parts[0]
    assert cli_main(["lang", "zh", ident, "--out", str(out)]) == 0
    generated = (out / first).read_bytes()
    assert cli_main(["lang", "zh", ident, "--out", str(out)]) == 0  # unchanged: regenerated
    _answer(out / first)
    theirs = (out / first).read_bytes()
    capsys.readouterr()

    assert cli_main(["lang", "zh", ident, "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "Stopped" in err and "已停止" in err and str(first) in err
    assert "python -m grader lang zh --backup" in err
    assert (out / first).read_bytes() == theirs

    assert cli_main(["lang", "zh", ident, "--out", str(out), "--backup"]) == 0
    assert (out / first).read_bytes() == generated
    kept = list((tmp_path / "backups").glob(f"course-zh-*/{first}"))
    assert len(kept) == 1 and kept[0].read_bytes() == theirs


# --- grading a one-language copy -----------------------------------------------------------

def _scores(results):
    return [(r.grade_id, r.score, r.points) for r in results]


@pytest.mark.slow
def test_one_language_copies_of_a_sample_grade_like_the_bilingual_notebook(tmp_path):
    samples = {s.student: s for s in samples_for("01_perceptron")}
    perfect, wrong = samples["perfect"], samples["partly_wrong"]

    def check(nb, folder):
        path = tmp_path / folder / "01_perceptron" / perfect.notebook_name
        notebooks.write_clean(nb, path)
        results, fatal = check_notebook(path)
        assert fatal is None
        return results

    bilingual = check(perfect.notebook, "both")
    assert _scores(check(one_language(perfect.notebook, "zh"), "zh")) == _scores(bilingual)
    assert sum(r.score for r in bilingual) == sum(r.points for r in bilingual) > 0

    # a wrong answer fails the same cells in the English copy, and the message stays bilingual
    results = check(one_language(wrong.notebook, "en"), "en")
    failed = sorted(r.grade_id for r in results if r.score < r.points)
    assert failed == sorted(wrong.fails)
    message = next(r.message for r in results if r.grade_id == wrong.fails[0])
    assert "Exercise" in message and "练习" in message


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_grade_of_record_knows_the_instructions_of_a_one_language_copy(language):
    """formgrader renders only the instructor's own markdown (a student's is shown as text):
    a submission made from a one-language copy keeps its instructions rendered too."""
    from grader.record.autograded import inert_text
    from grader.record.source import load_assignment

    for path in COURSE_NOTEBOOKS:
        book = next(b for b in load_assignment(path.parent.name).notebooks
                    if b.name == path.name)
        copy_ = one_language(notebooks.read(path), language)
        for cell in copy_.cells:
            if cell.cell_type == "markdown" and notebooks.nbgrader_meta(cell).get("grade") is None:
                before = cell.source
                inert_text(cell, book.markdown)
                assert cell.source == before, (path.name, before[:80])
