"""Assignment 02 · 从异或到多层感知机: activations, output layers, losses, MLP forward, XOR.

Every expected value is a PyTorch expression in float64, computed while a case is prepared
(:meth:`~grader.checks.specs.Exercise.prepare`); what the known mistakes return is computed
there too, from the inputs and torch, never from a NumPy answer. Every check call runs its
calls on the student's code as :class:`~grader.checks.steps.Steps`: one message to the
sandbox in the grade of record, the same code in the student's kernel.

Activations follow one contract, stated in the notebook:

* ``f(z, **params)`` returns the activation, elementwise, same shape as ``z``;
* ``f_grad(z, **params)`` returns the elementwise derivative f'(z), so that the
  chain rule reads ``dz = dout * f_grad(z)``.

The expected derivative is read off ``torch.autograd``: the torch expression is
back-propagated with a random upstream gradient ``dout`` (kept at least 0.25 away
from 0) and the gradient is divided by ``dout``. At a kink the derivative is the one
PyTorch uses: ReLU'(0) = 0 and LeakyReLU'(0) = alpha (the left slope).

Numerical warnings: for activations, softmax and log-softmax a correct answer never
overflows, so any RuntimeWarning raised by the student's code (overflow, invalid
value, division by zero) fails the check with a bilingual explanation, even when
the returned values happen to be right (``1 / (1 + np.exp(-z))`` at z = -1000).
"""

from __future__ import annotations

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
    compare_array,
    is_plain,
    require_callable,
)
from grader.checks.exercises import register
from grader.checks.questions import Question
from grader.checks.specs import Exercise, _unpack, away_from, function_name
from grader.checks.steps import Done, Ref, Steps

ASSIGNMENT = "02_mlp"

Inputs = dict[str, np.ndarray]
Alternatives = list[tuple[str, np.ndarray]]

