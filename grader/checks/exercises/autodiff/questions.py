"""Assignment 04's auto-graded questions · 作业 04 的自动评分问题.

Each keeps the salted digests of its accepted answers and of known wrong ones (with a hint),
never the answers themselves (:mod:`grader.checks.questions`); a digest is printed by
``python -m grader.checks.questions ID KIND ANSWER [CHOICES]``.
"""

from __future__ import annotations

from grader.checks import messages as M
from grader.checks.exercises import register
from grader.checks.questions import Question

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

register(Question(
    id="q4_1",
    title_en="Question 4.1 · a node used twice",
    title_zh="问题 4.1 · 被使用两次的节点",
    assignment=ASSIGNMENT,
    kind="number",
    answers=("02b502fcbf069485357a6e0be0aa31335db8d3b7038f32dd9d385ff54ee54ef7",),
    hints={
        "7fbe814c7f258b48b18c94318cff07bf168216d5951e01cd2c8b4f31be9bf933": "q4_1_hint_plus_missing",
        "05e2598e22f0ce498cdc39dcc7cc5d480038799673c41b57aac864d10be86528": "q4_1_hint_product_once",
        "fe602bde45d90ff1343901271e3ac100366a8cd2980947edb88c0af147319709": "q4_1_hint_product_once",
        "ce6d7271c40ed380d0467de02d6708ad5b3a626faabe65bea5878e898339e123": "q4_1_hint_only_plus",
        "a3a2bb1efc229c3ba25634582906cff86f454977c611378dcebc5eca80ed544a": "q4_1_hint_value",
    },
))

register(Question(
    id="q4_2",
    title_en="Question 4.2 · which mode?",
    title_zh="问题 4.2 · 用哪种模式？",
    assignment=ASSIGNMENT,
    kind="choice",
    choices="abcd",
    answers=("b41fc0843ef881c3bf198fdff4c316f15ff036d222f0453b9a9ecdae5b790891",),
    hints={
        "5e22638f5ee5983e089194d45e72874abd1eeb9d11093404ae43c29bdc9fae1d": "q4_2_hint_reverse",
        "c2162e6cfe4158e4dfac4bba6d293dbaa793faa6ab064fa3218355eff524ba3d": "q4_2_hint_reverse",
        "82fcafda41734ecfad40393059624f647bddef437b3f3cc52887d7261b3b240c": "q4_2_hint_same",
    },
))

register(Question(
    id="q4_3",
    title_en="Question 4.3 · which axes?",
    title_zh="问题 4.3 · 沿哪些维度求和？",
    assignment=ASSIGNMENT,
    kind="choice",
    choices="abcd",
    answers=("1e237a12abd11a3760e607bfbe260969ee5e92a9599715943cac3696f02c3cb5",),
    hints={
        "0b983f30c26042864c9a9fc74f1769a6445f1b9fb3072655daaaf5a5ac10c9b0": "q4_3_hint_front_only",
        "e8d1adab5ec3e1617e84e14ec469d1bbab41aa6011e6b734b32f4bbf1497cc2b": "q4_3_hint_size_one_only",
        "bfa10e037ea30ad6a658d64e23e2b030ed12cca7625c1df061eddb9f33c9130f": "q4_3_hint_all",
    },
))

register(Question(
    id="q4_4",
    title_en="Question 4.4 · memory and the batch size",
    title_zh="问题 4.4 · 内存与批量大小",
    assignment=ASSIGNMENT,
    kind="number",
    answers=("601ef4ff9418b9afe7b0958d35ec81d5071ed3a5b5c3daafd73c9f0241c05df8",),
    hints={
        "fc01e38246dc9df14b0a44b5ee25765cb906a83ad5da7feba02d29a7a9839af1": "q4_4_hint_constant",
        "e2c863aa882eff2d5bef6a3b3f79e6e66508489734ee17eac580a1e05017e5cb": "q4_4_hint_square",
    },
))
