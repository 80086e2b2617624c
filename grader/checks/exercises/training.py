"""Assignment 05 · 训练: mini-batches, update rules, schedules, initialisation, dropout,
early stopping and a digits MLP.

Update rules are replayed step by step next to ``torch.optim`` on the same
parameters and the same gradient sequence; schedules next to
``torch.optim.lr_scheduler``; dropout against autograd with the student's own
mask (read back from the output) and by its expectation over many draws;
initialisers and the mini-batch iterator by statistics and counting; early
stopping against a trusted NumPy reference on scripted validation losses.
Known wrong answers are replayed too, so that a failure can name the mistake.

Every call to a student function gets plain data (arrays, numbers, dicts,
a fresh ``np.random.Generator``) and returns plain data, with one exception:
the mini-batch iterator receives the same generator for several epochs, so a
proxy that runs student code elsewhere must hand the generator's state back.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import messages as M
from grader.checks import torchref
from grader.checks.compare import (
    Case,
    CheckFailure,
    Tolerance,
    call_student,
    check_inputs_unchanged,
    compare_array,
    compare_value,
    report_pass,
)
from grader.checks.exercises import register
from grader.checks.specs import Exercise, function_name

ASSIGNMENT = "05_training"

M.register(
    {
        # --- shared ----------------------------------------------------------------
        "training_hdr_torch_optim": (
            "`{name}` does not match torch.optim on the same gradients",
            "`{name}` 与 torch.optim 在相同梯度下的结果不一致",
        ),
        "training_hdr_scheduler": (
            "`{name}` does not match the torch learning-rate scheduler",
            "`{name}` 与 torch 学习率调度器的结果不一致",
        ),
        "training_hdr_statistics": (
            "the statistics of `{name}` are off",
            "`{name}` 的统计量不对",
        ),
        "training_not_dict": (
            "`{name}` should be a dict, but your `{function}` returned {found}.",
            "`{name}` 应当是 dict，但你的 `{function}` 返回了 {found}。",
        ),
        "training_returns": (
            "`{function}` should return {expected}; it returned {found}.",
            "`{function}` 应当返回 {expected}；实际返回了 {found}。",
        ),
        "training_same_seed": (
            "Two calls with generators made from the same seed gave different results. "
            "Draw every random number from the `rng` argument, not from `np.random` or a "
            "generator of your own.",
            "用相同种子创建的两个生成器调用两次，结果却不同。所有随机数都应当取自参数 `rng`，"
            "而不是 `np.random` 或你自己新建的生成器。",
        ),
        # --- mini-batch iterator ------------------------------------------------------
        "training_iter_not_pairs": (
            "`{function}` should yield pairs `(X_batch, y_batch)`; item {index} of epoch "
            "{epoch} is {found}.",
            "`{function}` 应当逐个产生 `(X_batch, y_batch)` 二元组；第 {epoch} 轮的第 {index} "
            "项是 {found}。",
        ),
        "training_iter_batch_sizes": (
            "With N={n} examples and batch_size={batch_size}, one epoch has batches of sizes "
            "{expected}; yours had {found}.",
            "N={n} 个样本、batch_size={batch_size} 时，一轮的各批大小应为 {expected}；"
            "你的是 {found}。",
        ),
        "training_iter_coverage": (
            "In epoch {epoch} every example should appear exactly once; {missing} were "
            "missing and {repeated} appeared more than once.",
            "第 {epoch} 轮中每个样本应当恰好出现一次；有 {missing} 个缺失，{repeated} 个重复出现。",
        ),
        "training_iter_pairing": (
            "In epoch {epoch}, batch {batch}: the rows of X_batch do not belong to the labels "
            "in y_batch. Index X and y with the same indices.",
            "第 {epoch} 轮第 {batch} 批：X_batch 的行与 y_batch 的标签对不上。"
            "X 和 y 要用同一组下标索引。",
        ),
        "training_iter_not_shuffled": (
            "Epoch {epoch} visits the examples in their original order. Shuffle them with a "
            "permutation drawn from `rng`.",
            "第 {epoch} 轮按原始顺序访问样本。请用从 `rng` 抽取的排列打乱顺序。",
        ),
        "training_iter_same_order": (
            "Epochs {first} and {second} visit the examples in the same order: the "
            "permutation is reused. Draw a fresh one from `rng` each time the function is "
            "called (once per epoch).",
            "第 {first} 轮与第 {second} 轮的样本顺序完全相同：排列被重复使用了。"
            "每次调用函数（每轮一次）都要从 `rng` 重新抽取一个排列。",
        ),
        "training_hint_last_batch": (
            "Likely mistake: the last, smaller batch is missing. When N is not a multiple of "
            "batch_size, the final batch holds the examples that are left.",
            "可能的错误：缺少最后那个较小的批。N 不是 batch_size 的整数倍时，最后一批装剩下的样本。",
        ),
        "training_hint_replacement": (
            "Likely mistake: indices drawn with replacement (for example `rng.integers` or "
            "`rng.choice` without `replace=False`). Split one permutation of all indices.",
            "可能的错误：下标是有放回抽取的（例如 `rng.integers`，或没有 `replace=False` 的 "
            "`rng.choice`）。应当切分全部下标的一个排列。",
        ),
        # --- update rules and schedules --------------------------------------------------
        "training_hint_wd_sign": (
            "Likely mistake: weight decay has the wrong sign. L2 regularisation adds "
            "weight_decay * w to the gradient.",
            "可能的错误：权重衰减的符号反了。L2 正则化是在梯度上加 weight_decay * w。",
        ),
        "training_hint_wd_missing": (
            "Likely mistake: weight decay is ignored. Add weight_decay * w to the gradient "
            "before the update.",
            "可能的错误：忽略了权重衰减。更新前要在梯度上加 weight_decay * w。",
        ),
        "training_hint_wd_unscaled": (
            "Likely mistake: weight_decay * w is subtracted without the learning rate. "
            "Here it belongs in the gradient, so it is multiplied by lr like the rest.",
            "可能的错误：减去 weight_decay * w 时没有乘学习率。这里它属于梯度的一部分，"
            "要和梯度一起乘 lr。",
        ),
        "training_hint_ascent": (
            "Likely mistake: the step goes uphill (the sign is flipped). Gradient descent "
            "subtracts lr times the step direction.",
            "可能的错误：参数朝上坡方向移动了（符号反了）。梯度下降要减去 lr 乘以更新方向。",
        ),
        "training_hint_momentum_order": (
            "Likely mistake: the parameters move with the old velocity. Update the velocity "
            "first, `v = momentum * v + g`, then the parameters, `w = w - lr * v`.",
            "可能的错误：参数用旧的速度更新了。应当先更新速度 `v = momentum * v + g`，"
            "再更新参数 `w = w - lr * v`。",
        ),
        "training_hint_momentum_dampening": (
            "Likely mistake: the gradient is scaled by (1 - momentum). `torch.optim.SGD` (with "
            "dampening=0) and this exercise use `v = momentum * v + g`.",
            "可能的错误：梯度乘上了 (1 - momentum)。`torch.optim.SGD`（dampening=0）和本练习都"
            "用 `v = momentum * v + g`。",
        ),
        "training_hint_wd_after_momentum": (
            "Likely mistake: weight decay is added after the momentum step. Add "
            "weight_decay * w to the gradient first, then feed it to the velocity.",
            "可能的错误：权重衰减加在了动量之后。应当先在梯度上加 weight_decay * w，"
            "再用它更新速度。",
        ),
        "training_hint_state_lost": (
            "Likely mistake: the optimiser state is not carried to the next step. Store it in "
            "`config` (for example config['velocity']) and return that `config`.",
            "可能的错误：优化器状态没有带到下一步。把它存进 `config`（例如 config['velocity']）"
            "并返回这个 `config`。",
        ),
        "training_hint_adam_bias": (
            "Likely mistake: no bias correction. Divide m by (1 - beta1**t) and v by "
            "(1 - beta2**t), with t = 1 at the first step.",
            "可能的错误：缺少偏差修正。m 要除以 (1 - beta1**t)，v 要除以 (1 - beta2**t)，"
            "第一步时 t = 1。",
        ),
        "training_hint_adam_eps": (
            "Likely mistake: eps is inside the square root. torch.optim.Adam uses "
            "m_hat / (sqrt(v_hat) + eps).",
            "可能的错误：eps 放进了平方根里。torch.optim.Adam 用的是 m_hat / (sqrt(v_hat) + eps)。",
        ),
        "training_hint_adam_sqrt": (
            "Likely mistake: the square root of v_hat is missing.",
            "可能的错误：漏了对 v_hat 开平方根。",
        ),
        "training_hint_adam_decoupled": (
            "Likely mistake: decoupled weight decay (AdamW). torch.optim.Adam adds "
            "weight_decay * w to the gradient before m and v are updated.",
            "可能的错误：用了解耦的权重衰减（AdamW）。torch.optim.Adam 是在更新 m 和 v 之前"
            "把 weight_decay * w 加到梯度上。",
        ),
        "training_hint_epoch_off_by_one": (
            "Likely mistake: off by one epoch. Epochs count from 0, and epoch 0 uses the "
            "initial learning rate.",
            "可能的错误：差了一轮。轮次从 0 开始计数，第 0 轮使用初始学习率。",
        ),
        "training_hint_exp_base": (
            "Likely mistake: exp(-gamma * epoch) was used; exponential decay here multiplies "
            "by gamma once per epoch: `lr * gamma**epoch`.",
            "可能的错误：用了 exp(-gamma * epoch)；这里的指数衰减是每轮乘一次 gamma："
            "`lr * gamma**epoch`。",
        ),
        "training_hint_inverse_sqrt": (
            "Likely mistake: a square root. 1/t decay is lr / (1 + decay * epoch).",
            "可能的错误：多了平方根。1/t 衰减是 lr / (1 + decay * epoch)。",
        ),
        # --- initialisation --------------------------------------------------------------
        "training_init_mean": (
            "Over {draws} draws of shape {shape} ({count} weights) the mean is {found}; "
            "it should be 0 within {tol} (five standard errors).",
            "对形状 {shape} 抽取 {draws} 次（共 {count} 个权重），均值为 {found}；"
            "应当为 0，允许误差 {tol}（五个标准误）。",
        ),
        "training_init_var": (
            "Over {draws} draws of shape {shape} ({count} weights) the variance is {found}; "
            "expected {formula} = {expected} within a relative {tol} (five standard errors).",
            "对形状 {shape} 抽取 {draws} 次（共 {count} 个权重），方差为 {found}；"
            "期望 {formula} = {expected}，相对误差不超过 {tol}（五个标准误）。",
        ),
        "training_init_different": (
            "Draws with different seeds returned identical weights; the weights must be "
            "random, drawn from `rng`.",
            "不同种子的抽取返回了完全相同的权重；权重必须是从 `rng` 抽取的随机数。",
        ),
        "training_hint_init_lecun": (
            "Likely mistake: variance 1/fan_in (LeCun). Check the formula of this scheme.",
            "可能的错误：方差是 1/fan_in（LeCun 初始化）。请核对本方案的公式。",
        ),
        "training_hint_init_swapped": (
            "Likely mistake: Glorot and He are swapped: Glorot uses 2/(fan_in + fan_out), "
            "He uses 2/fan_in.",
            "可能的错误：Glorot 和 He 弄反了：Glorot 用 2/(fan_in + fan_out)，He 用 2/fan_in。",
        ),
        "training_hint_init_fan_out": (
            "Likely mistake: fan_out used where fan_in belongs. W has shape `(fan_in, fan_out)`.",
            "可能的错误：该用 fan_in 的地方用了 fan_out。W 的形状是 `(fan_in, fan_out)`。",
        ),
        "training_hint_init_std_as_var": (
            "Likely mistake: the variance was used as the standard deviation. "
            "Pass `np.sqrt(variance)` as `scale` to `rng.normal`.",
            "可能的错误：把方差当成了标准差。传给 `rng.normal` 的 `scale` 应为方差的平方根 "
            "`np.sqrt(variance)`。",
        ),
        "training_hint_init_uniform": (
            "Likely mistake: a uniform distribution on [-a, a] has variance a**2 / 3, so "
            "`a = sqrt(3 * variance)`, not `sqrt(variance)`.",
            "可能的错误：[-a, a] 上均匀分布的方差是 a**2 / 3，所以 `a = sqrt(3 * variance)`，"
            "而不是 `sqrt(variance)`。",
        ),
        "training_hint_init_unit": (
            "Likely mistake: the weights have variance 1; they are not scaled at all.",
            "可能的错误：权重方差为 1，没有做任何缩放。",
        ),
        # --- dropout ---------------------------------------------------------------------
        "training_dropout_keep": (
            "In train mode with p={p}, a fraction {expected} of the elements should be kept; "
            "over {draws} draws of shape {shape} yours kept {found} (allowed ± {tol}, five "
            "standard errors).",
            "训练模式下 p={p} 时应保留 {expected} 比例的元素；对形状 {shape} 抽取 {draws} 次，"
            "你保留了 {found}（允许误差 ± {tol}，五个标准误）。",
        ),
        "training_dropout_mean": (
            "Inverted dropout keeps the expected value, E[out] = x: averaged over {draws} "
            "draws, sum(out * x) / sum(x * x) should be 1 within {tol} (five standard errors); "
            "yours is {found}.",
            "反向缩放的暂退法保持期望不变，即 E[out] = x：对 {draws} 次抽取取平均，"
            "sum(out * x) / sum(x * x) 应为 1，允许误差 {tol}（五个标准误）；你的是 {found}。",
        ),
        "training_hint_dropout_keep_prob": (
            "Likely mistake: p is used as the probability of keeping an element. Here, as in "
            "torch, p is the probability of dropping it.",
            "可能的错误：把 p 当成了保留概率。这里与 torch 一致，p 是丢弃一个元素的概率。",
        ),
        "training_hint_dropout_never": (
            "Likely mistake: nothing is dropped in train mode.",
            "可能的错误：训练模式下没有丢弃任何元素。",
        ),
        "training_hint_dropout_not_scaled": (
            "Likely mistake: the kept elements are not rescaled. Inverted dropout divides "
            "them by (1 - p) in train mode, so that eval mode needs no change.",
            "可能的错误：保留下来的元素没有重新缩放。反向缩放的暂退法（inverted dropout）在训练"
            "时除以 (1 - p)，这样评估时无需任何改动。",
        ),
        "training_hint_dropout_scaled_wrong": (
            "Likely mistake: the kept elements are multiplied by (1 - p); inverted dropout "
            "divides by (1 - p).",
            "可能的错误：保留的元素乘了 (1 - p)；反向缩放的暂退法应当除以 (1 - p)。",
        ),
        "training_hint_dropout_no_mask": (
            "Likely mistake: dx ignores the mask. The gradient flows only through the kept "
            "elements, scaled by 1/(1 - p) as in the forward pass.",
            "可能的错误：dx 没有用掩码。梯度只流过被保留的元素，并像前向传播一样乘 1/(1 - p)。",
        ),
        "training_hint_dropout_eval": (
            "Likely mistake: in eval mode inverted dropout is the identity: no mask and no "
            "scaling.",
            "可能的错误：评估模式下反向缩放的暂退法是恒等映射：既不加掩码，也不缩放。",
        ),
        # --- early stopping -------------------------------------------------------------
        "training_hdr_stop": ("stopped at the wrong epoch", "停止的轮次不对"),
        "training_es_stop_at": (
            "With patience={patience} and validation losses {losses} (epochs count from 0), "
            "training should stop after epoch {expected}; yours stopped after epoch {found}.",
            "patience={patience}、验证损失为 {losses}（轮次从 0 计数）时，训练应当在第 {expected} "
            "轮之后停止；你的在第 {found} 轮之后就停止了。",
        ),
        "training_es_never": (
            "With patience={patience} and validation losses {losses} (epochs count from 0), "
            "training should stop after epoch {expected}; yours never stopped.",
            "patience={patience}、验证损失为 {losses}（轮次从 0 计数）时，训练应当在第 {expected} "
            "轮之后停止；你的一直没有停止。",
        ),
        "training_es_too_soon": (
            "With patience={patience} and validation losses {losses} (epochs count from 0), "
            "training should run to the end; yours stopped after epoch {found}.",
            "patience={patience}、验证损失为 {losses}（轮次从 0 计数）时，训练应当跑完全部轮次；"
            "你的在第 {found} 轮之后就停止了。",
        ),
        "training_es_missing": (
            "After each epoch, `{name}` should hold the key '{entry}'; found keys {found}.",
            "每轮之后 `{name}` 都应当含有键 '{entry}'；实际的键为 {found}。",
        ),
        "training_hint_es_last": (
            "Likely mistake: these are the weights of the last epoch, not of the best one. "
            "When the loss improves, store copies (`{{k: v.copy() for k, v in params.items()}}`): "
            "the caller keeps updating its arrays in place.",
            "可能的错误：这是最后一轮的权重，而不是最佳一轮的。损失改善时要保存副本"
            "（`{{k: v.copy() for k, v in params.items()}}`）：调用者会继续原地更新这些数组。",
        ),
        "training_hint_es_tie": (
            "Likely mistake: a loss equal to the best one was counted as an improvement; "
            "only a strictly smaller loss is.",
            "可能的错误：把与最佳值相等的损失算作了改善；只有严格更小的损失才算。",
        ),
        "training_hint_es_off_by_one": (
            "Likely mistake: off by one epoch. Count the epochs since the last improvement "
            "and stop as soon as that count reaches `patience`.",
            "可能的错误：差了一轮。统计自上次改善以来的轮数，一旦达到 `patience` 就停止。",
        ),
        "training_hint_es_no_reset": (
            "Likely mistake: the count of epochs without improvement is not reset to 0 when "
            "the loss improves.",
            "可能的错误：损失改善时，没有把“未改善轮数”的计数清零。",
        ),
        # --- capstone --------------------------------------------------------------------
        "training_missing_grad": (
            "`grads` should have the key '{entry}' (the gradient of params['{entry}']); "
            "found keys {found}.",
            "`grads` 应当含有键 '{entry}'（params['{entry}'] 的梯度）；实际的键为 {found}。",
        ),
        "training_hdr_accuracy": ("held-out accuracy too low", "留出集准确率太低"),
        "training_accuracy_low": (
            "Your trained MLP classifies {accuracy} of the {count} held-out digits correctly; "
            "at least {threshold} is needed. Check that the validation loss goes down, then "
            "tune lr, num_epochs or num_hiddens.",
            "训练好的 MLP 在 {count} 个留出数字上的准确率为 {accuracy}；至少需要 {threshold}。"
            "先确认验证损失在下降，再调整 lr、num_epochs 或 num_hiddens。",
        ),
        "training_accuracy": (
            "Held-out accuracy {accuracy} on {count} digits (threshold {threshold}).",
            "在 {count} 个留出数字上的准确率为 {accuracy}（阈值 {threshold}）。",
        ),
    }
)


# =============================================================================== helpers


def _fail(case: Case, header: str, lines: Sequence[str], *, hint: str | None = None,
          kind: str = "wrong", name: str = "") -> CheckFailure:
    """A CheckFailure made of a header, body lines, an optional hint and the reproduction."""
    body = [case.header(header, name=name), *lines]
    if hint:
        body.append(M.bilingual(hint, indent="  "))
    body += case.reproduce_lines()
    return CheckFailure("\n".join(body), kind=kind, exercise=case.exercise)


def _pair(case: Case, function: str, result: Any, expected: str) -> tuple[Any, Any]:
    """Split a ``(first, second)`` return value, or fail saying what was expected."""
    __tracebackhide__ = True
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result[0], result[1]
    found = f"{type(result).__name__}" + (
        f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
    )
    raise _fail(case, "hdr_wrong", [M.bilingual("training_returns", indent="  ",
                                                function=function, expected=expected,
                                                found=found)],
                kind="type", name=function)


def _require_dict(case: Case, function: str, name: str, value: Any) -> dict:
    __tracebackhide__ = True
    if not isinstance(value, dict):
        raise _fail(case, "hdr_wrong_type", [M.bilingual(
            "training_not_dict", indent="  ", name=name, function=function,
            found=type(value).__name__)], kind="type", name=name)
    return value


def _float_array(case: Case, name: str, value: Any, shape: tuple) -> np.ndarray:
    """``value`` as a float64 array of ``shape``, or a failure saying what came back."""
    __tracebackhide__ = True
    try:
        array = np.asarray(value)
    except Exception:  # ragged lists and the like
        array = np.asarray(None, dtype=object)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        found = type(value).__name__ if array.dtype == object else str(array.dtype)
        raise _fail(case, "hdr_wrong_type", [M.bilingual(
            "wrong_type", indent="  ", name=name, expected=f"a float array of shape {shape}",
            found=found)], kind="type", name=name)
    if array.shape != tuple(shape):
        hint = "hint_transposed" if array.shape == tuple(shape)[::-1] else None
        raise _fail(case, "hdr_wrong_shape", [M.bilingual(
            "wrong_shape", indent="  ", name=name, found=array.shape, expected=tuple(shape))],
            hint=hint, name=name)
    return array.astype(np.float64)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _torch():
    """torch, imported on first use (importing grader stays cheap)."""
    return torchref.torch


# ======================================================================= 5.1 mini-batches


def _consume(fn: Callable[..., Any]) -> Callable[..., list]:
    """Run a generator function to the end inside call_student, so its errors are caught."""

    def consumed(*args: Any) -> list:
        return list(fn(*args))

    return consumed


@dataclass
class DataIterExercise(Exercise):
    """``data_iter(batch_size, X, y, rng)`` yields ``(X_batch, y_batch)`` for one epoch."""

    def run(self, data_iter, *, seeds: Sequence[int], shapes: Sequence[tuple],
            batch_sizes: Sequence[int], num_epochs: int = 3) -> None:
        __tracebackhide__ = True
        name = function_name(data_iter, "data_iter")
        count = 0
        for seed in seeds:
            for shape in shapes:
                for batch_size in batch_sizes:
                    self._one(data_iter, name, seed, tuple(shape), int(batch_size),
                              int(num_epochs))
                    count += 1
        report_pass(self.title, count)

    def _one(self, data_iter, name, seed, shape, batch_size, num_epochs) -> None:
        __tracebackhide__ = True
        n = shape[0]
        data = np.random.default_rng(seed)
        X = data.standard_normal(shape)
        y = data.permutation(n) + 100  # distinct labels name each example
        position = {int(label): i for i, label in enumerate(y)}
        case = self.case(description=f"seed={seed}, X.shape={shape}, y.shape={(n,)}, "
                                     f"batch_size={batch_size}, rng=np.random.default_rng({seed})")
        rng = np.random.default_rng(seed)
        orders = []
        for epoch in range(num_epochs):
            items = call_student(case, name, _consume(data_iter), batch_size, X, y, rng,
                                 arg_names=("batch_size", "X", "y", "rng"))
            orders.append(self._epoch_order(case, name, items, X, position, n, batch_size,
                                            epoch))
        if n >= 8:
            for epoch, order in enumerate(orders):
                if np.array_equal(order, np.arange(n)):
                    raise _fail(case, "hdr_wrong", [M.bilingual(
                        "training_iter_not_shuffled", indent="  ", epoch=epoch)], name=name)
            for first in range(num_epochs):
                for second in range(first + 1, num_epochs):
                    if np.array_equal(orders[first], orders[second]):
                        raise _fail(case, "hdr_wrong", [M.bilingual(
                            "training_iter_same_order", indent="  ", first=first,
                            second=second)], name=name)
            again = call_student(case, name, _consume(data_iter), batch_size, X, y,
                                 np.random.default_rng(seed),
                                 arg_names=("batch_size", "X", "y", "rng"))
            repeat = self._epoch_order(case, name, again, X, position, n, batch_size, 0)
            if not np.array_equal(repeat, orders[0]):
                raise _fail(case, "hdr_wrong", [M.bilingual("training_same_seed", indent="  ")],
                            name=name)

    def _epoch_order(self, case, name, items, X, position, n, batch_size, epoch) -> np.ndarray:
        __tracebackhide__ = True
        sizes, order = [], []
        for index, item in enumerate(items):
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise _fail(case, "hdr_wrong", [M.bilingual(
                    "training_iter_not_pairs", indent="  ", function=name, index=index,
                    epoch=epoch, found=type(item).__name__)], kind="type", name=name)
            X_batch = np.asarray(item[0])
            y_batch = np.asarray(item[1]).reshape(-1)
            sizes.append(int(y_batch.shape[0]))
            ids = [position.get(int(v), -1) if np.isfinite(v) else -1 for v in y_batch]
            ok = all(i >= 0 for i in ids) and X_batch.shape == (len(ids), *X.shape[1:])
            if ok and not np.array_equal(X_batch, X[np.array(ids, dtype=int)]):
                ok = False
            if not ok and all(i >= 0 for i in ids):
                raise _fail(case, "hdr_wrong", [M.bilingual(
                    "training_iter_pairing", indent="  ", epoch=epoch, batch=index)],
                    name="X_batch")
            order.extend(ids)
        full, rest = divmod(n, batch_size)
        expected_sizes = [batch_size] * full + ([rest] if rest else [])
        counts = np.bincount([i for i in order if i >= 0], minlength=n)
        missing = int((counts == 0).sum()) + 0
        repeated = int((counts > 1).sum())
        if sizes != expected_sizes:
            hint = None
            if rest and sizes == [batch_size] * full:
                hint = "training_hint_last_batch"
            elif repeated:
                hint = "training_hint_replacement"
            raise _fail(case, "hdr_wrong", [M.bilingual(
                "training_iter_batch_sizes", indent="  ", n=n, batch_size=batch_size,
                expected=_short_list(expected_sizes), found=_short_list(sizes))],
                hint=hint, name="batch sizes")
        if missing or repeated or any(i < 0 for i in order):
            raise _fail(case, "hdr_wrong", [M.bilingual(
                "training_iter_coverage", indent="  ", epoch=epoch, missing=missing,
                repeated=repeated)], hint="training_hint_replacement" if repeated else None,
                name="y_batch")
        return np.array(order)


def _short_list(values: Sequence[int], limit: int = 12) -> str:
    if len(values) <= limit:
        return str(list(values))
    head = ", ".join(str(v) for v in values[: limit - 2])
    return f"[{head}, …, {values[-1]}] ({len(values)} batches)"


register(DataIterExercise(
    id="data_iter",
    title_en="Exercise 5.1 · mini-batch iterator",
    title_zh="练习 5.1 · 小批量迭代器",
    assignment=ASSIGNMENT,
))


# ====================================================================== 5.2–5.4 optimisers

Rule = Callable[[np.ndarray, np.ndarray, dict, Mapping[str, float]], tuple[np.ndarray, dict]]


def _sgd_rule(decay_sign: float = 1.0, decay_in_lr: bool = True, ascent: bool = False) -> Rule:
    def rule(w, g, state, hp):
        lr, wd = hp["lr"], hp["weight_decay"]
        if decay_in_lr:
            step = lr * (g + decay_sign * wd * w)
        else:
            step = lr * g + wd * w
        return (w + step if ascent else w - step), state

    return rule


def _momentum_rule(variant: str = "") -> Rule:
    def rule(w, g, state, hp):
        lr, beta, wd = hp["lr"], hp["momentum"], hp["weight_decay"]
        v = state.get("v", np.zeros_like(w))
        if variant == "state_lost":
            v = np.zeros_like(w)
        if variant == "wd_after":
            v = beta * v + g
            return w - lr * (v + wd * w), {"v": v}
        g = g + wd * w
        if variant == "order":
            w_new = w - lr * v
            return w_new, {"v": beta * v + g}
        if variant == "dampening":
            v = beta * v + (1 - beta) * g
        elif variant == "minus_g":
            v = beta * v - g
        else:
            v = beta * v + g
        if variant == "ascent":
            return w + lr * v, {"v": v}
        return w - lr * v, {"v": v}

    return rule


def _adam_rule(variant: str = "") -> Rule:
    def rule(w, g, state, hp):
        lr, b1, b2, eps, wd = (hp[k] for k in ("lr", "beta1", "beta2", "eps", "weight_decay"))
        m = state.get("m", np.zeros_like(w))
        v = state.get("v", np.zeros_like(w))
        t = state.get("t", 0) + 1
        if variant == "state_lost":
            m, v, t = np.zeros_like(w), np.zeros_like(w), 1
        if variant != "decoupled":
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if variant == "no_bias":
            m_hat, v_hat = m, v
        else:
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        if variant == "eps_inside":
            step = m_hat / np.sqrt(v_hat + eps)
        elif variant == "no_sqrt":
            step = m_hat / (v_hat + eps)
        else:
            step = m_hat / (np.sqrt(v_hat) + eps)
        if variant == "decoupled":
            step = step + wd * w
        return w - lr * step, {"m": m, "v": v, "t": t}

    return rule


def _torch_sgd(param, hp):
    torch = _torch()
    return torch.optim.SGD([param], lr=hp["lr"], momentum=hp.get("momentum", 0.0),
                           weight_decay=hp["weight_decay"])


def _torch_adam(param, hp):
    torch = _torch()
    return torch.optim.Adam([param], lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]),
                            eps=hp["eps"], weight_decay=hp["weight_decay"])


@dataclass
class UpdateRuleExercise(Exercise):
    """``next_w, config = rule(w, dw, config)`` replayed next to a ``torch.optim`` optimiser.

    ``config`` starts with the hyperparameters only; the rule keeps its state (velocity,
    moments, step count) in it. The gradient sequence is fixed in advance, so both sides
    see exactly the same gradients.
    """

    defaults: Mapping[str, float] = field(default_factory=dict)
    make_optimizer: Callable[[Any, Mapping[str, float]], Any] = None  # type: ignore[assignment]
    optimizer_name: str = ""
    mutants: Callable[[Mapping[str, float]], list[tuple[str, Rule]]] = lambda hp: []
    tol: Tolerance = field(default_factory=lambda: Tolerance(rtol=1e-7, atol=1e-10))

    def run(self, rule, *, seeds: Sequence[int], shapes: Sequence[tuple], steps: int = 20,
            grad_scale: float = 1.0, **hyper: float) -> None:
        __tracebackhide__ = True
        unknown = set(hyper) - set(self.defaults)
        if unknown:
            raise TypeError(f"unknown hyperparameters {sorted(unknown)} for {self.id}")
        hp = {**self.defaults, **hyper}
        name = function_name(rule, self.id)
        count = 0
        for seed in seeds:
            for shape in shapes:
                self._one(rule, name, seed, tuple(shape), int(steps), float(grad_scale), hp)
                count += 1
        report_pass(self.title, count)

    def expected(self, w0: np.ndarray, grads: np.ndarray, hp) -> list[np.ndarray]:
        torch = _torch()
        param = torch.tensor(w0.copy(), dtype=torch.float64, requires_grad=True)
        optimizer = self.make_optimizer(param, hp)
        out = []
        for g in grads:
            param.grad = torch.tensor(g, dtype=torch.float64)
            optimizer.step()
            out.append(param.detach().numpy().copy())
        return out

    def _one(self, rule, name, seed, shape, steps, grad_scale, hp) -> None:
        __tracebackhide__ = True
        rng = np.random.default_rng(seed)
        w0 = rng.standard_normal(shape)
        grads = rng.standard_normal((steps, *shape)) * grad_scale
        expected = self.expected(w0, grads, hp)
        trajectories = []
        for key, mutant in self.mutants(hp):
            w, state, path = w0.copy(), {}, []
            with np.errstate(all="ignore"):
                for g in grads:
                    w, state = mutant(w, g, state, hp)
                    path.append(w)
            trajectories.append((key, path))
        hyper = ", ".join(f"{k}={v:g}" for k, v in hp.items())
        config: Any = dict(hp)
        w = w0.copy()
        for t, g in enumerate(grads):
            case = self.case(description=(
                f"seed={seed}, w.shape={shape}, step {t + 1} of {steps} with config "
                f"{{{hyper}}}, gradients ~ N(0, {grad_scale:g}²) (vs {self.optimizer_name})"))
            result = call_student(case, name, rule, w, g.copy(), config,
                                  arg_names=("w", "dw", "config"))
            next_w, config = _pair(case, name, result, "(next_w, config)")
            config = _require_dict(case, name, "config", config)
            compare_array(case, "next_w", expected[t], next_w, tol=self.tol,
                          alternatives=[(key, path[t]) for key, path in trajectories],
                          header_key="training_hdr_torch_optim")
            w = np.array(next_w, dtype=np.float64)


def _sgd_mutants(hp):
    out = [("training_hint_ascent", _sgd_rule(ascent=True))]
    if hp["weight_decay"]:
        out += [
            ("training_hint_wd_sign", _sgd_rule(decay_sign=-1.0)),
            ("training_hint_wd_missing", _sgd_rule(decay_sign=0.0)),
            ("training_hint_wd_unscaled", _sgd_rule(decay_in_lr=False)),
        ]
    return out


def _momentum_mutants(hp):
    out = [
        ("training_hint_ascent", _momentum_rule("ascent")),
        ("training_hint_ascent", _momentum_rule("minus_g")),
        ("training_hint_momentum_order", _momentum_rule("order")),
        ("training_hint_momentum_dampening", _momentum_rule("dampening")),
        ("training_hint_state_lost", _momentum_rule("state_lost")),
    ]
    if hp["weight_decay"]:
        out.append(("training_hint_wd_after_momentum", _momentum_rule("wd_after")))
    return out


def _adam_mutants(hp):
    out = [
        ("training_hint_adam_bias", _adam_rule("no_bias")),
        ("training_hint_adam_eps", _adam_rule("eps_inside")),
        ("training_hint_adam_sqrt", _adam_rule("no_sqrt")),
        ("training_hint_state_lost", _adam_rule("state_lost")),
    ]
    if hp["weight_decay"]:
        out.append(("training_hint_adam_decoupled", _adam_rule("decoupled")))
    return out


register(UpdateRuleExercise(
    id="sgd",
    title_en="Exercise 5.2 · SGD with weight decay",
    title_zh="练习 5.2 · 带权重衰减的 SGD",
    assignment=ASSIGNMENT,
    defaults={"lr": 0.1, "weight_decay": 0.0},
    make_optimizer=_torch_sgd,
    optimizer_name="torch.optim.SGD",
    mutants=_sgd_mutants,
))

register(UpdateRuleExercise(
    id="sgd_momentum",
    title_en="Exercise 5.3 · SGD with momentum",
    title_zh="练习 5.3 · 带动量的 SGD",
    assignment=ASSIGNMENT,
    defaults={"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0},
    make_optimizer=_torch_sgd,
    optimizer_name="torch.optim.SGD(momentum=..., dampening=0)",
    mutants=_momentum_mutants,
))

register(UpdateRuleExercise(
    id="adam",
    title_en="Exercise 5.4 · Adam",
    title_zh="练习 5.4 · Adam",
    assignment=ASSIGNMENT,
    defaults={"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    make_optimizer=_torch_adam,
    optimizer_name="torch.optim.Adam",
    mutants=_adam_mutants,
))


# ======================================================================== 5.5 lr schedules


def _scheduled_lrs(make_scheduler, lr: float, num_epochs: int) -> np.ndarray:
    """The learning rate torch uses in each epoch 0..num_epochs-1."""
    import warnings

    torch = _torch()
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(optimizer)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(num_epochs):
            out.append(scheduler.get_last_lr()[0])
            param.grad = torch.zeros_like(param)
            optimizer.step()
            scheduler.step()
    return np.array(out)


@dataclass
class LrDecayExercise(Exercise):
    """``exponential_decay(lr, gamma, epoch)`` and ``inverse_time_decay(lr, decay, epoch)``."""

    tol: Tolerance = field(default_factory=lambda: Tolerance(rtol=1e-9, atol=1e-15))

    def run(self, exponential_decay, inverse_time_decay, *, lr: float, gamma: float,
            decay: float, num_epochs: int = 20) -> None:
        __tracebackhide__ = True
        torch = _torch()
        epochs = np.arange(num_epochs)
        exp_name = function_name(exponential_decay, "exponential_decay")
        inv_name = function_name(inverse_time_decay, "inverse_time_decay")
        expected = _scheduled_lrs(
            lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma), lr, num_epochs)
        alternatives = [
            ("training_hint_epoch_off_by_one", lr * gamma ** (epochs + 1.0)),
            ("training_hint_exp_base", lr * np.exp(-gamma * epochs)),
        ]
        self._compare(exponential_decay, exp_name, (lr, gamma), "gamma", expected,
                      alternatives, "torch.optim.lr_scheduler.ExponentialLR")
        expected = _scheduled_lrs(
            lambda opt: torch.optim.lr_scheduler.LambdaLR(
                opt, lr_lambda=lambda t: 1.0 / (1.0 + decay * t)), lr, num_epochs)
        alternatives = [
            ("training_hint_epoch_off_by_one", lr / (1.0 + decay * (epochs + 1.0))),
            ("training_hint_inverse_sqrt", lr / np.sqrt(1.0 + decay * epochs)),
        ]
        self._compare(inverse_time_decay, inv_name, (lr, decay), "decay", expected,
                      alternatives, "torch.optim.lr_scheduler.LambdaLR(1 / (1 + decay * t))")
        report_pass(self.title, 2 * num_epochs)

    def _compare(self, fn, name, args, second, expected, alternatives, reference) -> None:
        __tracebackhide__ = True
        lr, rate = args
        n = len(expected)
        case = self.case(description=f"{name}(lr={lr:g}, {second}={rate:g}, epoch) for "
                                     f"epoch = 0..{n - 1}, compared with {reference}")
        found = []
        for epoch in range(n):
            value = call_student(case, name, fn, lr, rate, epoch,
                                 arg_names=("lr", second, "epoch"))
            found.append(np.asarray(value, dtype=np.float64) if _is_number(value) else value)
        if not all(_is_number(v) for v in found):
            bad = next(v for v in found if not _is_number(v))
            raise _fail(case, "hdr_wrong_type", [M.bilingual(
                "wrong_type", indent="  ", name=f"{name}(...)", expected="a float",
                found=type(bad).__name__)], kind="type", name=f"{name}(...)")
        with np.errstate(all="ignore"):
            compare_array(case, f"{name}(lr, {second}, epoch) per epoch", expected,
                          np.array([float(v) for v in found]), tol=self.tol,
                          alternatives=alternatives, header_key="training_hdr_scheduler")


def _is_number(value: Any) -> bool:
    try:
        array = np.asarray(value)
    except Exception:
        return False
    return array.shape == () and np.issubdtype(array.dtype, np.number)


register(LrDecayExercise(
    id="lr_decay",
    title_en="Exercise 5.5 · learning-rate decay",
    title_zh="练习 5.5 · 学习率衰减",
    assignment=ASSIGNMENT,
))


# ======================================================================= 5.6 initialisation


@dataclass
class InitExercise(Exercise):
    """``glorot_init(fan_in, fan_out, rng)`` and ``he_init(fan_in, fan_out, rng)``.

    Graded by statistics over many independent draws: the mean must be 0 and the
    variance the scheme's, each within five standard errors of the estimate.
    """

    def run(self, glorot_init, he_init, *, seeds: Sequence[int], shapes: Sequence[tuple],
            draws: int = 20) -> None:
        __tracebackhide__ = True
        count = 0
        for scheme, fn in (("glorot", glorot_init), ("he", he_init)):
            name = function_name(fn, f"{scheme}_init")
            for seed in seeds:
                for shape in shapes:
                    self._one(scheme, fn, name, seed, tuple(shape), int(draws))
                    count += 1
        report_pass(self.title, count)

    @staticmethod
    def variances(fan_in: int, fan_out: int) -> dict[str, float]:
        return {"glorot": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in}

    def _one(self, scheme, fn, name, seed, shape, draws) -> None:
        __tracebackhide__ = True
        fan_in, fan_out = shape
        target = self.variances(fan_in, fan_out)[scheme]
        formula = "2/(fan_in + fan_out)" if scheme == "glorot" else "2/fan_in"
        case = self.case(description=f"{name}({fan_in}, {fan_out}, rng) with rng = "
                                     f"np.random.default_rng([{seed}, k]), k = 0..{draws - 1}")
        samples = []
        for k in range(draws):
            W = call_student(case, name, fn, fan_in, fan_out, np.random.default_rng([seed, k]),
                             arg_names=("fan_in", "fan_out", "rng"))
            samples.append(_float_array(case, "W", W, shape))
        again = call_student(case, name, fn, fan_in, fan_out, np.random.default_rng([seed, 0]),
                             arg_names=("fan_in", "fan_out", "rng"))
        if not np.array_equal(_float_array(case, "W", again, shape), samples[0]):
            raise _fail(case, "hdr_wrong", [M.bilingual("training_same_seed", indent="  ")],
                        name=name)
        if draws > 1 and np.array_equal(samples[0], samples[1]):
            raise _fail(case, "hdr_wrong", [M.bilingual("training_init_different", indent="  ")],
                        name=name)
        values = np.stack(samples).reshape(-1)
        n = values.size
        mean = float(values.mean())
        mean_tol = 5.0 * math.sqrt(target / n)
        if not abs(mean) <= mean_tol:
            raise _fail(case, "training_hdr_statistics", [M.bilingual(
                "training_init_mean", indent="  ", draws=draws, shape=shape, count=n,
                found=_fmt(mean), tol=_fmt(mean_tol))], name="W")
        var = float(values.var())
        var_tol = 5.0 * math.sqrt(2.0 / n)  # the relative standard error of a Gaussian's variance
        if not abs(var / target - 1.0) <= var_tol:
            raise _fail(case, "training_hdr_statistics", [M.bilingual(
                "training_init_var", indent="  ", draws=draws, shape=shape, count=n,
                found=_fmt(var), formula=formula, expected=_fmt(target), tol=_pct(var_tol))],
                hint=self._diagnose(scheme, fan_in, fan_out, target, var, var_tol), name="W")

    def _diagnose(self, scheme, fan_in, fan_out, target, var, tol) -> str | None:
        other = self.variances(fan_in, fan_out)["he" if scheme == "glorot" else "glorot"]
        candidates = [
            ("training_hint_init_swapped", other),
            ("training_hint_init_lecun", 1.0 / fan_in),
            ("training_hint_init_std_as_var", target**2),
            ("training_hint_init_uniform", target / 3.0),
            ("training_hint_init_unit", 1.0),
        ]
        if scheme == "he":
            candidates.insert(1, ("training_hint_init_fan_out", 2.0 / fan_out))
        for key, value in candidates:
            if abs(value / target - 1.0) > tol and abs(var / value - 1.0) <= tol:
                return key
        return None


register(InitExercise(
    id="init_schemes",
    title_en="Exercise 5.6 · Glorot and He initialisation",
    title_zh="练习 5.6 · Glorot 与 He 初始化",
    assignment=ASSIGNMENT,
))


# ============================================================================ 5.7 dropout


@dataclass
class DropoutExercise(Exercise):
    """``dropout_forward(x, p, train, rng) -> (out, cache)``, ``dropout_backward(dout, cache)``.

    The mask a student drew is read back from the output (the inputs have no zeros),
    then forward and backward are compared with autograd on ``x * mask / (1 - p)``.
    The mask itself is graded by its statistics over many draws.
    """

    tol: Tolerance = field(default_factory=Tolerance)

    def run(self, forward, backward, *, seeds: Sequence[int], shapes: Sequence[tuple],
            p: float, draws: int = 100) -> None:
        __tracebackhide__ = True
        fwd = function_name(forward, "dropout_forward")
        bwd = function_name(backward, "dropout_backward")
        count = 0
        for seed in seeds:
            for shape in shapes:
                self._one(forward, backward, fwd, bwd, seed, tuple(shape), float(p), int(draws))
                count += 1
        report_pass(self.title, count)

    def _one(self, forward, backward, fwd, bwd, seed, shape, p, draws) -> None:
        __tracebackhide__ = True
        torch = _torch()
        data = np.random.default_rng(seed)
        x = data.standard_normal(shape)
        x = np.where(np.abs(x) < 0.05, np.sign(x + 1e-300) * 0.1, x)  # no zeros: 0 means dropped
        dout = data.standard_normal(shape)

        def where(k: int | str) -> str:
            return (f"seed={seed}, x.shape={shape}, p={p:g}, train=True, "
                    f"rng = np.random.default_rng([{seed}, {k}])")

        # 1. the mask: how many elements are kept, over many draws
        case = self.case(description=where("k") + f", k = 0..{draws - 1}")
        outs = []
        for k in range(draws):
            result = call_student(case, fwd, forward, x, p, True,
                                  np.random.default_rng([seed, k]),
                                  arg_names=("x", "p", "train", "rng"))
            out, _ = _pair(case, fwd, result, "(out, cache)")
            outs.append(_float_array(case, "out", out, x.shape))
        kept = float(np.mean([np.count_nonzero(o) / o.size for o in outs]))
        n = draws * x.size
        keep_tol = 5.0 * math.sqrt(p * (1.0 - p) / n) + 1e-12
        if abs(kept - (1.0 - p)) > keep_tol:
            hint = None
            if kept == 1.0:
                hint = "training_hint_dropout_never"
            elif abs(kept - p) <= keep_tol + 5.0 * math.sqrt(p * (1 - p) / n):
                hint = "training_hint_dropout_keep_prob"
            raise _fail(case, "training_hdr_statistics", [M.bilingual(
                "training_dropout_keep", indent="  ", p=f"{p:g}", expected=_fmt(1.0 - p),
                draws=draws, shape=shape, found=_fmt(kept), tol=_fmt(keep_tol))],
                hint=hint, name="out")

        # 2. forward and backward against autograd with the same mask
        def reference(x, mask):
            return x * mask / (1.0 - p)

        for k in range(min(draws, 3)):
            case = self.case(description=where(k) + ", mask = (out != 0) from your forward")
            result = call_student(case, fwd, forward, x, p, True,
                                  np.random.default_rng([seed, k]),
                                  arg_names=("x", "p", "train", "rng"))
            out, cache = _pair(case, fwd, result, "(out, cache)")
            out = np.asarray(out, dtype=np.float64)
            mask = (out != 0).astype(np.float64)
            out_ref, grads = torchref.evaluate(reference, {"x": x, "mask": mask}, ["x"], dout)
            alternatives = [("training_hint_dropout_not_scaled", x * mask),
                            ("training_hint_dropout_scaled_wrong", x * mask * (1.0 - p))]
            if p > 0:
                alternatives.append(("training_hint_dropout_keep_prob", x * mask / p))
            compare_array(case, "out", out_ref, out, tol=self.tol, alternatives=alternatives,
                          header_key="hdr_mismatch_autograd")
            dx = call_student(case, bwd, backward, dout.copy(), cache,
                              arg_names=("dout", "cache"))
            compare_array(case, "dx", grads["x"], dx, tol=self.tol, alternatives=[
                ("training_hint_dropout_not_scaled", dout * mask),
                ("training_hint_dropout_no_mask", dout),
                ("training_hint_dropout_no_mask", dout / (1.0 - p)),
            ], header_key="hdr_mismatch_autograd")

        # 3. the expected value is unchanged, and the mask comes from `rng`
        # E[out] = x: project the average output on x, which is 1 in expectation.
        case = self.case(description=where("k") + f", k = 0..{draws - 1}")
        norm = float(np.sum(x**2))
        ratio = float(np.mean([np.sum(o * x) for o in outs]) / norm)
        spread = math.sqrt(p / (1.0 - p) * float(np.sum(x**4)) / draws) / norm if p < 1 else 0.0
        mean_tol = 5.0 * spread + 1e-9
        if abs(ratio - 1.0) > mean_tol:
            raise _fail(case, "training_hdr_statistics", [M.bilingual(
                "training_dropout_mean", indent="  ", draws=draws, tol=_fmt(mean_tol),
                found=_fmt(ratio))], hint="training_hint_dropout_not_scaled"
                if abs(ratio - (1.0 - p)) <= mean_tol else None, name="out")
        again = call_student(case, fwd, forward, x, p, True, np.random.default_rng([seed, 0]),
                             arg_names=("x", "p", "train", "rng"))
        again_out, _ = _pair(case, fwd, again, "(out, cache)")
        if not np.array_equal(_float_array(case, "out", again_out, x.shape) != 0, outs[0] != 0):
            raise _fail(case, "hdr_wrong", [M.bilingual("training_same_seed", indent="  ")],
                        name=fwd)

        # 4. eval mode is the identity, forward and backward
        case = self.case(description=f"seed={seed}, x.shape={shape}, p={p:g}, train=False")
        out_ref, grads = torchref.evaluate(
            lambda x: torch.nn.functional.dropout(x, p=p, training=False), {"x": x}, ["x"], dout)
        result = call_student(case, fwd, forward, x, p, False, np.random.default_rng(seed),
                              arg_names=("x", "p", "train", "rng"))
        out, cache = _pair(case, fwd, result, "(out, cache)")
        compare_array(case, "out", out_ref, out, tol=self.tol, alternatives=[
            ("training_hint_dropout_eval", x * (1.0 - p)),
            ("training_hint_dropout_eval", x / (1.0 - p))],
            header_key="hdr_mismatch_autograd")
        dx = call_student(case, bwd, backward, dout.copy(), cache, arg_names=("dout", "cache"))
        compare_array(case, "dx", grads["x"], dx, tol=self.tol, alternatives=[
            ("training_hint_dropout_eval", dout * (1.0 - p)),
            ("training_hint_dropout_eval", dout / (1.0 - p))],
            header_key="hdr_mismatch_autograd")


register(DropoutExercise(
    id="dropout",
    title_en="Exercise 5.7 · inverted dropout",
    title_zh="练习 5.7 · 反向缩放的暂退法",
    assignment=ASSIGNMENT,
))


# ===================================================================== 5.8 early stopping


def early_stopping_reference(losses: Sequence[float], patience: int, *, variant: str = ""
                             ) -> tuple[int | None, int]:
    """(epoch at which training stops or None, best epoch seen by then): trusted NumPy logic.

    Improvement means strictly smaller than the best loss so far; training stops at
    the first epoch whose count of epochs without improvement reaches ``patience``.
    ``variant`` replays a known mistake.
    """
    best, best_epoch, bad = math.inf, -1, 0
    for epoch, loss in enumerate(losses):
        improved = loss <= best if variant == "tie" else loss < best
        if improved:
            best, best_epoch = loss, epoch
            bad = bad if variant == "no_reset" else 0
        else:
            bad += 1
        limit = {"late": patience + 1, "early": patience - 1}.get(variant, patience)
        if bad >= limit and (variant != "early" or bad > 0):
            return epoch, best_epoch
    return None, best_epoch


@dataclass
class EarlyStoppingExercise(Exercise):
    """``stop, state = early_stopping_step(val_loss, params, state, patience)`` per epoch."""

    VARIANTS = (("tie", "training_hint_es_tie"), ("late", "training_hint_es_off_by_one"),
                ("early", "training_hint_es_off_by_one"), ("no_reset", "training_hint_es_no_reset"))

    def run(self, early_stopping_step, *, patience: int, sequences: Sequence[Sequence[float]],
            seed: int = 0) -> None:
        __tracebackhide__ = True
        name = function_name(early_stopping_step, "early_stopping_step")
        patience = int(patience)
        # Every sequence runs first, so that a mistake can be named by what it does on all.
        runs = [self._replay(early_stopping_step, name, patience, [float(v) for v in losses],
                             seed + index) for index, losses in enumerate(sequences)]
        for losses, case, stopped_at, state, snapshots, params in runs:
            expected_stop, best_epoch = early_stopping_reference(losses, patience)
            if stopped_at != expected_stop:
                raise self._wrong_stop(case, name, patience, losses, stopped_at, expected_stop,
                                       runs)
            self._check_best(case, name, state, snapshots[best_epoch], params, best_epoch)
        report_pass(self.title, len(sequences))

    def _replay(self, fn, name, patience, losses, seed):
        """Feed ``losses`` one epoch at a time, updating the params in place in between."""
        __tracebackhide__ = True
        rng = np.random.default_rng(seed)
        params = {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal(2)}
        snapshots = []
        state: Any = {}
        stopped_at = None
        case = self.case(description=f"patience={patience}, val losses {losses}, params "
                                     f"W1 (3, 2) and b1 (2,) updated in place after each epoch")
        for epoch, loss in enumerate(losses):
            snapshots.append({k: v.copy() for k, v in params.items()})
            result = call_student(case, name, fn, loss, params, state, patience,
                                  arg_names=("val_loss", "params", "state", "patience"))
            stop, state = _pair(case, name, result, "(stop, state)")
            state = _require_dict(case, name, "state", state)
            if bool(stop):
                stopped_at = epoch
                break
            for value in params.values():  # training goes on and updates the arrays in place
                value += rng.standard_normal(value.shape)
        return losses, case, stopped_at, state, snapshots, params

    def _wrong_stop(self, case, name, patience, losses, stopped_at, expected_stop, runs):
        def explains(variant, sequences):
            return all(early_stopping_reference(seq, patience, variant=variant)[0] == found
                       for seq, _, found, *_ in sequences)

        hint = next((key for variant, key in self.VARIANTS if explains(variant, runs)), None)
        if hint is None:  # no known mistake fits every sequence: name one that fits this one
            this = [(losses, case, stopped_at)]
            hint = next((key for variant, key in self.VARIANTS if explains(variant, this)), None)
        if stopped_at is None:
            key, values = "training_es_never", {"expected": expected_stop}
        elif expected_stop is None:
            key, values = "training_es_too_soon", {"found": stopped_at}
        else:
            key, values = "training_es_stop_at", {"expected": expected_stop, "found": stopped_at}
        return _fail(case, "training_hdr_stop", [M.bilingual(
            key, indent="  ", patience=patience, losses=losses, **values)], hint=hint, name=name)

    def _check_best(self, case, name, state, best_snapshot, params, best_epoch) -> None:
        __tracebackhide__ = True
        for key in ("best_epoch", "best_params"):
            if key not in state:
                raise _fail(case, "hdr_wrong", [M.bilingual(
                    "training_es_missing", indent="  ", name="state", entry=key,
                    found=sorted(map(str, state)))], name="state")
        compare_value(case, "state['best_epoch']", best_epoch, state["best_epoch"])
        best = _require_dict(case, name, "state['best_params']", state["best_params"])
        for key, value in best_snapshot.items():
            if key not in best:
                raise _fail(case, "hdr_wrong", [M.bilingual(
                    "training_es_missing", indent="  ", name="state['best_params']", entry=key,
                    found=sorted(map(str, best)))], name="state['best_params']")
            compare_array(case, f"state['best_params']['{key}']", value, best[key],
                          alternatives=[("training_hint_es_last", params[key])])


register(EarlyStoppingExercise(
    id="early_stopping",
    title_en="Exercise 5.8 · early stopping with patience",
    title_zh="练习 5.8 · 带耐心值的早停",
    assignment=ASSIGNMENT,
))


# ====================================================================== 5.9 the MLP's loss


def _mlp_reference(X, y, W1, b1, W2, b2):
    torch = _torch()
    scores = torch.relu(X @ W1 + b1) @ W2 + b2
    return torch.nn.functional.cross_entropy(scores, y)


@dataclass
class MlpLossExercise(Exercise):
    """``loss, grads = mlp_loss(params, X, y, dropout=0.0, train=False, rng=None)``.

    Affine → ReLU → (dropout) → affine → softmax cross-entropy, mean over the batch.
    Checked against autograd in eval mode and in train mode with dropout 0.
    """

    tol: Tolerance = field(default_factory=Tolerance)

    def run(self, mlp_loss, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> None:
        __tracebackhide__ = True
        name = function_name(mlp_loss, "mlp_loss")
        count = 0
        for seed in seeds:
            for shape in shapes:
                self._one(mlp_loss, name, seed, tuple(shape))
                count += 1
        report_pass(self.title, count)

    def _one(self, fn, name, seed, shape) -> None:
        __tracebackhide__ = True
        n, d, h, c = shape
        rng = np.random.default_rng(seed)
        inputs = {
            "X": rng.standard_normal((n, d)),
            "y": rng.integers(0, c, size=n),
            "W1": rng.standard_normal((d, h)) * np.sqrt(2.0 / d),
            "b1": rng.standard_normal(h) * 0.1,
            "W2": rng.standard_normal((h, c)) * np.sqrt(2.0 / (h + c)),
            "b2": rng.standard_normal(c) * 0.1,
        }
        keys = ("W1", "b1", "W2", "b2")
        loss_ref, grads_ref = torchref.evaluate(_mlp_reference, inputs, keys)
        for train in (False, True):
            params = {k: inputs[k].copy() for k in keys}
            kwargs = {"dropout": 0.0, "train": train, "rng": np.random.default_rng(seed)}
            case = self.case(description=(
                f"seed={seed}, X.shape={(n, d)}, y.shape={(n,)}, W1.shape={(d, h)}, "
                f"W2.shape={(h, c)}, dropout=0.0, train={train}"))
            result = call_student(case, name, fn, params, inputs["X"], inputs["y"],
                                  arg_names=("params", "X", "y"), **kwargs)
            check_inputs_unchanged(case, name, params, {k: inputs[k] for k in keys})
            loss, grads = _pair(case, name, result, "(loss, grads)")
            compare_array(case, "loss", loss_ref, loss, tol=self.tol, batch_size=n,
                          header_key="hdr_mismatch_autograd")
            grads = _require_dict(case, name, "grads", grads)
            for key in keys:
                if key not in grads:
                    raise _fail(case, "hdr_wrong", [M.bilingual(
                        "training_missing_grad", indent="  ", entry=key,
                        found=sorted(map(str, grads)))], name="grads")
                compare_array(case, f"d{key} (grads['{key}'])", grads_ref[key], grads[key],
                              tol=self.tol, batch_size=n, header_key="hdr_mismatch_autograd")


register(MlpLossExercise(
    id="mlp_loss_dropout",
    title_en="Exercise 5.9 · the MLP's loss and gradients",
    title_zh="练习 5.9 · MLP 的损失与梯度",
    assignment=ASSIGNMENT,
))


# ================================================================= 5.10 capstone: digits


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data / 16.0, digits.target.astype(np.int64)


def digits_split(seed: int) -> dict[str, np.ndarray]:
    """Digits scaled to [0, 1], shuffled by ``seed`` and split 60 / 20 / 20."""
    X, y = _digits()
    order = np.random.default_rng(seed).permutation(len(y))
    n_train, n_val = int(0.6 * len(y)), int(0.2 * len(y))
    parts = np.split(order, [n_train, n_train + n_val])
    out = {}
    for label, index in zip(("train", "val", "test"), parts, strict=True):
        out[f"X_{label}"], out[f"y_{label}"] = X[index], y[index]
    return out


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1)


@dataclass
class TrainMlpExercise(Exercise):
    """``params, history = train_mlp(X_train, y_train, X_val, y_val, seed=..., progress=False)``
    then ``predict(params, X_test)``: the held-out accuracy must reach ``threshold``.

    The test split never reaches the student's code before ``predict``.
    """

    def run(self, train_mlp, predict, *, seeds: Sequence[int], threshold: float) -> None:
        __tracebackhide__ = True
        train_name = function_name(train_mlp, "train_mlp")
        predict_name = function_name(predict, "predict")
        accuracies = []
        for seed in seeds:
            split = digits_split(seed)
            count = len(split["y_test"])
            case = self.case(description=(
                f"seed={seed}: digits scaled to [0, 1], split 60/20/20 by "
                f"np.random.default_rng({seed}).permutation; train_mlp(X_train, y_train, X_val, "
                f"y_val, seed={seed}, progress=False)"))
            # A progress bar must not reach stderr (it would cost the cell its points), and
            # small matrices train faster on one BLAS thread than on several.
            with contextlib.redirect_stderr(io.StringIO()), _one_blas_thread():
                result = call_student(case, train_name, train_mlp, split["X_train"],
                                      split["y_train"], split["X_val"], split["y_val"],
                                      arg_names=("X_train", "y_train", "X_val", "y_val"),
                                      seed=seed, progress=False)
            params, _ = _pair(case, train_name, result, "(params, history)")
            y_hat = call_student(case, predict_name, predict, params, split["X_test"],
                                 arg_names=("params", "X_test"))
            y_hat = np.asarray(y_hat)
            if y_hat.shape != (count,):
                raise _fail(case, "hdr_wrong_shape", [M.bilingual(
                    "wrong_shape", indent="  ", name="y_hat", found=y_hat.shape,
                    expected=(count,))], name="y_hat")
            accuracy = float(np.mean(y_hat == split["y_test"]))
            if not accuracy >= threshold:
                raise _fail(case, "training_hdr_accuracy", [M.bilingual(
                    "training_accuracy_low", indent="  ", accuracy=_pct(accuracy), count=count,
                    threshold=_pct(threshold))], name="y_hat")
            accuracies.append((accuracy, count))
        for accuracy, count in accuracies:
            print(M.en("training_accuracy", accuracy=_pct(accuracy), count=count,
                       threshold=_pct(threshold)))
            print(M.zh("training_accuracy", accuracy=_pct(accuracy), count=count,
                       threshold=_pct(threshold)))
        report_pass(self.title, len(seeds))


register(TrainMlpExercise(
    id="train_mlp",
    title_en="Exercise 5.10 · capstone: an MLP on the digits",
    title_zh="练习 5.10 · 综合练习：在手写数字上训练 MLP",
    assignment=ASSIGNMENT,
))