M.register(
    {
        "mlp_hdr_warning": (
            "`{function}` raised a numerical warning",
            "`{function}` 触发了数值警告",
        ),
        "mlp_warning": (
            "Your `{function}` returned the right values, but NumPy warned: \"{warning}\". "
            "A numerically stable answer never overflows, not even at ±1000 or for logits "
            "of 1e4. Note that np.where(cond, a, b) computes both a and b on every element, "
            "so an exp that overflows in the branch you throw away still warns.",
            "你的 `{function}` 返回值正确，但 NumPy 发出了警告：“{warning}”。"
            "数值稳定的实现在 ±1000 或 1e4 这样的 logits 上也不会溢出。"
            "注意 np.where(cond, a, b) 会对每个元素同时计算 a 和 b，"
            "所以被丢弃的那一支里的 exp 溢出时照样会报警。",
        ),
        "mlp_hdr_mismatch_torch": (
            "`{name}` does not match PyTorch",
            "`{name}` 与 PyTorch 的结果不一致",
        ),
        "mlp_hdr_xor": (
            "the network does not compute XOR",
            "网络没有算出异或（XOR）",
        ),
        "mlp_hdr_params": (
            "`xor_params()` returned parameters of the wrong shape",
            "`xor_params()` 返回的参数形状不对",
        ),
        "mlp_xor_shapes": (
            "Expected `(W1, b1, W2, b2)` with shapes `(2, 2)`, `(2,)`, `(2, 1)`, `(1,)`: two "
            "inputs, two hidden units, one output. Found {found}.",
            "期望返回 `(W1, b1, W2, b2)`，形状依次为 `(2, 2)`、`(2,)`、`(2, 1)`、`(1,)`："
            "两个输入、两个隐藏单元、一个输出。实际是 {found}。",
        ),
        "mlp_xor_not_numbers": ("non-numeric values", "非数值的内容"),
        "mlp_xor_rule": (
            "The check computes y_hat = relu(X @ W1 + b1) @ W2 + b2 and predicts 1 when "
            "y_hat > 0.5. Rows that disagree with XOR are marked ✗:",
            "检查程序计算 y_hat = relu(X @ W1 + b1) @ W2 + b2，y_hat > 0.5 时预测 1。"
            "与异或不一致的行标有 ✗：",
        ),
        "mlp_xor_jitter": (
            "Each input was moved by up to {jitter} from its corner (seed={seed}): a good "
            "network keeps a margin around the threshold.",
            "每个输入在角点附近最多移动了 {jitter}（随机种子 seed={seed}）："
            "好的网络在阈值两侧留有余量。",
        ),
        "mlp_xor_row": (
            "{mark} x = ({x1}, {x2}): y_hat = {y_hat}, predicts {pred}, XOR is {target}",
            "{mark} x = ({x1}, {x2}) 时 y_hat = {y_hat}，预测 {pred}，异或为 {target}",
        ),
        # --- hints: activations ------------------------------------------------
        "mlp_hint_stable_sigmoid": (
            "Hint: only ever take np.exp of numbers <= 0. With e = np.exp(-np.abs(z)), "
            "sigmoid(z) is 1 / (1 + e) where z >= 0 and e / (1 + e) where z < 0.",
            "提示：只对 <= 0 的数取 np.exp。令 e = np.exp(-np.abs(z))，"
            "则 z >= 0 时 sigmoid(z) = 1 / (1 + e)，z < 0 时为 e / (1 + e)。",
        ),
        "mlp_hint_stable_tanh": (
            "Hint: np.tanh is already stable; `(e^z - e^-z) / (e^z + e^-z)` overflows for "
            "large |z|.",
            "提示：np.tanh 本身就是稳定的；`(e^z - e^-z) / (e^z + e^-z)` 在 |z| 很大时会溢出。",
        ),
        "mlp_hint_stable_softplus": (
            "Hint: softplus(z) = max(z, 0) + log1p(exp(-|z|)), or np.logaddexp(0, z). "
            "log(1 + exp(z)) overflows for large z.",
            "提示：softplus(z) = max(z, 0) + log1p(exp(-|z|))，或者用 np.logaddexp(0, z)。"
            "log(1 + exp(z)) 在 z 很大时会溢出。",
        ),
        "mlp_hint_softplus_grad_sigmoid": (
            "Hint: softplus' is the sigmoid. If your `softplus_grad` calls your `sigmoid`, "
            "that sigmoid is what overflows: make it stable (Exercise 2.2) and check again.",
            "提示：softplus 的导数就是 sigmoid。如果你的 `softplus_grad` 调用了你的 `sigmoid`，"
            "溢出的就是那个 sigmoid：先让它稳定（练习 2.2），再运行检查。",
        ),
        "mlp_hint_grad_on_z": (
            "Likely mistake: the derivative formula was applied to z instead of to the "
            "activation: sigmoid'(z) = s * (1 - s) with s = sigmoid(z), and "
            "tanh'(z) = 1 - t**2 with t = tanh(z).",
            "可能的错误：导数公式用在了 z 上，而不是激活值上：sigmoid'(z) = s * (1 - s)，"
            "其中 s = sigmoid(z)；而 tanh'(z) = 1 - t**2，其中 t = tanh(z)。",
        ),
        "mlp_hint_returned_activation": (
            "Likely mistake: the derivative function returned the activation itself, "
            "not its derivative.",
            "可能的错误：求导函数返回的是激活值本身，而不是它的导数。",
        ),
        "mlp_hint_relu_grad_at_zero": (
            "Likely mistake: the derivative at z = 0. ReLU has a kink there; PyTorch (and "
            "this course) uses 0, the slope on the left. Use z > 0, not z >= 0.",
            "可能的错误：z = 0 处的导数。ReLU 在这里有一个折点；PyTorch（以及本课程）"
            "取左侧的斜率 0。请用 z > 0，而不是 z >= 0。",
        ),
        "mlp_hint_relu_grad_sign": (
            "Likely mistake: np.sign(z) is -1 for negative z, but ReLU is flat there, so "
            "its derivative is 0.",
            "可能的错误：np.sign(z) 在 z 为负时是 -1，但 ReLU 在那里是平的，导数是 0。",
        ),
        "mlp_hint_relu_grad_from_output": (
            "Likely mistake: the derivative is 1 everywhere, also where z < 0 and ReLU is flat. "
            "The derivative is 1 only where z > 0. (A mask built from the output with >= does "
            "this: relu(z) >= 0 holds everywhere.)",
            "可能的错误：导数处处为 1，连 ReLU 是平的 z < 0 一侧也是 1。导数只在 z > 0 处为 1。"
            "（用输出配合 >= 构造掩码就会这样：relu(z) >= 0 处处成立。）",
        ),
        "mlp_hint_leaky_slope": (
            "Likely mistake: the slope for z < 0 is 0, as for ReLU; leaky ReLU keeps the "
            "slope alpha there.",
            "可能的错误：z < 0 一侧的斜率是 0，和 ReLU 一样；leaky ReLU 在那里保留斜率 alpha。",
        ),
        "mlp_hint_leaky_alpha": (
            "Likely mistake: the slope 0.01 is written into the code; use the `alpha` the "
            "function receives (this check passes another value).",
            "可能的错误：斜率 0.01 被写死在代码里了；请使用函数收到的 `alpha`（本检查传入的是另一个值）。",
        ),
        "mlp_hint_leaky_at_zero": (
            "Likely mistake: the derivative at z = 0. PyTorch uses the left slope, alpha, "
            "at the kink: 1 where z > 0, alpha elsewhere.",
            "可能的错误：z = 0 处的导数。PyTorch 在折点处取左侧斜率 alpha："
            "z > 0 处为 1，其余为 alpha。",
        ),
        "mlp_hint_missing_square": (
            "Likely mistake: the square is missing: tanh'(z) = 1 - tanh(z)**2.",
            "可能的错误：漏了平方：tanh'(z) = 1 - tanh(z)**2。",
        ),
        "mlp_hint_prelu_dalpha_zero": (
            "Likely mistake: the derivative with respect to alpha is 0 everywhere, as if the "
            "slope were a constant. alpha is learned: where z <= 0 the output is alpha * z, "
            "so it moves by z when alpha moves.",
            "可能的错误：对 alpha 的导数处处为 0，好像斜率是常数一样。alpha 是要学习的参数："
            "在 z <= 0 处输出是 alpha * z，alpha 变动时输出按 z 的倍数变动。",
        ),
        "mlp_hint_prelu_dalpha_everywhere": (
            "Likely mistake: the derivative with respect to alpha is z everywhere. Where "
            "z > 0 the output is z itself and alpha does not appear in it: the derivative "
            "is 0 there.",
            "可能的错误：对 alpha 的导数处处取成了 z。在 z > 0 处输出就是 z 本身，其中没有 alpha："
            "那里的导数是 0。",
        ),
        "mlp_hint_prelu_dalpha_is_slope": (
            "Likely mistake: the derivative with respect to alpha was given the value of the "
            "slope (alpha or 1), which is the derivative with respect to z. Differentiate "
            "alpha * z with respect to alpha instead.",
            "可能的错误：对 alpha 的导数取成了斜率（alpha 或 1），那是对 z 的导数。"
            "请对 alpha * z 关于 alpha 求导。",
        ),
        "mlp_hint_prelu_dalpha_summed": (
            "Likely mistake: one number came back: the gradient of a loss with respect to "
            "alpha. `prelu_grad` returns the local derivative d out / d alpha element by "
            "element, with the shape of z; the chain rule sums `dout * dalpha` afterwards.",
            "可能的错误：返回了一个数，也就是损失对 alpha 的梯度。`prelu_grad` 应当逐元素返回"
            "局部导数 d out / d alpha，形状与 z 相同；之后由链式法则对 `dout * dalpha` 求和。",
        ),
        "mlp_hint_prelu_alpha_written_in": (
            "Likely mistake: a slope is written into the code (0.25, PyTorch's starting "
            "value, or 0.01); use the `alpha` the function receives (this check passes "
            "another value).",
            "可能的错误：斜率被写死在代码里了（PyTorch 的初始值 0.25，或 0.01）；"
            "请使用函数收到的 `alpha`（本检查传入的是另一个值）。",
        ),
        # --- questions ----------------------------------------------------------
        "q2_1_weight": (
            "That is the shape of W2, the weights of layer 2. The question asks for what "
            "layer 2 outputs: one row per example.",
            "这是第 2 层权重 W2 的形状。题目问的是第 2 层的输出：每个样本占一行。",
        ),
        "q2_1_transposed": (
            "Rows and columns are swapped: in this course the examples are the rows.",
            "行和列颠倒了：本课程中样本按行排列。",
        ),
        "q2_1_output": (
            "That is what the whole network outputs (after layer 3). Stop after layer 2.",
            "这是整个网络（第 3 层之后）的输出形状。请停在第 2 层。",
        ),
        "q2_1_layer_1": (
            "That is what layer 1 outputs. Layer 2 maps its 128 inputs to how many outputs?",
            "这是第 1 层的输出形状。第 2 层把 128 个输入映射成多少个输出？",
        ),
        "q2_2_unchanged": (
            "That is the probability before scaling. Adding the same number to every logit "
            "changes nothing; multiplying them does: the gaps between logits grow.",
            "这是缩放之前的概率。给所有 logits 加同一个数不改变结果；乘以一个数却会："
            "logits 之间的差距变大了。",
        ),
        "q2_2_one": (
            "Closer than you might think, but not yet 1: compute e^6 / (e^6 + e^3 + e^0).",
            "比想象的更接近 1，但还不是 1：算一算 e^6 / (e^6 + e^3 + e^0)。",
        ),
        "q2_2_uniform": (
            "Scaling the logits up makes the distribution sharper, not flatter. Scaling them "
            "down towards 0 is what makes it uniform.",
            "把 logits 放大会让分布更尖锐，而不是更平坦。把它们缩小到接近 0 才会得到均匀分布。",
        ),
        "q2_3_linear": (
            "One sigmoid neuron on (x1, x2) draws one straight line, however long it trains "
            "and whatever its learning rate: XOR's classes cannot be split by one line.",
            "在 (x1, x2) 上的单个 sigmoid 神经元只能画出一条直线，无论训练多久、学习率多大："
            "异或的两类无法用一条直线分开。",
        ),
        "q2_3_perceptron": (
            "The perceptron also draws one straight line; on XOR it cycles for ever "
            "(Assignment 01).",
            "感知机同样只能画一条直线；在异或上它会无休止地循环（作业 01）。",
        ),
        # --- hints: softmax and losses ----------------------------------------
        "mlp_hint_max_shift": (
            "Hint: subtract each row's maximum before exp: softmax(z) = softmax(z - max(z)), "
            "and then the largest exponent is exp(0) = 1.",
            "提示：取 exp 之前先减去每一行的最大值：softmax(z) = softmax(z - max(z))，"
            "这样最大的指数项就是 exp(0) = 1。",
        ),
        "mlp_hint_softmax_axis": (
            "Likely mistake: normalised over the wrong axis. Each row (one example) must "
            "sum to 1: use axis=1 with keepdims=True.",
            "可能的错误：在错误的维度上归一化。每一行（一个样本）的和应当为 1："
            "用 axis=1 并设 keepdims=True。",
        ),
        "mlp_hint_global_max": (
            "Likely mistake: one maximum for the whole batch was subtracted. That is still "
            "correct in exact arithmetic but underflows rows far below it; subtract each "
            "row's own maximum (`axis=1, keepdims=True`).",
            "可能的错误：整个批量减去了同一个最大值。数学上仍然正确，但远低于它的行会下溢为 0；"
            "请减去每一行自己的最大值（`axis=1, keepdims=True`）。",
        ),
        "mlp_hint_logsumexp": (
            "Hint: do not take np.log of softmax, which can round to exactly 0. Use "
            "log_softmax(z) = z - m - log(sum(exp(z - m))) with m the row maximum.",
            "提示：不要对 softmax 取 np.log，softmax 可能被舍入成恰好 0。"
            "请用 log_softmax(z) = z - m - log(sum(exp(z - m)))，m 为该行最大值。",
        ),
        "mlp_hint_mse_half": (
            "Likely mistake: a factor 1/2. Some books define the squared loss as "
            "(y_hat - y)**2 / 2 to tidy its derivative; here MSE is the plain mean of the "
            "squared errors, like torch.nn.functional.mse_loss.",
            "可能的错误：多了因子 1/2。有些书把平方损失定义为 (y_hat - y)**2 / 2，"
            "好让导数简洁；这里的 MSE 是误差平方的平均值，与 torch.nn.functional.mse_loss 一致。",
        ),
        "mlp_hint_mean_over_all": (
            "Likely mistake: MSE averages over every element (N * num_outputs of them), "
            "not only over the N examples.",
            "可能的错误：MSE 对所有元素（共 N * num_outputs 个）求平均，而不只是对 N 个样本求平均。",
        ),
        "mlp_hint_ce_probabilities": (
            "Likely mistake: the logits were used as if they were probabilities. Apply "
            "log_softmax to the logits first.",
            "可能的错误：把 logits 当成了概率。请先对 logits 做 log_softmax。",
        ),
        "mlp_hint_zero_log_zero": (
            "Hint: terms with q = 0 contribute 0 (the limit of q*log q is 0), but "
            "0 * np.log(0) is 0 * -inf = nan in NumPy. Take the log only where q > 0.",
            "提示：q = 0 的项贡献为 0（因为 q*log q 的极限是 0），但在 NumPy 中 "
            "0 * np.log(0) 是 0 * -inf = nan。只在 q > 0 处取对数。",
        ),
        "mlp_hint_kl_swapped": (
            "Likely mistake: the arguments are swapped: this is KL(p‖q). KL(q‖p) = "
            "sum q * log(q / p), weighted by q, the first argument. KL is not symmetric.",
            "可能的错误：参数顺序反了，算成了 KL(p‖q)。KL(q‖p) = sum q * log(q / p)，"
            "以第一个参数 q 加权。KL 散度不对称。",
        ),
        "mlp_hint_log_base": (
            "Likely mistake: the logarithm base. Use the natural log (np.log), as PyTorch "
            "does; np.log2 measures in bits.",
            "可能的错误：对数的底。请用自然对数（np.log），与 PyTorch 一致；np.log2 的单位是比特。",
        ),
        "mlp_hint_per_batch": (
            "Likely mistake: one number for the whole batch was returned; return one value "
            "per row (per example), shape `(N,)`.",
            "可能的错误：整个批量只返回了一个数；应当每一行（每个样本）返回一个值，形状为 `(N,)`。",
        ),
        # --- hints: layers ----------------------------------------------------
        "mlp_hint_collapse_bias": (
            "Likely mistake: the first bias also passes through the second layer: "
            "`(X @ W1 + b1) @ W2 + b2 = X @ (W1 @ W2) + (b1 @ W2 + b2)`.",
            "可能的错误：第一层的偏置也要经过第二层："
            "`(X @ W1 + b1) @ W2 + b2 = X @ (W1 @ W2) + (b1 @ W2 + b2)`。",
        ),
        "mlp_hint_collapse_order": (
            "Likely mistake: the order of the product. With rows as examples, X @ W1 comes "
            "first, so the combined weight is W1 @ W2.",
            "可能的错误：乘法顺序。样本按行排列时先算 X @ W1，所以合并后的权重是 W1 @ W2。",
        ),
        "mlp_hint_missing_bias": (
            "Likely mistake: the bias b was not added.",
            "可能的错误：没有加上偏置 b。",
        ),
        "mlp_hint_bias_after_activation": (
            "Likely mistake: the bias was added after the activation. A dense layer "
            "computes activation(X @ W + b).",
            "可能的错误：偏置加在了激活之后。全连接层计算的是 activation(X @ W + b)。",
        ),
        "mlp_hint_output_activation": (
            "Likely mistake: the hidden activation was applied to the output layer too. "
            "The last layer uses `output_activation` (identity for regression, softmax "
            "for classification).",
            "可能的错误：输出层也用了隐藏层的激活函数。最后一层应当使用 `output_activation`"
            "（回归用恒等函数，分类用 softmax）。",
        ),
        "mlp_hint_no_hidden_activation": (
            "Likely mistake: no activation between the layers, so the whole network "
            "collapses into one affine map. Apply `hidden_activation` after every hidden "
            "layer.",
            "可能的错误：层与层之间没有激活函数，整个网络退化成一个仿射变换。"
            "每个隐藏层之后都要应用 `hidden_activation`。",
        ),
        "mlp_hint_no_output_activation": (
            "Likely mistake: `output_activation` was not applied to the last layer.",
            "可能的错误：最后一层没有应用 `output_activation`。",
        ),
    }
)


