"""Chinese prose uses full-width punctuation; code and shapes keep ASCII (STYLE.md).

The checker (:mod:`grader.course.punctuation`) is tested on the defects that were found in
the notebooks (issue #20), written here as inputs, and on the right forms next to them;
then it runs over every notebook of solutions/ and course/ and every Chinese message.
"""

import pytest

from grader import notebooks
from grader.checks import exercises
from grader.checks import messages as M
from grader.course.punctuation import (
    convert_module,
    convert_prose,
    convert_text_notebook,
    notebook_texts,
    problems,
)
from grader.paths import COURSE, SOLUTIONS

NOTEBOOKS = sorted(SOLUTIONS.glob("*/*.ipynb")) + sorted(COURSE.glob("*/*.ipynb"))

# ------------------------------------------------------------------ the defects, as found

DEFECTS = {
    # half-width punctuation right after (or before) Chinese text
    "colon after Chinese": ("half-width", "反向传播的规则如下:每个节点把梯度传下去。"),
    "bracket after Chinese": ("half-width", "先训练 XOR(任何线性模型都分不开的四个点），再训练双月。"),
    "comma between Chinese": ("half-width", "把上游梯度乘以局部导数,再往下传。"),
    "semicolon between Chinese": ("half-width", "既是近似的又很慢;自动微分则精确到舍入误差。"),
    "question mark after Chinese": ("half-width", "为什么不能用梯度训练多层感知机?"),
    "full stop after Chinese": ("half-width", "这就是反向传播."),
    "ASCII quotes in Chinese": ("half-width", '当总和超过阈值时神经元就"放电"。'),
    "bold Chinese then colon": ("half-width", "**学习目标**:完成后你能够"),
    # brackets and quotes closed by the other kind, or never
    "（ closed by )": ("unbalanced", "见下一节（那里有完整的例子)。"),
    "「（…)」": ("unbalanced", "「（见下文)」"),
    "） without （": ("unbalanced", "这一步很重要）。"),
    "“ never closed": ("unbalanced", "所谓“反广播，就是把广播的维度求和。"),
    "（ never closed": ("unbalanced", "神经元（neuron 是网络的基本单元。"),
    # full-width punctuation inside code, which a reader copies
    "shape written (M，)": ("code", "形状为 (M，) 的偏置被加到每一行上。"),
    "shape written （N，C）": ("code", "logits 的形状是（N，C），每行一个样本。"),
    "shape in backticks": ("code", "偏置 `b` 的形状为 `(M，)`。"),
    "code span with a full-width comma": ("code", "用 `np.where(z > 0，1.0，alpha)` 即可。"),
    "call in prose with a full-width comma": ("code", "调用 np.maximum(z，0) 即可。"),
    "def with a full-width colon in an indented block": (
        "code", "闭包写法如下：\n\n    def _backward()：\n        self.grad += out.grad\n"),
    "def with a full-width colon in prose": ("code", "先写 def _backward()：\n然后返回。"),
    "fenced code with a full-width colon": (
        "code", "例如：\n\n```python\nfor x in xs：\n    print(x)\n```\n"),
}

