"""5.0 the layers of Assignment 3, checked again, and the notebook's questions · 作业 3 的层与问题.

Assignment 5 builds on the layers and the gradient checker a student wrote in Assignment 3;
the notebook prints none of them (they are Assignment 3's answers). The student pastes
their own, and Exercise 5.0 runs Assignment 3's own checks on them again, with the same
literal data as Assignment 3's visible checks for seed 0 (so the release finds their
recorded values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grader.checks import messages as M
from grader.checks.compare import Case, report_pass
from grader.checks.exercises import register
from grader.checks.exercises.training.common import ASSIGNMENT
from grader.checks.questions import questions
from grader.checks.specs import Exercise, numbered

M.register(
    {
        "q5_1_flat": (
            "That is the ceiling of the flat direction (curvature 1). One learning rate "
            "serves both directions, and the steep one (curvature 25) sets the limit.",
            "这是平缓方向（曲率 1）的上限。两个方向共用一个学习率，陡峭的方向（曲率 25）"
            "决定了上限。",
        ),
        "q5_1_one_step": (
            "That is 1/λ, the step that lands on the minimum at once. Convergence only needs "
            "|1 - ηλ| < 1, so η may go up to 2/λ.",
            "这是 1/λ，也就是一步恰好落到极小值处的步长。收敛只要求 |1 - ηλ| < 1，"
            "所以 η 可以一直到 2/λ。",
        ),
        "q5_2_no_correction": (
            "That is the first step without bias correction: m = 0.1 g and sqrt(v) = "
            "sqrt(0.001) |g|. With the correction, m_hat = g and sqrt(v_hat) = |g|.",
            "这是没有偏差修正时的第一步：m = 0.1 g，sqrt(v) = sqrt(0.001) |g|。"
            "做了偏差修正之后，m_hat = g，sqrt(v_hat) = |g|。",
        ),
        "q5_2_m_only": (
            "0.1 g is m before the correction. After it, m_hat = g, and the step divides it "
            "by sqrt(v_hat) = |g|.",
            "0.1 g 是修正之前的 m。修正之后 m_hat = g，而这一步还要除以 sqrt(v_hat) = |g|。",
        ),
        "q5_3_relu": (
            "That is the factor of the linear layer alone, 0.01 * sqrt(256). ReLU then "
            "halves the second moment of the signal: one more factor 1/sqrt(2) on its scale.",
            "这只是线性层的倍数 0.01 * sqrt(256)。ReLU 随后让信号的二阶矩减半："
            "尺度还要再乘一个 1/sqrt(2)。",
        ),
        "q5_3_half": (
            "ReLU halves the second moment (the variance of a zero-mean signal), so the "
            "standard deviation shrinks by 1/sqrt(2), not by 1/2.",
            "ReLU 让二阶矩（均值为零的信号的方差）减半，所以标准差缩小为 1/sqrt(2) 倍，"
            "而不是 1/2。",
        ),
        "q5_3_variance": (
            "That is the factor of the variance; the question asks for the standard "
            "deviation, its square root.",
            "这是方差的倍数；题目问的是标准差，也就是它的平方根。",
        ),
        "q5_4_best": (
            "Epoch 3 has the best loss (0.7): its parameters are the ones restored. Training "
            "goes on until `patience` epochs in a row have not improved on it.",
            "第 3 轮的损失最好（0.7），恢复的是它的参数。训练会一直进行，直到连续 `patience` "
            "轮都没有超过它。",
        ),
        "q5_4_early": (
            "After epoch 4 only one epoch has gone by without an improvement; with patience "
            "2 training needs two in a row.",
            "第 4 轮之后只有一轮没有改善；patience 为 2 时需要连续两轮。",
        ),
        "q5_4_late": (
            "After epoch 5 two epochs in a row (4 and 5) have not improved on epoch 3, so "
            "training stops there and never runs epoch 6.",
            "第 5 轮之后已经连续两轮（第 4、5 轮）没有超过第 3 轮，所以训练在那里停止，"
            "不会再跑第 6 轮。",
        ),
    }
)


#: The shapes each Assignment 3 check gets: those of Assignment 3's visible checks, so that
#: the release (which reads those checks' recorded values) can run seed 0 here too.
SHAPES = {"affine": [(4, 3, 2)], "relu": [(4, 5)], "softmax_ce_loss": [(4, 3)],
          "numerical_gradient": [(3,)], "relative_error": [(5,)]}


@dataclass
class Assignment3Layers(Exercise):
    """The student's affine and ReLU layers, softmax cross-entropy, numerical gradient and
    relative error, through the checks of Assignment 3 (each prints its own line)."""

    def run(self, affine_forward: Any, affine_backward: Any, relu_forward: Any,
            relu_backward: Any, softmax_cross_entropy: Any, numerical_gradient: Any,
            relative_error: Any, *, seeds: Sequence[int]) -> None:
        __tracebackhide__ = True
        from grader.checks import api

        seeds = list(seeds)
        api.check_layer("affine", affine_forward, affine_backward, seeds=seeds,
                        shapes=SHAPES["affine"])
        api.check_layer("relu", relu_forward, relu_backward, seeds=seeds, shapes=SHAPES["relu"])
        api.check_loss("softmax_ce_loss", softmax_cross_entropy, seeds=seeds,
                       shapes=SHAPES["softmax_ce_loss"])
        api.check("numerical_gradient", numerical_gradient, seeds=seeds,
                  shapes=SHAPES["numerical_gradient"])
        api.check_function("relative_error", relative_error, seeds=seeds,
                           shapes=SHAPES["relative_error"])
        report_pass(self.title, len(SHAPES))

    def make_cases(self, **literal: Any) -> list[Case]:  # its cases are Assignment 3's
        return []


register(Assignment3Layers(
    id="layers_from_03",
    **numbered("5.0", "your layers from Assignment 3", "作业 3 中你写的层", ASSIGNMENT),
))

# ------------------------------------------------------------------------ questions
# Digests (grader/checks/digests/05_training.json): python -m grader.checks.questions <id>
# number <answer> (two significant digits).

for question in questions(ASSIGNMENT):
    register(question)