# ------------------------------------------------------------------------ helpers


def _torch():
    return torchref.torch


def _tensors(inputs: Mapping[str, np.ndarray]) -> dict[str, Any]:
    torch = _torch()
    return {name: torch.tensor(np.asarray(v)) for name, v in inputs.items()}


def _numeric_warnings(caught: list) -> list:
    return [w for w in caught if isinstance(w.category, type)
            and issubclass(w.category, RuntimeWarning)]


def _fail_on_warnings(case: Case, function: str, caught: list, hint: str | None) -> None:
    """A correct answer raises no numerical warning: fail with the first one seen."""
    __tracebackhide__ = True
    numeric = _numeric_warnings(caught)
    if not numeric:
        return
    lines = [
        case.header("mlp_hdr_warning", function=function),
        M.bilingual("mlp_warning", indent="  ", function=function,
                    warning=str(numeric[0].message)),
    ]
    if hint:
        lines.append(M.bilingual(hint, indent="  "))
    lines += case.reproduce_lines()
    raise CheckFailure("\n".join(lines), exercise=case.exercise)


def _compare(case: Case, name: str, expected: np.ndarray, actual: Any, *,
             nonfinite_hint: str | None = None, **kwargs: Any) -> None:
    """``compare_array``, plus a specific hint when the answer is NaN/inf where it should not be."""
    __tracebackhide__ = True
    try:
        compare_array(case, name, expected, actual, **kwargs)
    except CheckFailure as failure:
        if nonfinite_hint and _nonfinite_where_finite(expected, actual):
            lines = failure.args[0].split("\n")
            # After the header and the "not finite" lines, before "Reproduce with".
            lines[4:4] = M.bilingual(nonfinite_hint, indent="  ").split("\n")
            raise CheckFailure("\n".join(lines), kind=failure.kind,
                               exercise=failure.exercise) from None
        raise


def _nonfinite_where_finite(expected: np.ndarray, actual: Any) -> bool:
    if not is_plain(actual):
        return False
    try:
        array = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=np.float64)
    if array.shape != expected.shape:
        return False
    return bool((~np.isfinite(array) & np.isfinite(expected)).any())


def _describe(inputs: Mapping[str, Any]) -> str:
    parts = []
    for name, value in inputs.items():
        array = np.asarray(value)
        text = np.array2string(array, threshold=24, separator=", ", max_line_width=10_000,
                               formatter={"float_kind": lambda v: f"{v:.6g}"})
        parts.append(f"{name} = {text.replace(chr(10), '')}")  # one line, even for 2-D
    return "; ".join(parts)


def _rows_to_distribution(logits: np.ndarray) -> np.ndarray:
    """Rows of probabilities (torch's softmax: the check's inputs, not an answer)."""
    torch = _torch()
    return torch.softmax(torch.tensor(logits), dim=1).numpy().copy()


# -------------------------------------------------------------------- activations


EDGE_Z = np.array([-1000.0, -100.0, -30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0, 100.0, 1000.0])


