"""Assignment 04's auto-graded questions · 作业 04 的自动评分问题.

The salted digests of their accepted answers and of known wrong ones (each with a hint
below), never the answers themselves, are in ``grader/checks/digests/04_autodiff.json``
(:mod:`grader.checks.questions`); a digest is printed by
``python -m grader.checks.questions ID KIND ANSWER [CHOICES]``.
"""

from __future__ import annotations

from grader.checks import messages as M
from grader.checks.exercises import register
from grader.checks.questions import questions

ASSIGNMENT = "04_autodiff"

M.register(
    {
        "q4_1_hint_product_once": (
            "`a * a` uses `a` twice: each use contributes to `a.grad`, so the product alone "
            "gives 2a, and `+ a` adds one more contribution.",
            "`a * a` 使用了 `a` 两次：每次使用都对 `a.grad` 有贡献，所以仅乘积一项就给出 2a，"
            "`+ a` 还要再加一份贡献。",
        ),
        "q4_1_hint_plus_missing": (
            "The product gives 2a, but `L` also adds `a` itself: that use contributes 1 more.",
            "乘积一项给出 2a，但 `L` 还加上了 `a` 本身：这次使用再贡献 1。",
        ),
        "q4_1_hint_only_plus": (
            "The product `a * a` also depends on `a`: its contribution is not zero.",
            "乘积 `a * a` 同样依赖于 `a`：它的贡献不是零。",
        ),
        "q4_1_hint_value": (
            "That is the value of `L`, not its derivative with respect to `a`.",
            "这是 `L` 的值，而不是它对 `a` 的导数。",
        ),
        "q4_2_hint_reverse": (
            "One reverse pass gives the gradient of one output, one row of the Jacobian: "
            "10,000 outputs need 10,000 backward passes.",
            "一次反向遍历给出一个输出的梯度，也就是雅可比矩阵的一行：10,000 个输出需要 10,000 次"
            "反向遍历。",
        ),
        "q4_2_hint_same": (
            "Count the passes: forward mode needs one per input, reverse mode one per output.",
            "数一数遍历次数：前向模式每个输入一次，反向模式每个输出一次。",
        ),
        "q4_3_hint_front_only": (
            "Broadcasting also copied `c` along the last axis, where `c` has size 1 and `x` "
            "has 3: that axis is summed too (keeping its size 1).",
            "广播还沿最后一个维度复制了 `c`：在那里 `c` 的大小是 1，而 `x` 是 3，所以这个维度也要"
            "求和（并保留大小 1）。",
        ),
        "q4_3_hint_size_one_only": (
            "`c` has 2 axes and `x` has 3: broadcasting added one in front and copied `c` "
            "along it, so that axis is summed too.",
            "`c` 有 2 个维度，`x` 有 3 个：广播在前面新增了一个维度，并沿它复制了 `c`，所以这个"
            "维度也要求和。",
        ),
        "q4_3_hint_all": (
            "`c` has 5 entries along axis 1, like `x`: nothing was copied there, and its "
            "gradient keeps those 5 entries.",
            "`c` 在维度 1 上有 5 个元素，与 `x` 相同：那里没有发生复制，它的梯度保留这 5 个元素。",
        ),
        "q4_4_hint_constant": (
            "The parameters take the same space at every batch size, but the stored "
            "activations have one row per example.",
            "参数占用的空间与批量大小无关，但保存的激活值每个样本各占一行。",
        ),
        "q4_4_hint_square": (
            "Each stored array has one row per example and a fixed number of columns: "
            "nothing in an MLP's forward pass grows with the square of the batch size.",
            "每个保存的数组每个样本一行、列数固定：MLP 的前向传播中没有任何东西随批量大小的平方增长。",
        ),
    }
)

for question in questions(ASSIGNMENT):
    register(question)
