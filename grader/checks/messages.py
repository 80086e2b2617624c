"""The bilingual message catalogue · 双语消息目录.

Every sentence the grader shows a person lives here, once in English and once in
Chinese, under one key. Exercise modules may add their own entries with
:func:`register`; ``tests/test_messages.py`` checks that every entry has both
languages and the same ``{placeholders}`` in each.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

__all__ = ["Text", "CATALOGUE", "register", "text", "en", "zh", "bilingual"]


@dataclass(frozen=True)
class Text:
    en: str
    zh: str


CATALOGUE: dict[str, Text] = {}


def register(entries: dict[str, tuple[str, str]]) -> None:
    """Add ``key -> (english, chinese)`` entries; a key may be defined only once."""
    for key, (english, chinese) in entries.items():
        if key in CATALOGUE and CATALOGUE[key] != Text(english, chinese):
            raise ValueError(f"message {key!r} is defined twice with different text")
        CATALOGUE[key] = Text(english, chinese)


def text(key: str, **values: object) -> Text:
    """The entry ``key`` with its placeholders filled in, in both languages.

    A value that is itself a :class:`Text` (an exercise's title) goes in its English form
    into the English sentence and its Chinese form into the Chinese one.
    """
    entry = CATALOGUE[key]
    english = {k: v.en if isinstance(v, Text) else v for k, v in values.items()}
    chinese = {k: v.zh if isinstance(v, Text) else v for k, v in values.items()}
    return Text(entry.en.format(**english), entry.zh.format(**chinese))


def en(key: str, **values: object) -> str:
    return text(key, **values).en


def zh(key: str, **values: object) -> str:
    return text(key, **values).zh


def bilingual(key: str, indent: str = "", **values: object) -> str:
    """English line, then the Chinese line under it, both indented by ``indent``."""
    entry = text(key, **values)
    return f"{indent}{entry.en}\n{indent}{entry.zh}"


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


register(
    {
        # --- verdicts -------------------------------------------------------
        "passed": (
            "✓ {exercise}: all {count} checks passed.",
            "✓ {exercise}：全部 {count} 项检查通过。",
        ),
        "passed_one": (
            "✓ {exercise}: the check passed.",
            "✓ {exercise}：检查通过。",
        ),
        # --- headers: the first line of a failure, after the exercise title ----
        "hdr_modified": ("an input was modified", "输入被修改了"),
        "hdr_wrong_type": ("`{name}` has the wrong type", "`{name}` 的类型不对"),
        "hdr_wrong_shape": ("`{name}` has the wrong shape", "`{name}` 的形状不对"),
        "hdr_not_finite": ("`{name}` is not finite", "`{name}` 不是有限值"),
        "hdr_wrong": ("`{name}` is wrong", "`{name}` 不正确"),
        "hdr_mismatch": ("`{name}` does not match the expected values", "`{name}` 与期望值不一致"),
        "hdr_mismatch_autograd": (
            "`{name}` does not match PyTorch autograd",
            "`{name}` 与 PyTorch 自动微分的结果不一致",
        ),
        "not_done": (
            "✗ {exercise}: `{function}` is not written yet (it raises NotImplementedError). "
            "Replace the `raise NotImplementedError` line with your code.",
            "✗ {exercise}：`{function}` 还没有完成（它抛出了 NotImplementedError）。"
            "请把 `raise NotImplementedError` 这一行换成你的代码。",
        ),
        "student_exception": (
            "✗ {exercise}: your `{function}` raised {error} on the inputs below. "
            "Its traceback (your code only):",
            "✗ {exercise}：你的 `{function}` 在下面的输入上抛出了 {error}。"
            "出错位置（只显示你的代码）：",
        ),
        "not_callable": (
            "✗ {exercise}: expected `{function}` to be a function, found {found}. "
            "Did you overwrite the name, or forget to run its cell?",
            "✗ {exercise}：`{function}` 应当是一个函数，实际是 {found}。"
            "是否覆盖了这个名字，或者忘了运行定义它的单元格？",
        ),
        "mutated_input": (
            "Your `{function}` changed its input `{name}` in place. "
            "Work on a copy (for example `x = x.copy()`) or build new arrays.",
            "你的 `{function}` 原地修改了输入 `{name}`。"
            "请在副本上操作（例如 `x = x.copy()`）或创建新数组。",
        ),
        # --- what was wrong ----------------------------------------------------
        "wrong_type": (
            "`{name}` should be {expected}, but your function returned {found}.",
            "`{name}` 应当是 {expected}，但你的函数返回了 {found}。",
        ),
        "wrong_arity": (
            "`{function}` should return {expected} values ({names}), but it returned {found}.",
            "`{function}` 应当返回 {expected} 个值（{names}），实际返回了 {found} 个。",
        ),
        "wrong_shape": (
            "`{name}` has shape {found}; expected {expected}.",
            "`{name}` 的形状是 {found}，期望是 {expected}。",
        ),
        "wrong_values": (
            "`{name}` has the right shape {shape} but wrong values: "
            "{count} of {total} elements are off.",
            "`{name}` 的形状 {shape} 正确，但数值不对：{total} 个元素中有 {count} 个不符。",
        ),
        "wrong_value": (
            "`{name}` is wrong: expected {expected}, got {found}.",
            "`{name}` 不正确：期望 {expected}，实际 {found}。",
        ),
        "not_finite": (
            "`{name}` contains NaN or inf ({count} elements), for example at {index}. "
            "Look for overflow in exp or a division by zero.",
            "`{name}` 含有 NaN 或 inf（共 {count} 个元素），例如位置 {index}。"
            "检查 exp 是否溢出，或是否除以了零。",
        ),
        "worst_element": (
            "Worst element at {index}: expected {expected}, got {found}.",
            "误差最大的元素在 {index}：期望 {expected}，实际 {found}。",
        ),
        "tolerance": (
            "Tolerance: |actual - expected| <= {atol} + {rtol} * |expected|, in float64.",
            "容差：|实际 - 期望| <= {atol} + {rtol} * |期望|（float64）。",
        ),
        "reproduce": (
            "Reproduce with: seed={seed}, {inputs}.",
            "复现方法：seed={seed}，{inputs}。",
        ),
        "reproduce_case": (
            "Failing case: {case}.",
            "出错的用例：{case}。",
        ),
        "compared_with": (
            "Expected values come from PyTorch autograd on the same inputs ({reference}).",
            "期望值来自 PyTorch 自动微分在相同输入上的结果（{reference}）。",
        ),
        # --- diagnoses: the kind of mistake ------------------------------------
        "hint_transposed": (
            "Likely mistake: the result is transposed. Check the order of the matrix "
            "product (for example X.T @ dout versus dout.T @ X).",
            "可能的错误：结果被转置了。检查矩阵乘法的顺序（例如 X.T @ dout 与 dout.T @ X）。",
        ),
        "hint_missing_batch_sum": (
            "Likely mistake: one gradient per example was returned. Sum over the batch "
            "axis (axis=0), because the parameter is shared by every example.",
            "可能的错误：返回了每个样本各自的梯度。参数被所有样本共享，需要沿批量维度（axis=0）求和。",
        ),
        "hint_batch_scale": (
            "Likely mistake: off by a factor of the batch size N={n} (you got {factor} times "
            "the expected value). Check where you divide by N.",
            "可能的错误：与期望值相差批量大小 N={n} 倍（实际是期望的 {factor} 倍）。检查除以 N 的位置。",
        ),
        "hint_wrong_sign": (
            "Likely mistake: the sign is flipped (you got exactly minus the expected value).",
            "可能的错误：符号反了（结果恰好是期望值的相反数）。",
        ),
        "hint_constant_factor": (
            "Likely mistake: every element is {factor} times the expected value. Look for a "
            "missing or extra constant factor (such as 1/2, 2 or 1/(1-p)).",
            "可能的错误：每个元素都是期望值的 {factor} 倍。"
            "检查是否漏掉或多乘了常数因子（如 1/2、2 或 1/(1-p)）。",
        ),
        "hint_ignores_upstream": (
            "Likely mistake: the upstream gradient `dout` is not used. The chain rule "
            "multiplies the local derivative by `dout`.",
            "可能的错误：没有使用上游梯度 `dout`。链式法则要把局部导数乘以 `dout`。",
        ),
        "hint_mask_from_output": (
            "Likely mistake: the gradient is blocked or passed at the wrong elements. Build "
            "the mask from the forward input (the cache), not from the output or `dout`.",
            "可能的错误：梯度在错误的位置被阻断或放行。"
            "掩码应当由前向输入（缓存）得到，而不是由输出或 `dout` 得到。",
        ),
        "hint_shape_broadcast": (
            "Likely mistake: the shape does not match the input it is the gradient of. A "
            "gradient always has the shape of its variable; reduce broadcast axes with a sum.",
            "可能的错误：形状与对应变量不一致。梯度的形状总是与变量相同；被广播的维度要用求和约简回去。",
        ),
        "hint_summed_to_scalar": (
            "Likely mistake: one number came back where a gradient of shape {shape} belongs. "
            "A gradient has the shape of its variable: sum only over the axes that were "
            "broadcast (the batch), not over everything.",
            "可能的错误：应当返回形状为 {shape} 的梯度，却只返回了一个数。梯度的形状与对应变量相同："
            "只沿被广播的维度（批量维度）求和，而不是对所有元素求和。",
        ),
        "hint_float32": (
            "Likely mistake: computed in float32 (or float16): the values are right to about 7 "
            "digits and wrong after that. Keep float64 throughout (no dtype=np.float32, no "
            "astype): an analytic answer in float64 agrees with autograd to about 1e-15.",
            "可能的错误：用 float32（或 float16）计算了：数值只在前 7 位左右正确。"
            "请全程保持 float64（不要 dtype=np.float32，也不要 astype）："
            "用 float64 计算的解析结果与自动微分一致到约 1e-15。",
        ),
        "hint_float_type": (
            "Convert with `np.asarray(...)` and keep float64; integer or object arrays "
            "lose the fractional part.",
            "请用 `np.asarray(...)` 转换并保持 float64；整数或 object 数组会丢失小数部分。",
        ),
        # --- grader tooling ------------------------------------------------------
        "unknown_exercise": (
            "Unknown exercise id {exercise!r}. Known ids: {known}.",
            "未知的练习编号 {exercise!r}。已知编号：{known}。",
        ),
    }
)