@dataclass
class ActivationSpec(Exercise):
    """``f(z, **params)`` and ``f_grad(z, **params)`` (the elementwise derivative) vs autograd.

    Random cases come from ``seeds`` x ``shapes`` (kept away from kinks); then the edge
    case ``EDGE_Z`` (±1000, ±30, exactly 0) always runs, since stability is part of
    the exercise. Both functions of every case run in one batch of steps.
    """

    reference: Callable[..., Any] = None  # type: ignore[assignment]
    function: str = ""  # the notebook's name for f; the derivative is f"{function}_grad"
    kinks: Sequence[float] = ()
    stability_hint: str | None = None
    #: the hint when the derivative warns or is not finite (default: ``stability_hint``)
    grad_stability_hint: str | None = None
    value_mutants: Callable[[np.ndarray, Mapping[str, Any]], Alternatives] | None = None
    grad_mutants: Callable[[np.ndarray, Mapping[str, Any]], Alternatives] | None = None
    tol: Tolerance = field(default_factory=Tolerance)
    #: the formula text of the answer, never printed above the exercise (tests/test_pedagogy.py)
    answer_text: tuple[str, ...] = ()

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   **params: Any) -> list[Case]:
        found = []
        for seed in seeds:
            for shape in shapes:
                rng = np.random.default_rng(seed)
                z = away_from(rng, shape, kinks=self.kinks, margin=1e-3, scale=3.0)
                dout = away_from(rng, z.shape, kinks=(0.0,), margin=0.25)
                found.append(self.case(seed=seed, inputs={"z": z},
                                       data={"params": params, "dout": dout}))
        z = EDGE_Z.copy()
        dout = away_from(np.random.default_rng(0), z.shape, kinks=(0.0,), margin=0.25)
        found.append(self.case(description=_describe({"z": z}), inputs={"z": z},
                               data={"params": params, "dout": dout}))
        return found

    def prepare(self, case: Case) -> None:
        z, dout, params = case.inputs["z"], case.data["dout"], case.data["params"]
        out_ref, grads = torchref.evaluate(lambda z: self.reference(z, **params), {"z": z},
                                           ["z"], dout)
        case.data["out"] = out_ref
        case.data["dz"] = grads["z"] / dout + 0.0  # f'(z), read off autograd (+ 0.0: no -0)
        case.data["value_alternatives"] = (list(self.value_mutants(z, params))
                                           if self.value_mutants else [])
        case.data["grad_alternatives"] = [("mlp_hint_returned_activation", out_ref)] + (
            list(self.grad_mutants(z, params)) if self.grad_mutants else [])

    def drive(self, steps: Steps, case: Case, fn: Any, fn_grad: Any) -> dict:
        __tracebackhide__ = True
        names = (function_name(fn, self.function or self.id),
                 function_name(fn_grad, f"{self.function or self.id}_grad"))
        require_callable(case, names[0], fn)
        require_callable(case, names[1], fn_grad)
        z, params = case.inputs["z"], case.data["params"]
        return {"names": names,
                "f": steps.call(fn, z, name=names[0], arg_names=("z",), **params),
                "grad": steps.call(fn_grad, z, name=names[1], arg_names=("z",), **params)}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name, grad_name = plan["names"]
        caught: list = []
        out = done.value(case, plan["f"], record_warnings=caught)
        _compare(case, "out", case.data["out"], out, tol=self.tol,
                 alternatives=case.data["value_alternatives"],
                 nonfinite_hint=self.stability_hint, header_key="hdr_mismatch_autograd")
        _fail_on_warnings(case, name, caught, self.stability_hint)
        caught = []
        derivative = done.value(case, plan["grad"], record_warnings=caught)
        hint = self.grad_stability_hint or self.stability_hint
        _compare(case, f"{grad_name}(z)", case.data["dz"], derivative, tol=self.tol,
                 alternatives=case.data["grad_alternatives"],
                 nonfinite_hint=hint, header_key="hdr_mismatch_autograd")
        _fail_on_warnings(case, grad_name, caught, hint)


def _sigmoid_grad_mutants(z, params) -> Alternatives:
    return [("mlp_hint_grad_on_z", z * (1 - z))]


def _tanh_grad_mutants(z, params) -> Alternatives:
    return [("mlp_hint_grad_on_z", 1 - z**2), ("mlp_hint_missing_square", 1 - np.tanh(z))]


def _relu_grad_mutants(z, params) -> Alternatives:
    return [
        ("mlp_hint_relu_grad_at_zero", (z >= 0).astype(float)),
        ("mlp_hint_relu_grad_sign", np.sign(z)),
        ("mlp_hint_relu_grad_from_output", np.ones_like(z)),
    ]


def _leaky_grad_mutants(z, params) -> Alternatives:
    alpha = params.get("alpha", 0.01)
    found = [("mlp_hint_leaky_at_zero", np.where(z >= 0, 1.0, alpha)),
             ("mlp_hint_leaky_slope", (z > 0).astype(float))]
    if alpha != 0.01:
        found.append(("mlp_hint_leaky_alpha", np.where(z > 0, 1.0, 0.01)))
    return found


def _leaky_value_mutants(z, params) -> Alternatives:
    alpha = params.get("alpha", 0.01)
    found = [("mlp_hint_leaky_slope", np.maximum(z, 0.0))]
    if alpha != 0.01:
        found.append(("mlp_hint_leaky_alpha", np.where(z > 0, z, 0.01 * z)))
    return found


def _torch_leaky(z, alpha=0.01):
    return _torch().nn.functional.leaky_relu(z, negative_slope=alpha)


for _spec in (
    ActivationSpec(
        id="sigmoid_activation", function="sigmoid",
        title_en="Exercise 2.2 · sigmoid", title_zh="练习 2.2 · sigmoid",
        assignment=ASSIGNMENT, reference=lambda z: _torch().sigmoid(z),
        stability_hint="mlp_hint_stable_sigmoid", grad_mutants=_sigmoid_grad_mutants,
        answer_text=("s * (1 - s)", "\\sigma(z)\\,\\bigl(1 - \\sigma(z)\\bigr)",
                     "\\sigma(z)(1 - \\sigma(z))", "e / (1 + e)"),
    ),
    ActivationSpec(
        id="tanh_activation", function="tanh",
        title_en="Exercise 2.3 · tanh", title_zh="练习 2.3 · tanh",
        assignment=ASSIGNMENT, reference=lambda z: _torch().tanh(z),
        stability_hint="mlp_hint_stable_tanh", grad_mutants=_tanh_grad_mutants,
        answer_text=("1 - np.tanh(z) ** 2", "1 - \\tanh^2(z)", "1 - tanh(z)**2"),
    ),
    ActivationSpec(
        id="relu_activation", function="relu",
        title_en="Exercise 2.4 · ReLU", title_zh="练习 2.4 · ReLU",
        assignment=ASSIGNMENT, reference=lambda z: _torch().relu(z), kinks=(0.0,),
        grad_mutants=_relu_grad_mutants,
        answer_text=("(z > 0).astype(float)", "\\begin{cases} 1 & z > 0 \\\\ 0 & z \\le 0"),
    ),
    ActivationSpec(
        id="leaky_relu_activation", function="leaky_relu",
        title_en="Exercise 2.5 · leaky ReLU",
        title_zh="练习 2.5 · 带泄露的 ReLU（即 leaky ReLU）",
        assignment=ASSIGNMENT, reference=_torch_leaky, kinks=(0.0,),
        value_mutants=_leaky_value_mutants, grad_mutants=_leaky_grad_mutants,
        answer_text=("np.where(z > 0, 1.0, alpha)",
                     "\\begin{cases} 1 & z > 0 \\\\ \\alpha & z \\le 0"),
    ),
    ActivationSpec(
        id="softplus_activation", function="softplus",
        title_en="Exercise 2.7 · softplus", title_zh="练习 2.7 · softplus",
        assignment=ASSIGNMENT,
        reference=lambda z: _torch().logaddexp(z, _torch().zeros_like(z)),
        stability_hint="mlp_hint_stable_softplus",
        grad_stability_hint="mlp_hint_softplus_grad_sigmoid",
        answer_text=("\\mathrm{softplus}'(z) = \\sigma(z)", "np.log1p(np.exp(-np.abs(z)))",
                     "\\log\\bigl(1 + e^{-|z|}\\bigr)"),
    ),
):
    register(_spec)