RIGHT = {
    "shape in backticks": "偏置 `b` 的形状为 `(M,)`，输出的形状为 `(N, M)`。",
    "shape in prose": "形状为 (N, C) 的矩阵，以及形状为 (M,) 的向量。",
    "shape in full-width brackets": "隐藏空间（h1, h2）中的四个点。",
    "an English term in full-width brackets": "反向传播（backpropagation）是一种算法。",
    "a call then a full-width colon": "调用 `np.where(z > 0, 1.0, alpha)`：它逐元素选择。",
    "a call in prose": "用 np.maximum(z, 0) 计算 ReLU，再用 np.exp(-np.abs(z)) 求指数。",
    "a half-open interval": "sigmoid 的取值在 [0, 1) 之间，ReLU 的取值在 [0, ∞) 之间。",
    "math with ASCII punctuation": "其中 $f(x) = \\max(0, x)$，而 $y \\in \\{-1, +1\\}$。",
    "display math ending the sentence": "两层合并为\n\n$$W = W_1 W_2, \\quad b = b_1 W_2 + b_2。$$\n",
    "strings in code keep their punctuation": '例如 `label("epoch", "轮次（共 30 轮）")`。',
    "a Chinese comment in fenced code": "```python\nz = w * x + b  # 计算，并保存\n```\n",
    "placeholders": "✓ {exercise}：全部 {count} 项检查通过。",
    "curly quotes": "当总和超过阈值时神经元就“放电”。",
    "HTML of a folded hint": "<details><summary>提示 1</summary>\n\n先求导。\n\n</details>",
    "a bilingual label before English": "**Answer · 答案.** In the plain stack every block",
    "a list of choices": "在 $x = 3$ 处 $df/dx$ 等于多少？\n\n(a) 3 (b) 6 (c) 9 (d) 1\n",
    "an English sentence": "Keep float64 everywhere (no float32): the check needs 1e-15.",
    "a code line of an indented block": "例如：\n\n    out = np.where(x > 0, x, alpha * x)\n",
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_defect_is_found(name):
    kind, text = DEFECTS[name]
    found = problems(text)
    assert [p for p in found if p.kind == kind], (name, [str(p) for p in found])


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_the_right_forms_pass(name):
    assert problems(RIGHT[name]) == [], [str(p) for p in problems(RIGHT[name])]


def test_the_normaliser_never_touches_code_or_shapes():
    """It used to turn (M,) into (M，) and a code line's colon into ：."""
    for text in ("形状为 (M,) 的偏置", "形状为 `(M,)`", "调用 np.where(z > 0, a, b)，然后",
                 "logits 的形状是 (N, C)", "例如：\n\n    def _backward():\n        pass\n",
                 "例如 `x[:, 0]`：第一列"):
        assert convert_prose(text) == text, text


@pytest.mark.parametrize("wrong,right", [
    ("反向传播(backpropagation)是", "反向传播（backpropagation）是"),
    ("如下:", "如下："),
    ("乘以局部导数,再往下传;然后", "乘以局部导数，再往下传；然后"),
    ('神经元就"放电"。', "神经元就“放电”。"),
    ("为什么?", "为什么？"),
    ("**学习目标**:完成后", "**学习目标**：完成后"),
    ("先训练 XOR(任何线性模型都分不开)", "先训练 XOR（任何线性模型都分不开）"),
])
def test_the_normaliser_fixes_prose(wrong, right):
    assert convert_prose(wrong) == right
    assert problems(right) == []


def test_the_normaliser_works_on_text_notebooks_and_modules():
    text = ("# %% [markdown] en\n# As follows: (M,)\n\n# %% [markdown] zh\n# 如下:形状为 (M,)\n"
            "#\n#     def f():\n#         pass\n")
    fixed = convert_text_notebook(text)
    assert "# 如下：形状为 (M,)" in fixed and "#     def f():" in fixed
    assert "# As follows: (M,)" in fixed  # English cells are not touched
    source = 'X = ("如下:", "as follows:")\n'
    assert convert_module(source) == 'X = ("如下：", "as follows:")\n'


# ------------------------------------------------------------- the notebooks and messages


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_chinese_text_of_every_notebook(path):
    """zh cells, cells shared by both languages, and the Chinese strings of figures."""
    bad = [f"{where}: {problem}" for where, text in notebook_texts(notebooks.read(path))
           for problem in problems(text)]
    assert not bad, ("Chinese punctuation (python -m grader.course.punctuation check "
                     f"{path.parent}):\n" + "\n".join(bad[:15]))


def _import_every_module():
    """Modules register their messages on import: load them all."""
    import importlib
    import pkgutil

    import grader

    exercises.all_exercises()
    # every module of every sub-package (grader.record.collect, …), not only the top level
    for info in pkgutil.walk_packages(grader.__path__, "grader."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def test_chinese_messages():
    _import_every_module()
    bad = [f"{key}: {problem}" for key, entry in sorted(M.CATALOGUE.items())
           for problem in problems(entry.zh)]
    assert not bad, "\n".join(bad[:15])


def test_exercise_titles():
    for ident, spec in exercises.all_exercises().items():
        assert problems(spec.title_zh) == [], (ident, spec.title_zh)