@dataclass
class PreluSpec(ActivationSpec):
    """``prelu(z, alpha)`` and ``prelu_grad(z, alpha) -> (dz, dalpha)``, both elementwise.

    ``dz`` is d out / d z and ``dalpha`` is d out / d alpha, element by element, so that
    the chain rule reads ``dz = dout * dz`` and ``dalpha = (dout * dalpha).sum()`` (one
    learned slope, as ``torch.nn.PReLU()``). The reference is ``F.prelu``; ``dz`` is read
    off autograd as for the other activations, ``dalpha`` off autograd's Jacobian of the
    output with respect to the slope.
    """

    def prepare(self, case: Case) -> None:
        torch = _torch()
        z, dout, params = case.inputs["z"], case.data["dout"], case.data["params"]
        alpha = float(params["alpha"])
        prelu = torch.nn.functional.prelu
        out_ref, grads = torchref.evaluate(
            lambda z, weight: prelu(z, weight), {"z": z, "weight": np.array([alpha])},
            ["z"], dout)
        zt = torch.tensor(z)
        jac = torch.autograd.functional.jacobian(lambda w: prelu(zt, w),
                                                 torch.tensor([alpha], dtype=torch.float64))
        case.data["out"] = out_ref
        case.data["dz"] = grads["z"] / dout + 0.0
        case.data["dalpha"] = jac.reshape(z.shape).numpy().copy() + 0.0
        written_in = [a for a in (0.25, 0.01) if a != alpha]
        case.data["value_alternatives"] = (
            [("mlp_hint_leaky_slope", np.maximum(z, 0.0))]
            + [("mlp_hint_prelu_alpha_written_in", np.where(z > 0, z, a * z))
               for a in written_in])
        case.data["grad_alternatives"] = (
            [("mlp_hint_returned_activation", out_ref),
             ("mlp_hint_leaky_at_zero", np.where(z >= 0, 1.0, alpha)),
             ("mlp_hint_leaky_slope", (z > 0).astype(float))]
            + [("mlp_hint_prelu_alpha_written_in", np.where(z > 0, 1.0, a))
               for a in written_in])
        case.data["dalpha_alternatives"] = [
            ("mlp_hint_prelu_dalpha_zero", np.zeros_like(z)),
            ("mlp_hint_prelu_dalpha_everywhere", z.copy()),
            ("mlp_hint_prelu_dalpha_is_slope", np.where(z > 0, 1.0, alpha)),
            ("mlp_hint_prelu_dalpha_is_slope", np.where(z > 0, 0.0, alpha)),
        ]

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name, grad_name = plan["names"]
        caught: list = []
        out = done.value(case, plan["f"], record_warnings=caught)
        _compare(case, "out", case.data["out"], out, tol=self.tol,
                 alternatives=case.data["value_alternatives"],
                 header_key="hdr_mismatch_autograd")
        _fail_on_warnings(case, name, caught, None)
        caught = []
        dz, dalpha = _unpack(case, grad_name,
                             done.value(case, plan["grad"], record_warnings=caught),
                             ("dz", "dalpha"))
        _compare(case, f"dz ({grad_name})", case.data["dz"], dz, tol=self.tol,
                 alternatives=case.data["grad_alternatives"],
                 header_key="hdr_mismatch_autograd")
        if is_plain(dalpha) and np.ndim(dalpha) == 0:
            raise CheckFailure("\n".join([
                case.header("hdr_wrong_shape", name=f"dalpha ({grad_name})"),
                M.bilingual("wrong_shape", indent="  ", name=f"dalpha ({grad_name})",
                            found=(), expected=tuple(np.shape(case.inputs["z"]))),
                M.bilingual("mlp_hint_prelu_dalpha_summed", indent="  "),
                *case.reproduce_lines()]), exercise=case.exercise)
        _compare(case, f"dalpha ({grad_name})", case.data["dalpha"], dalpha, tol=self.tol,
                 alternatives=case.data["dalpha_alternatives"],
                 header_key="hdr_mismatch_autograd")
        _fail_on_warnings(case, grad_name, caught, None)


register(
    PreluSpec(
        id="prelu_activation", function="prelu",
        title_en="Exercise 2.6 · parametric ReLU",
        title_zh="练习 2.6 · 参数化 ReLU（PReLU）",
        assignment=ASSIGNMENT, reference=None, kinks=(0.0,),  # type: ignore[arg-type]
        answer_text=("np.where(z > 0, 0.0, z)", "z * (z <= 0)",
                     "\\frac{\\partial\\,\\mathrm{PReLU}}{\\partial \\alpha}"),
    )
)


# ---------------------------------------------------------------- value exercises


@dataclass
class ValueSpec(Exercise):
    """``fn(*inputs, **params)`` against a torch expression, on random and edge cases.

    ``edges`` are always checked after the random cases. With ``strict_warnings`` a
    numerical warning fails the check even when the values are right.
    """

    make_inputs: Callable[[np.random.Generator, tuple], Inputs] = None  # type: ignore[assignment]
    reference: Callable[..., Any] = None  # type: ignore[assignment]
    edges: Callable[[Mapping[str, Any]], list[Inputs]] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    mutants: Callable[[Inputs, Mapping[str, Any]], Alternatives] | None = None
    tol: Tolerance = field(default_factory=Tolerance)
    output_name: str = "out"
    strict_warnings: bool = False
    hint: str | None = None  # shown for NaN/inf and for warnings
    call_args: Callable[[Inputs], tuple] | None = None  # how inputs become arguments
    arg_names: Sequence[str] = ()  # the arguments' names when call_args regroups them
    scalar_batch: bool = False  # the output is one number: N is the first input's length
    #: the formula text of the answer, never printed above the exercise (tests/test_pedagogy.py)
    answer_text: tuple[str, ...] = ()

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple],
                   **params: Any) -> list[Case]:
        full = {**self.params, **params}
        data = {"params": full, "passed": params}
        found = [self.case(seed=seed, inputs=self.make_inputs(np.random.default_rng(seed),
                                                              tuple(shape)), data=dict(data))
                 for seed in seeds for shape in shapes]
        for inputs in self.edges(full) if self.edges else []:
            found.append(self.case(description=_describe(inputs), inputs=inputs,
                                   data=dict(data)))
        return found

    def prepare(self, case: Case) -> None:
        torch = _torch()
        with torch.no_grad():
            expected = self.reference(**_tensors(case.inputs), **case.data["params"])
        case.data["expected"] = expected.numpy().copy()
        case.data["alternatives"] = (list(self.mutants(case.inputs, case.data["params"]))
                                     if self.mutants else [])

    def drive(self, steps: Steps, case: Case, fn: Any) -> dict:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        inputs = case.inputs
        args = list(self.call_args(inputs) if self.call_args else inputs.values())
        nested = {}
        for position, value in enumerate(args):
            if isinstance(value, list):
                # A list of arrays (the MLP's params) is made in the student's process and
                # passed as itself, so that what the function does to it can be looked at.
                args[position] = steps.op("list", value, name="list", fetch=False)
                nested[position] = args[position]
        call = steps.call(fn, *args, name=name, arg_names=tuple(self.arg_names or inputs),
                          **case.data["passed"])
        after = {position: steps.op("list", ref, name="list") for position, ref in nested.items()}
        return {"name": name, "call": call, "after": after}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        name, call = plan["name"], plan["call"]
        caught: list = []
        actual = done.value(case, call, record_warnings=caught)
        for position, ref in plan["after"].items():
            self._unchanged(case, name, position, done.value(case, ref))
        expected = case.data["expected"]
        first = next(iter(case.inputs.values()))
        batch = first.shape[0] if self.scalar_batch else (
            expected.shape[0] if expected.ndim else None)
        _compare(case, self.output_name, expected, actual, tol=self.tol,
                 batch_size=batch, alternatives=case.data["alternatives"],
                 nonfinite_hint=self.hint, header_key="mlp_hdr_mismatch_torch")
        if self.strict_warnings:
            _fail_on_warnings(case, name, caught, self.hint)


    def _unchanged(self, case: Case, name: str, position: int, after: Any) -> None:
        """A list argument (the MLP's params) must be as it was given, arrays included."""
        __tracebackhide__ = True
        given = (self.call_args(case.inputs) if self.call_args
                 else tuple(case.inputs.values()))[position]
        if not _same_nested(given, after):
            names = tuple(self.arg_names or case.inputs)
            raise CheckFailure(
                "\n".join([case.header("hdr_modified"),
                           M.bilingual("mutated_input", indent="  ", function=name,
                                       name=names[position] if position < len(names)
                                       else f"argument {position + 1}"),
                           *case.reproduce_lines()]),
                kind="mutated", exercise=case.exercise)


def _same_nested(given: Any, found: Any, depth: int = 0) -> bool:
    """Whether ``found`` (plain data from the student's process) equals ``given``."""
    if isinstance(given, np.ndarray):
        return (type(found) is np.ndarray and found.shape == given.shape
                and bool(np.array_equal(found, given)))
    if isinstance(given, (list, tuple)):
        return (type(found) in (list, tuple) and len(found) == len(given) and depth < 20
                and all(_same_nested(g, f, depth + 1) for g, f in zip(given, found)))
    return bool(type(found) is type(given) and found == given)


# --- softmax and log-softmax ------------------------------------------------------


def _logits(rng: np.random.Generator, shape: tuple) -> Inputs:
    return {"Z": rng.standard_normal(tuple(shape)) * 3.0}


def _softmax_edges(params) -> list[Inputs]:
    return [
        {"Z": np.array([[1e4, 0.0, -1e4]])},
        {"Z": np.array([[1e4, 1e4 - 1.0, 1e4 - 2.0], [-1e4, -1e4 + 1.0, -1e4 + 2.0]])},
        {"Z": np.array([[1000.0, 1000.0], [-5.0, 5.0], [0.0, 0.0]])},
        {"Z": np.array([[3.0]])},
    ]


def _softmax_mutants(inputs, params) -> Alternatives:
    torch = _torch()
    Z = torch.tensor(inputs["Z"])
    # normalised down the columns (with N = 1 every entry is 1)
    out: Alternatives = [("mlp_hint_softmax_axis", torch.softmax(Z, dim=0).numpy().copy())]
    # one maximum for the whole batch: rows far below it underflow to 0 / 0
    e = torch.exp(Z - Z.max())
    out.append(("mlp_hint_global_max", (e / e.sum(dim=1, keepdim=True)).numpy().copy()))
    return out


def _log_softmax_mutants(inputs, params) -> Alternatives:
    torch = _torch()
    return [("mlp_hint_softmax_axis",
             torch.log_softmax(torch.tensor(inputs["Z"]), dim=0).numpy().copy())]


register(
    ValueSpec(
        id="softmax", title_en="Exercise 2.8 · softmax", title_zh="练习 2.8 · softmax",
        assignment=ASSIGNMENT, make_inputs=_logits,
        reference=lambda Z: _torch().softmax(Z, dim=1),
        edges=_softmax_edges, mutants=_softmax_mutants, strict_warnings=True,
        hint="mlp_hint_max_shift",
        answer_text=("Z - Z.max(axis=1, keepdims=True)", "c = -\\max_k z_k"),
    )
)
register(
    ValueSpec(
        id="log_softmax", title_en="Exercise 2.9 · log-softmax",
        title_zh="练习 2.9 · log-softmax",
        assignment=ASSIGNMENT, make_inputs=_logits,
        reference=lambda Z: _torch().log_softmax(Z, dim=1),
        edges=_softmax_edges, mutants=_log_softmax_mutants, strict_warnings=True,
        hint="mlp_hint_logsumexp",
        answer_text=("z_j - m - \\log \\sum_{k} e^{z_k - m}",
                     "shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))"),
    )
)


# --- dense layer and MLP forward ---------------------------------------------------


ACTIVATION_NAMES = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax")


def _torch_activation(name: str) -> Callable[[Any], Any]:
    torch = _torch()
    table = {
        "identity": lambda Z: Z,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": _torch_leaky,
        "softplus": lambda Z: torch.logaddexp(Z, torch.zeros_like(Z)),
        "softmax": lambda Z: torch.softmax(Z, dim=1),
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; use one of {ACTIVATION_NAMES}")
    return table[name]


def _dense_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    """shape = (N, num_inputs, num_outputs)."""
    n, d, m = shape
    return {
        "X": rng.standard_normal((n, d)),
        "W": rng.standard_normal((d, m)) / np.sqrt(d),
        "b": rng.standard_normal(m),
    }


def _dense_mutants(inputs, params) -> Alternatives:
    act = _torch_activation(params.get("activation", "relu"))
    t = _tensors(inputs)
    return [
        ("mlp_hint_missing_bias", act(t["X"] @ t["W"]).numpy().copy()),
        ("mlp_hint_bias_after_activation", (act(t["X"] @ t["W"]) + t["b"]).numpy().copy()),
    ]


register(
    ValueSpec(
        id="dense", title_en="Exercise 2.10 · dense layer",
        title_zh="练习 2.10 · 全连接层（dense layer）",
        assignment=ASSIGNMENT, make_inputs=_dense_inputs,
        reference=lambda X, W, b, activation="relu": _torch_activation(activation)(X @ W + b),
        mutants=_dense_mutants, answer_text=("activation_fn(activation)(X @ W + b)",),
    )
)


def _mlp_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    """shape = (N, num_inputs, num_hiddens..., num_outputs): one weight pair per layer."""
    n, *sizes = shape
    inputs = {"X": rng.standard_normal((n, sizes[0]))}
    for layer, (d, m) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        inputs[f"W{layer}"] = rng.standard_normal((d, m)) / np.sqrt(d)
        inputs[f"b{layer}"] = rng.standard_normal(m) * 0.5
    return inputs


def _mlp_params(inputs: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    layers = (len(inputs) - 1) // 2
    return [(inputs[f"W{i}"], inputs[f"b{i}"]) for i in range(1, layers + 1)]


def _mlp_forward(inputs, hidden, output) -> Any:
    """The network in torch, with the activations named (the reference and its mistakes)."""
    H = inputs["X"]
    params = _mlp_params(inputs)
    for W, b in params[:-1]:
        H = _torch_activation(hidden)(H @ W + b)
    W, b = params[-1]
    return _torch_activation(output)(H @ W + b)


def _mlp_reference(hidden_activation="relu", output_activation="identity", **inputs):
    return _mlp_forward(inputs, hidden_activation, output_activation)


def _mlp_mutants(inputs, params) -> Alternatives:
    hidden = params.get("hidden_activation", "relu")
    output = params.get("output_activation", "identity")
    t = _tensors(inputs)
    out: Alternatives = []
    if hidden != output:
        out.append(("mlp_hint_output_activation",
                    _mlp_forward(t, hidden, hidden).numpy().copy()))
    if hidden != "identity" and len(inputs) > 3:
        out.append(("mlp_hint_no_hidden_activation",
                    _mlp_forward(t, "identity", output).numpy().copy()))
    if output != "identity":
        out.append(("mlp_hint_no_output_activation",
                    _mlp_forward(t, hidden, "identity").numpy().copy()))
    return out


register(
    ValueSpec(
        id="mlp_forward", title_en="Exercise 2.11 · MLP forward pass",
        title_zh="练习 2.11 · 多层感知机的前向传播",
        assignment=ASSIGNMENT, make_inputs=_mlp_inputs,
        reference=_mlp_reference, mutants=_mlp_mutants, output_name="y_hat",
        call_args=lambda given: (given["X"], _mlp_params(given)), arg_names=("X", "params"),
        answer_text=("for W, b in params[:-1]", "dense(H, W, b, output_activation)"),
    )
)


# --- losses ---------------------------------------------------------------------------


def _regression_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    return {"y_hat": rng.standard_normal(tuple(shape)), "y": rng.standard_normal(tuple(shape))}


def _mse_mutants(inputs, params) -> Alternatives:
    sq = (inputs["y_hat"] - inputs["y"]) ** 2
    out = [("mlp_hint_mse_half", np.asarray(sq.mean() / 2))]
    if sq.ndim == 2 and sq.shape[1] > 1:
        out.append(("mlp_hint_mean_over_all", np.asarray(sq.sum() / sq.shape[0])))
    return out


register(
    ValueSpec(
        id="mse", title_en="Exercise 2.12 · mean squared error",
        title_zh="练习 2.12 · 均方误差（MSE）",
        assignment=ASSIGNMENT, make_inputs=_regression_inputs,
        reference=lambda y_hat, y: _torch().nn.functional.mse_loss(y_hat, y),
        mutants=_mse_mutants, output_name="loss", scalar_batch=True,
        answer_text=("np.mean((y_hat - y) ** 2)",),
    )
)


def _classification_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    n, c = shape
    return {"Z": rng.standard_normal((n, c)) * 3.0, "y": rng.integers(0, c, size=n)}


def _ce_edges(params) -> list[Inputs]:
    return [
        {"Z": np.array([[1e4, 0.0, -1e4]]), "y": np.array([2])},
        {"Z": np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]]), "y": np.array([0, 1])},
        {"Z": np.array([[-1e4, -1e4 + 3.0]]), "y": np.array([0])},
    ]


def _ce_mutants(inputs, params) -> Alternatives:
    Z, y = inputs["Z"], inputs["y"]
    # A missing mean (the sum over the batch) gets the shared batch-size hint.
    with np.errstate(all="ignore"):
        as_probabilities = -np.log(Z[np.arange(Z.shape[0]), y]).mean()
    return [("mlp_hint_ce_probabilities", np.asarray(as_probabilities))]


register(
    ValueSpec(
        id="softmax_cross_entropy", title_en="Exercise 2.13 · cross-entropy loss",
        title_zh="练习 2.13 · 交叉熵损失",
        assignment=ASSIGNMENT, make_inputs=_classification_inputs,
        reference=lambda Z, y: _torch().nn.functional.cross_entropy(Z, y),
        edges=_ce_edges, mutants=_ce_mutants, output_name="loss", scalar_batch=True,
        hint="mlp_hint_logsumexp",
        answer_text=("log_softmax(Z)[np.arange(N), y]", "[np.arange(N), y]"),
    )
)


def _distribution_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    return {"q": _rows_to_distribution(rng.standard_normal(tuple(shape)) * 2.0)}


def _entropy_edges(params) -> list[Inputs]:
    return [
        {"q": np.array([[0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])},
        {"q": np.array([[1.0]])},
    ]


def _entropy_mutants(inputs, params) -> Alternatives:
    torch = _torch()
    h = torch.special.entr(torch.tensor(inputs["q"])).sum(dim=1).numpy().copy()
    return [("mlp_hint_log_base", h / np.log(2)), ("mlp_hint_per_batch", h.sum()),
            ("mlp_hint_per_batch", h.mean())]


register(
    ValueSpec(
        id="entropy", title_en="Exercise 2.14 · entropy", title_zh="练习 2.14 · 熵（entropy）",
        assignment=ASSIGNMENT, make_inputs=_distribution_inputs,
        reference=lambda q: _torch().special.entr(q).sum(dim=1),
        edges=_entropy_edges, mutants=_entropy_mutants, output_name="H",
        hint="mlp_hint_zero_log_zero",
        answer_text=("np.where(q > 0, q, 1.0)", "q * np.log(safe)"),
    )
)


def _kl_inputs(rng: np.random.Generator, shape: tuple) -> Inputs:
    return {
        "q": _rows_to_distribution(rng.standard_normal(tuple(shape)) * 2.0),
        "p": _rows_to_distribution(rng.standard_normal(tuple(shape)) * 2.0),
    }


def _kl_edges(params) -> list[Inputs]:
    uniform = np.full((2, 3), 1 / 3)
    return [
        {"q": np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]), "p": uniform},
        {"q": np.array([[0.2, 0.3, 0.5]]), "p": np.array([[0.2, 0.3, 0.5]])},
    ]


def _torch_kl(q, p):
    # F.kl_div(input=log p, target=q) is KL(q‖p), elementwise; sum over classes.
    return _torch().nn.functional.kl_div(p.log(), q, reduction="none").sum(dim=1)


def _kl_mutants(inputs, params) -> Alternatives:
    t = _tensors(inputs)
    kl = _torch_kl(t["q"], t["p"]).numpy().copy()
    with np.errstate(all="ignore"):
        swapped = _torch_kl(t["p"], t["q"]).numpy().copy()
    return [("mlp_hint_kl_swapped", swapped), ("mlp_hint_log_base", kl / np.log(2)),
            ("mlp_hint_per_batch", kl.sum()), ("mlp_hint_per_batch", kl.mean())]


register(
    ValueSpec(
        id="kl_divergence", title_en="Exercise 2.15 · KL divergence",
        title_zh="练习 2.15 · KL 散度",
        assignment=ASSIGNMENT, make_inputs=_kl_inputs, reference=_torch_kl,
        edges=_kl_edges, mutants=_kl_mutants, output_name="KL",
        hint="mlp_hint_zero_log_zero",
        answer_text=("np.log(safe) - np.log(p)",),
    )
)


# ------------------------------------------------------------- collapse affine maps


@dataclass
class CollapseSpec(Exercise):
    """``collapse_affine(W1, b1, W2, b2) -> (W, b)`` with X @ W + b == (X @ W1 + b1) @ W2 + b2."""

    tol: Tolerance = field(default_factory=Tolerance)
    answer_text: tuple[str, ...] = ()

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed in seeds:
            for d, h, m in shapes:
                rng = np.random.default_rng(seed)
                found.append(self.case(seed=seed, inputs={
                    "W1": rng.standard_normal((d, h)), "b1": rng.standard_normal(h),
                    "W2": rng.standard_normal((h, m)), "b2": rng.standard_normal(m)}))
        return found

    def prepare(self, case: Case) -> None:
        t = _tensors(case.inputs)
        case.data["W"] = (t["W1"] @ t["W2"]).numpy().copy()
        case.data["b"] = (t["b1"] @ t["W2"] + t["b2"]).numpy().copy()
        W1, b1, W2, b2 = (case.inputs[k] for k in ("W1", "b1", "W2", "b2"))
        case.data["W_alternatives"] = (
            [("mlp_hint_collapse_order", W2 @ W1)] if W1.shape == W2.shape == W1.T.shape
            else [])
        case.data["b_alternatives"] = (
            [("mlp_hint_collapse_bias", b2), ("mlp_hint_collapse_bias", b1 @ W2)]
            + ([("mlp_hint_collapse_bias", b1 + b2)] if b1.shape == b2.shape else []))

    def drive(self, steps: Steps, case: Case, fn: Any) -> tuple[str, Ref]:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        return name, steps.call(fn, *case.inputs.values(), name=name,
                                arg_names=tuple(case.inputs))

    def judge(self, case: Case, done: Done, plan: tuple[str, Ref]) -> None:
        __tracebackhide__ = True
        name, call = plan
        W, b = _unpack(case, name, done.value(case, call), ("W", "b"))
        compare_array(case, "W", case.data["W"], W, tol=self.tol,
                      alternatives=case.data["W_alternatives"])
        compare_array(case, "b", case.data["b"], b, tol=self.tol,
                      alternatives=case.data["b_alternatives"])


register(
    CollapseSpec(
        id="collapse_affine", title_en="Exercise 2.1 · collapsing two affine maps",
        title_zh="练习 2.1 · 合并两个仿射变换", assignment=ASSIGNMENT,
        answer_text=("W1 @ W2", "b1 @ W2 + b2", "\\mathbf{W}_1\\mathbf{W}_2",
                     "\\mathbf{b}_1\\mathbf{W}_2 + \\mathbf{b}_2"),
    )
)


# --------------------------------------------------------------------------- XOR


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


@dataclass
class XorSpec(Exercise):
    """``xor_params() -> (W1, b1, W2, b2)``: a 2-2-1 ReLU network graded by its truth table.

    The network is ``y_hat = relu(X @ W1 + b1) @ W2 + b2`` and predicts 1 when
    ``y_hat > 0.5``. With ``jitter > 0`` each corner is moved by up to ``jitter``
    (per seed), so the network must keep a margin. The network is evaluated here, on the
    weights the student returned (plain arrays): it is the question, not an answer.
    """

    answer_text: tuple[str, ...] = ()

    def make_cases(self, *, seeds: Sequence[int] = (), jitter: float = 0.0) -> list[Case]:
        found = [self.case(description="xor_params()", inputs={"X": XOR_X.copy()},
                           data={"seed": None, "jitter": jitter})]
        for seed in seeds:
            X = XOR_X.copy()
            if jitter > 0:
                X = X + np.random.default_rng(seed).uniform(-jitter, jitter, X.shape)
            found.append(self.case(description="xor_params()", inputs={"X": X},
                                   data={"seed": seed, "jitter": jitter}))
        return found

    def drive(self, steps: Steps, case: Case, fn: Any) -> tuple[str, Ref]:
        __tracebackhide__ = True
        name = function_name(fn, self.id)
        require_callable(case, name, fn)
        return name, steps.call(fn, name=name)

    def judge(self, case: Case, done: Done, plan: tuple[str, Ref]) -> None:
        __tracebackhide__ = True
        name, call = plan
        parts = _unpack(case, name, done.value(case, call), ("W1", "b1", "W2", "b2"))
        W1, b1, W2, b2 = self._shaped(case, parts)
        X = case.inputs["X"]
        with np.errstate(all="ignore"):
            y_hat = (np.maximum(X @ W1 + b1, 0) @ W2 + b2).reshape(-1)
        pred = (y_hat > 0.5).astype(int)
        if not np.array_equal(pred, XOR_Y):
            self._fail(case, X, y_hat, pred)

    def _shaped(self, case: Case, parts: tuple) -> tuple[np.ndarray, ...]:
        __tracebackhide__ = True
        arrays = []
        if all(is_plain(p) for p in parts):
            try:
                arrays = [np.asarray(p, dtype=np.float64) for p in parts]
            except (TypeError, ValueError):
                arrays = []
        found = (", ".join(str(tuple(a.shape)) for a in arrays) if arrays
                 else M.text("mlp_xor_not_numbers"))
        ok = (
            len(arrays) == 4
            and arrays[0].shape == (2, 2)
            and arrays[1].shape == (2,)
            and arrays[2].size == 2
            and arrays[2].ndim in (1, 2)
            and arrays[2].shape[0] == 2
            and arrays[3].size == 1
        )
        if not ok:
            raise CheckFailure(
                "\n".join([case.header("mlp_hdr_params"),
                           M.bilingual("mlp_xor_shapes", indent="  ", found=found)]),
                kind="type", exercise=case.exercise,
            )
        W1, b1, W2, b2 = arrays
        return W1, b1, W2.reshape(2, 1), b2.reshape(1)

    def _fail(self, case, X, y_hat, pred) -> None:
        __tracebackhide__ = True
        lines = [case.header("mlp_hdr_xor"), M.bilingual("mlp_xor_rule", indent="  ")]
        if case.data["seed"] is not None:
            lines.append(M.bilingual("mlp_xor_jitter", indent="  ", jitter=case.data["jitter"],
                                     seed=case.data["seed"]))
        rows_en, rows_zh = [], []
        for x, value, p, target in zip(X, y_hat, pred, XOR_Y, strict=True):
            text = M.text("mlp_xor_row", mark="✓" if p == target else "✗",
                          x1=f"{x[0]:.3g}", x2=f"{x[1]:.3g}", y_hat=f"{value:.4g}",
                          pred=int(p), target=int(target))
            rows_en.append("    " + text.en)
            rows_zh.append("    " + text.zh)
        lines += rows_en + rows_zh
        raise CheckFailure("\n".join(lines), exercise=case.exercise)


register(
    XorSpec(
        id="xor_params", title_en="Exercise 2.16 · XOR with two hidden units",
        title_zh="练习 2.16 · 两个隐藏单元实现异或", assignment=ASSIGNMENT,
        answer_text=("[[1.0], [-2.0]]", "b1 = np.array([0.0, -1.0])"),
    )
)

# ------------------------------------------------------------------------ questions
# Digests: python -m grader.checks.questions <id> <kind> <answer> (see grader.checks.questions).

register(Question(
    id="q2_1", title_en="Question 2.1 · the shape after layer 2",
    title_zh="问题 2.1 · 第 2 层之后的形状", assignment=ASSIGNMENT, kind="shape",
    answers=("1de6e8a01353fc904d8f066eb4150e7f9194a5d5985253f4f711ef77642bdee5",),
    hints={"fa2e09399c731bf1d7a325d83b708bd30f194391b531e19c880bf5bd5bd637e9": "q2_1_weight",
           "8633fdbc6ac75ea564be36ff0256e27d9b2160e9c86356188fc4512ffab8940a": "q2_1_transposed",
           "e453460af8837173aea13f76abb1a0f02a07573bd313a23692c64a144507f173": "q2_1_weight",
           "f69f516cfd163747166b28e5a02416d79715bbdccbbf8a96784bb2c0d9f1d5b1": "q2_1_output",
           "32eaa5c124fb21d8690a0a0c08a3dff12ba068fb4099c5a13fb33499579e4f27": "q2_1_layer_1"}))

register(Question(
    id="q2_2", title_en="Question 2.2 · logits scaled by 3",
    title_zh="问题 2.2 · logits 乘以 3", assignment=ASSIGNMENT, kind="number", digits=2,
    answers=("0efda0730f151ac447397bb47e09d8ab3e74e720d19bea3114fea76bccd581bd",),
    hints={"3aea1d55a76f126a33ad23dd01d24bdfb66cb65c9b2514d49f67e223b5a60757": "q2_2_unchanged",
           "716c0bacb40185827ddea3fd9a297b2c9811ba479ec6e88f7dd7d81029e62172": "q2_2_unchanged",
           "c6d479ffde3dc747cea1a1bb23cd7505a32881afb1889395289489b8c417b20f": "q2_2_one",
           "dd00fc9206bf42cbf9aabbcd8ed70e666368c2b94c472ca8b1875e139782c373": "q2_2_uniform"}))

register(Question(
    id="q2_3", title_en="Question 2.3 · one neuron and XOR",
    title_zh="问题 2.3 · 单个神经元与异或", assignment=ASSIGNMENT, kind="choice",
    choices="abcd",
    answers=("30d111dc9f8aaf256e870845cc4acdec18bf11acc066d761cf6cbe8b7c5083ae",),
    hints={"235887a3b2a15e1de90aa3eb8d81c2c0a81c19f317b80c8a05a01308cc380cf0": "q2_3_linear",
           "7452c003ba4aed0ee42da7c3531c348bcb696ab57c37c95994048f74266b96c7": "q2_3_perceptron",
           "0b49c28d42a26ca8eec99506571f821f9a8c7ac4fed9c876c481e9872d3423ef": "q2_3_linear"}))

# Keep the module namespace tidy: the loop variable is not part of the API.
del _spec
