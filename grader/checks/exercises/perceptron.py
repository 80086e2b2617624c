"""Assignment 01 · 感知机与感知机学习算法.

The perceptron is not differentiable, so the expected values come from NumPy
implementations of the exercises themselves (:mod:`grader.checks.references.perceptron`),
used only in each exercise's ``prepare`` step; labels and mistake counts are compared
exactly, weights and margins to float64 precision. The student release carries the
values of its visible cases instead (:mod:`grader.checks.recorded`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from grader.checks import messages as M
from grader.checks.compare import (
    Case,
    CheckFailure,
    Tolerance,
    as_number,
    compare_array,
    compare_value,
    is_plain,
)
from grader.checks.exercises import REGISTRY, register
from grader.checks.questions import questions
from grader.checks.specs import Exercise, FunctionSpec, _unpack, function_name, numbered, seeded
from grader.checks.steps import Done, Steps

ASSIGNMENT = "01_perceptron"

M.register(
    {
        "perceptron_bias_last": (
            "Likely mistake: the column of ones is at the end. Put it first, so that "
            "theta[0] is the bias.",
            "可能的错误：全 1 列放在了最后。请把它放在第一列，使 theta[0] 成为偏置。",
        ),
        "perceptron_sign_zero": (
            "Likely mistake: np.sign returns 0 when the score is exactly 0. This course "
            "predicts +1 when theta·x >= 0.",
            "可能的错误：当得分恰好为 0 时 np.sign 返回 0。本课程约定 theta·x >= 0 时预测 +1。",
        ),
        "perceptron_labels_01": (
            "Likely mistake: labels are 0/1. The perceptron uses -1/+1.",
            "可能的错误：标签是 0/1。感知机使用 -1/+1。",
        ),
        "perceptron_strict_mistake": (
            "Likely mistake: a point with y·(theta·x) = 0 must count as a mistake (use <= 0). "
            "Otherwise theta = 0 never changes.",
            "可能的错误：y·(theta·x) = 0 的点也必须算作错误（用 <= 0），否则 theta = 0 永远不会更新。",
        ),
        "perceptron_update_always": (
            "Likely mistake: theta is updated on every example. Update it only on a mistake.",
            "可能的错误：每个样本都更新了 theta。只应在分类错误时更新 theta。",
        ),
        "perceptron_bound_not_squared": (
            "Likely mistake: this is R/gamma; the theorem's bound is its square, (R/gamma)^2.",
            "可能的错误：这是 R/gamma；定理给出的上界是它的平方 (R/gamma)^2。",
        ),
        "perceptron_xor_row": (
            "For input (x1, x2) = ({x1}, {x2}): expected {expected}, got {found}.",
            "输入 (x1, x2) = ({x1}, {x2}) 时：期望 {expected}，实际 {found}。",
        ),
        "perceptron_update_sign": (
            "Likely mistake: the update has the wrong sign. On a mistake, theta <- theta + y·x.",
            "可能的错误：更新的符号反了。分类错误时应为 theta <- theta + y·x。",
        ),
        "perceptron_margin_norm": (
            "Likely mistake: the margin is not divided by ||theta||, so it changes when "
            "theta is scaled. gamma = min_i y_i (theta·x_i) / ||theta||.",
            "可能的错误：间隔没有除以 ||theta||，因此会随 theta 的缩放而改变。"
            "gamma = min_i y_i (theta·x_i) / ||theta||。",
        ),
        "perceptron_radius_squared": (
            "Likely mistake: R is the largest norm ||x_i||, not the largest squared norm.",
            "可能的错误：R 是最大的范数 ||x_i||，而不是最大的范数平方。",
        ),
        "perceptron_bound_exceeded": (
            "Your pla_train made {mistakes} mistakes, more than the bound (R/gamma)^2 = {bound}. "
            "The convergence theorem says this cannot happen on separable data, so pla_train "
            "is likely wrong: does theta start at zero, and is it updated only on a mistake?",
            "你的 pla_train 犯了 {mistakes} 次错误，超过了上界 (R/gamma)^2 = {bound}。"
            "收敛定理保证在线性可分数据上不会发生这种情况，所以很可能是 pla_train 有错："
            "theta 是否从零开始？是否只在分类错误时更新？",
        ),
        "perceptron_gate_row": (
            "For input (x1, x2) = ({x1}, {x2}) the gate should output {expected}, but "
            "theta·[1, x1, x2] = {score} gives {found}.",
            "输入 (x1, x2) = ({x1}, {x2}) 时门应输出 {expected}，但 "
            "theta·[1, x1, x2] = {score} 得到 {found}。",
        ),
        "perceptron_gate_shape": (
            "A gate's weights are one vector [b, w1, w2] of 3 numbers; found shape {shape}.",
            "门的权重是一个包含 3 个数的向量 [b, w1, w2]；实际形状是 {shape}。",
        ),
        "hdr_gate": ("the truth table of {gate} is wrong", "{gate} 的真值表不正确"),
        "hdr_bound": ("the mistake bound does not hold", "错误次数上界不成立"),
    }
)


def _ref():
    """The references (answers): imported only while preparing a case."""
    from grader.checks.references import perceptron

    return perceptron


# ----------------------------------------------------------------------------- data


def separable_data(rng: np.random.Generator, n: int, d: int, min_margin: float = 0.05):
    """n points in d dimensions (bias column first) labelled by a random separator theta_star,
    with every point at least ``min_margin`` (in normalised distance) from the boundary."""
    theta_star = rng.standard_normal(d + 1)
    theta_star /= np.linalg.norm(theta_star)
    rows = []
    while len(rows) < n:
        x = np.concatenate([[1.0], rng.uniform(-2, 2, size=d)])
        if abs(x @ theta_star) >= min_margin:
            rows.append(x)
    X = np.array(rows)
    y = np.where(X @ theta_star >= 0, 1, -1)
    return X, y, theta_star


def _points_with_ties(rng: np.random.Generator, shape: tuple) -> dict[str, np.ndarray]:
    """Integer-valued inputs, so that some scores are exactly 0 (the convention's edge case)."""
    n, d = shape
    X = rng.integers(-2, 3, size=(n, d)).astype(float)
    theta = rng.integers(-2, 3, size=d).astype(float)
    if n > 1:
        X[0] = 0.0  # a score of exactly zero in every case with more than one row
    return {"X": X, "theta": theta}


# ---------------------------------------------------------------------------- specs

EXACT = Tolerance(0, 0)

register(
    FunctionSpec(
        id="add_bias",
        **numbered("1.1", "absorb the bias", "把偏置并入权重", ASSIGNMENT),
        make_inputs=lambda rng, shape: {"X": rng.standard_normal(shape)},
        reference=lambda X: _ref().add_bias(X),
        numpy_reference=True,
        output_name="X_with_bias",
        mutants=lambda inputs, params: [
            ("perceptron_bias_last", np.hstack([inputs["X"], np.ones((len(inputs["X"]), 1))]))
        ],
    )
)

register(
    FunctionSpec(
        id="perceptron_predict",
        **numbered("1.2", "perceptron prediction", "感知机预测", ASSIGNMENT),
        make_inputs=lambda rng, shape: _points_with_ties(rng, shape),
        reference=lambda X, theta: _ref().predict(X, theta),
        numpy_reference=True,
        tol=EXACT,
        output_name="y_hat",
        mutants=lambda inputs, params: [
            ("perceptron_sign_zero", np.sign(inputs["X"] @ inputs["theta"])),
            ("perceptron_labels_01", (_ref().predict(**inputs) + 1) // 2),
        ],
    )
)


@dataclass
class PlaSpec(Exercise):
    """``pla_train(X, y, epochs) -> (theta, mistakes)`` on seeded data sets, exactly as the
    algorithm in the notebook (examples in order, start from zero, stop after a clean epoch)."""

    needs_solution: ClassVar[bool] = True

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple], epochs: int = 100,
                   separable: bool = True) -> list[Case]:
        found = []
        for seed, (n, d), rng in seeded(seeds, shapes):
            if separable:
                X, y, _ = separable_data(rng, n, d)
            else:  # labels at random: PLA cannot finish, the epoch limit matters
                X = np.hstack([np.ones((n, 1)), rng.standard_normal((n, d))])
                y = rng.choice([-1, 1], size=n)
            found.append(self.case(
                seed=seed, inputs={"X": X, "y": y}, data={"epochs": epochs},
                description=f"seed={seed}, X.shape={X.shape}, epochs={epochs}, "
                            f"separable={separable}"))
        return found

    def prepare(self, case: Case) -> None:
        X, y, epochs = case.inputs["X"], case.inputs["y"], case.data["epochs"]
        case.data["expected"] = _ref().pla(X, y, epochs)
        case.data["alternatives"] = [
            ("perceptron_strict_mistake", _ref().pla(X, y, epochs, strict=True)[0]),
            ("perceptron_update_always", _ref().pla(X, y, epochs, always=True)[0]),
            ("perceptron_update_sign", _ref().pla(X, y, epochs, sign=-1)[0]),
        ]

    def drive(self, steps: Steps, case: Case, pla_train: Any) -> tuple[str, Any]:
        name = function_name(pla_train, "pla_train")
        return name, steps.call(pla_train, case.inputs["X"], case.inputs["y"],
                                case.data["epochs"], name=name,
                                arg_names=("X", "y", "epochs"))

    def judge(self, case: Case, done: Done, plan: tuple[str, Any]) -> None:
        __tracebackhide__ = True
        name, call = plan
        theta, mistakes = _unpack(case, name, done.value(case, call), ("theta", "mistakes"))
        theta_ref, mistakes_ref = case.data["expected"]
        compare_array(case, "theta", theta_ref, theta, alternatives=case.data["alternatives"])
        compare_value(case, "mistakes", mistakes_ref, _as_int(mistakes))


def _as_int(value):
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return value
    return int(as_float) if as_float.is_integer() else as_float


register(
    PlaSpec(
        id="pla_train",
        **numbered("1.3", "the perceptron learning algorithm", "感知机学习算法", ASSIGNMENT),
    )
)


def _margin_inputs(rng, shape):
    X, y, theta_star = separable_data(rng, *shape)
    return {"X": X, "y": y, "theta": theta_star * rng.uniform(0.5, 3.0)}


def _margin_mutants(inputs, params):
    X, y, theta = inputs["X"], inputs["y"], inputs["theta"]
    return [("perceptron_margin_norm", np.min(y * (X @ theta)))]


register(
    FunctionSpec(
        id="margin",
        **numbered("1.4", "margin gamma", "间隔 gamma", ASSIGNMENT),
        make_inputs=_margin_inputs,
        reference=lambda X, y, theta: _ref().margin(X, y, theta),
        numpy_reference=True,
        output_name="gamma",
        mutants=_margin_mutants,
    )
)

register(
    FunctionSpec(
        id="radius",
        **numbered("1.5", "radius R", "半径 R", ASSIGNMENT),
        make_inputs=lambda rng, shape: {
            "X": np.hstack([np.ones((shape[0], 1)), rng.standard_normal(shape)])},
        reference=lambda X: _ref().radius(X),
        numpy_reference=True,
        output_name="R",
        mutants=lambda inputs, params: [
            ("perceptron_radius_squared", np.max(np.sum(inputs["X"] ** 2, axis=1)))
        ],
    )
)


@dataclass
class MistakeBoundSpec(Exercise):
    """The convergence theorem, checked empirically: on separable data the number of
    PLA mistakes never exceeds (R/gamma)^2, computed with the student's own functions."""

    needs_solution: ClassVar[bool] = True

    def make_cases(self, *, seeds: Sequence[int], shapes: Sequence[tuple]) -> list[Case]:
        found = []
        for seed, (n, d), rng in seeded(seeds, shapes):
            X, y, theta_star = separable_data(rng, n, d, min_margin=0.1)
            theta_star = theta_star * rng.uniform(0.2, 5.0)  # the bound must not depend on scale
            found.append(self.case(seed=seed, inputs={"X": X, "y": y, "theta_star": theta_star},
                                   description=f"seed={seed}, X.shape={X.shape}"))
        return found

    def prepare(self, case: Case) -> None:
        X, y, theta_star = case.inputs["X"], case.inputs["y"], case.inputs["theta_star"]
        R, gamma = _ref().radius(X), _ref().margin(X, y, theta_star)
        case.data["bound"] = _ref().bound(**case.inputs)
        case.data["alternatives"] = [
            ("perceptron_bound_not_squared", R / gamma),
            ("perceptron_margin_norm", (R / float(np.min(y * (X @ theta_star)))) ** 2),
            ("perceptron_radius_squared", (R * R / gamma) ** 2),
        ]

    def drive(self, steps: Steps, case: Case, pla_train: Any, perceptron_bound: Any) -> dict:
        names = {"bound": function_name(perceptron_bound, "perceptron_bound"),
                 "pla": function_name(pla_train, "pla_train")}
        X, y = case.inputs["X"], case.inputs["y"]
        return {"names": names,
                "bound": steps.call(perceptron_bound, X, y, case.inputs["theta_star"],
                                    name=names["bound"], arg_names=("X", "y", "theta_star")),
                "pla": steps.call(pla_train, X, y, 10_000, name=names["pla"],
                                  arg_names=("X", "y", "epochs"))}

    def judge(self, case: Case, done: Done, plan: dict) -> None:
        __tracebackhide__ = True
        bound = done.value(case, plan["bound"])
        compare_array(case, "bound", case.data["bound"], bound, tol=Tolerance(1e-6, 1e-9),
                      alternatives=case.data["alternatives"])
        _, mistakes = _unpack(case, plan["names"]["pla"], done.value(case, plan["pla"]),
                              ("theta", "mistakes"))
        if not as_number(case, "mistakes", mistakes) <= as_number(case, "bound", bound):
            raise CheckFailure(
                "\n".join([case.header("hdr_bound"),
                           M.bilingual("perceptron_bound_exceeded", indent="  ",
                                       mistakes=mistakes, bound=f"{float(bound):.4g}"),
                           *case.reproduce_lines()]),
                exercise=self.id,
            )


register(
    MistakeBoundSpec(
        id="perceptron_bound",
        **numbered("1.6", "the mistake bound (R/gamma)^2", "错误次数上界 (R/gamma)^2", ASSIGNMENT),
    )
)

TRUTH_TABLES = {
    "AND": lambda a, b: a and b,
    "OR": lambda a, b: a or b,
    "NAND": lambda a, b: not (a and b),
}


@dataclass
class GateSpec(Exercise):
    """``gate_weights() -> {"AND": theta, "OR": theta, "NAND": theta}``: hand-set weights
    theta = [b, w1, w2], checked by truth table with the course's prediction rule
    (+1 when theta·[1, x1, x2] >= 0)."""

    def make_cases(self, *, gates: Sequence[str] = ("AND", "OR", "NAND")) -> list[Case]:
        return [self.case(description="gate_weights()", data={"gates": list(gates)})]

    def drive(self, steps: Steps, case: Case, gate_weights: Any) -> tuple[str, Any]:
        name = function_name(gate_weights, "gate_weights")
        return name, steps.call(gate_weights, name=name)

    def judge(self, case: Case, done: Done, plan: tuple[str, Any]) -> None:
        __tracebackhide__ = True
        weights = done.value(case, plan[1])
        if not isinstance(weights, dict):
            raise CheckFailure(
                "\n".join([case.header("hdr_wrong_type", name="gate_weights()"),
                           M.bilingual("wrong_type", indent="  ", name="gate_weights()",
                                       expected='a dict {"AND": ..., "OR": ..., "NAND": ...}',
                                       found=type(weights).__name__)]),
                kind="type", exercise=self.id,
            )
        for gate in case.data["gates"]:
            self._check_gate(case, gate, weights.get(gate))

    def _check_gate(self, case, gate: str, theta) -> None:
        __tracebackhide__ = True
        try:
            theta = np.asarray(theta, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            theta = np.asarray([])
        if theta.shape != (3,):
            raise self._gate_failure(case, gate, "perceptron_gate_shape", kind="type",
                                     shape=tuple(theta.shape))
        for x1 in (0, 1):
            for x2 in (0, 1):
                expected = 1 if TRUTH_TABLES[gate](x1, x2) else -1
                score = float(theta @ np.array([1.0, x1, x2]))
                found = 1 if score >= 0 else -1
                if found != expected:
                    raise self._gate_failure(case, gate, "perceptron_gate_row", x1=x1, x2=x2,
                                             expected=f"{expected:+d}", found=f"{found:+d}",
                                             score=f"{score:.4g}")

    def _gate_failure(self, case: Case, gate: str, key: str, kind: str = "wrong",
                      **values: Any) -> CheckFailure:
        """``gate``'s weights are wrong: ``key`` says how (the inputs are the whole table)."""
        return CheckFailure("\n".join([case.header("hdr_gate", gate=gate),
                                       M.bilingual(key, indent="  ", **values)]),
                            kind=kind, exercise=self.id)


register(
    GateSpec(
        id="gate_weights",
        **numbered("1.7", "AND, OR and NAND by hand", "手工设定 AND、OR 与 NAND", ASSIGNMENT),
    )
)


@dataclass
class XorSpec(Exercise):
    """``xor_predict(X01) -> labels``: all four rows, then seeded batches of 0/1 rows."""

    needs_solution: ClassVar[bool] = True

    def make_cases(self, *, seeds: Sequence[int], sizes: Sequence[int]) -> list[Case]:
        batches = [np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)]
        for seed in seeds:
            rng = np.random.default_rng(seed)
            batches += [rng.integers(0, 2, size=(size, 2)).astype(float) for size in sizes]
        return [self.case(inputs={"X": X}, description=f"X={X.astype(int).tolist()}")
                for X in batches]

    def prepare(self, case: Case) -> None:
        case.data["expected"] = _ref().xor(case.inputs["X"])

    def drive(self, steps: Steps, case: Case, xor_predict: Any) -> Any:
        name = function_name(xor_predict, "xor_predict")
        return steps.call(xor_predict, case.inputs["X"], name=name, arg_names=("X01",))

    def judge(self, case: Case, done: Done, plan: Any) -> None:
        __tracebackhide__ = True
        expected = case.data["expected"]
        actual = done.value(case, plan)
        as_01 = (expected + 1) // 2
        if is_plain(actual) and np.shape(actual) == expected.shape:
            found = np.asarray(actual)
            if (found.dtype.kind in "biuf" and not np.array_equal(found, expected)
                    and not np.array_equal(found, as_01)):
                self._truth_table(case, expected, found)
        compare_array(case, "y_hat", expected, actual, tol=EXACT,
                      alternatives=[("perceptron_labels_01", as_01)])

    def _truth_table(self, case: Case, expected: np.ndarray, found: np.ndarray) -> None:
        """The first input of each kind that gets the wrong label, as a row of the table."""
        __tracebackhide__ = True
        rows, seen = [], set()
        for x, want, got in zip(case.inputs["X"], expected, found, strict=True):
            key = (int(x[0]), int(x[1]))
            if want != got and key not in seen:
                seen.add(key)
                rows.append(M.text("perceptron_xor_row", x1=key[0], x2=key[1],
                                   expected=f"{int(want):+d}", found=f"{float(got):+g}"))
        lines = [case.header("hdr_wrong", name="y_hat"), *("  " + row.en for row in rows),
                 *("  " + row.zh for row in rows), *case.reproduce_lines()]
        raise CheckFailure("\n".join(lines), exercise=self.id)


register(
    XorSpec(
        id="xor_predict",
        **numbered("1.8", "XOR from perceptrons", "用感知机组合出异或", ASSIGNMENT),
    )
)


# ------------------------------------------------------------------ answers not to print
# The formula text of each exercise's answer: tests/test_pedagogy.py fails if the release
# prints it above the exercise (outside a folded hint).
_ANSWER_TEXT = {
    "add_bias": ("np.hstack([np.ones", "np.column_stack([np.ones", "np.ones((X.shape[0], 1))"),
    "perceptron_predict": ("np.where(X @ theta >= 0, 1, -1)",),
    "pla_train": ("y_i * (x_i @ theta) <= 0", "theta = theta + y_i * x_i"),
    "margin": ("np.min(y * (X @ theta))", "/ np.linalg.norm(theta)"),
    "radius": ("np.linalg.norm(X, axis=1)",),
    "perceptron_bound": ("(radius(X) / margin(X, y, theta_star)) ** 2",),
    "gate_weights": ("[-1.5, 1.0, 1.0]", "[-0.5, 1.0, 1.0]", "[1.5, -1.0, -1.0]", "b = -1.5"),
    "xor_predict": ("\\operatorname{AND}\\big(\\operatorname{OR}", "AND(OR(", "(h_or + 1) / 2"),
}
for _ident, _texts in _ANSWER_TEXT.items():
    REGISTRY[_ident].answer_text = _texts
del _ident, _texts


# ------------------------------------------------------------------------ questions

M.register(
    {
        "q1_1_predict": (
            "perceptron_predict says +1 at a score of 0, and +1 is the label here; but the "
            "PLA asks whether y·score <= 0, and 1 · 0 = 0 is <= 0.",
            "perceptron_predict 在得分为 0 时给出 +1，这里的标签也是 +1；但 PLA 判断的是 "
            "y·得分 <= 0 是否成立，而 1 · 0 = 0 <= 0。",
        ),
        "q1_1_zero": (
            "theta = 0 is where the PLA starts; the update rule is what moves it away.",
            "theta = 0 只是 PLA 的起点；正是更新规则让它离开这一点。",
        ),
        "q1_1_label": (
            "The test y·score <= 0 does not look at the sign of y when the score is 0: "
            "y · 0 = 0 for either label.",
            "得分为 0 时，判断 y·得分 <= 0 与 y 的符号无关：无论哪个标签，y · 0 = 0。",
        ),
        "q1_2_not_squared": (
            "That is R/gamma; the theorem bounds the mistakes by its square.",
            "这是 R/gamma；定理给出的上界是它的平方。",
        ),
        "q1_2_inverted": (
            "That is (gamma/R)^2, upside down: the closer the points come to the boundary "
            "(small gamma), the more mistakes the PLA may make.",
            "这是 (gamma/R)^2，上下颠倒了：点离边界越近（gamma 越小），PLA 可能犯的错误越多。",
        ),
        "q1_2_half_squared": (
            "That squares R only: (R/gamma)^2 = R^2 / gamma^2.",
            "这里只对 R 取了平方，而 (R/gamma)^2 = R^2 / gamma^2。",
        ),
        "q1_3_clean_epoch": (
            "An epoch without a mistake would mean theta separates the four points, and "
            "section 6 shows that no line does.",
            "没有错误的一轮意味着 theta 能把四个点分开，而第 6 节说明了没有任何直线能做到。",
        ),
        "q1_3_large": (
            "A larger theta scales every score by the same factor; it cannot change which "
            "side of the line a corner is on.",
            "theta 变大只是把所有得分乘上同一个因子，不会改变角点位于直线的哪一侧。",
        ),
        "q1_3_zero": (
            "At theta = 0 every score is 0, and a score of 0 is a mistake whatever the label "
            "(Question 1.1): the very first corner already makes the PLA update theta.",
            "在 theta = 0 处每个得分都是 0，而得分为 0 时无论标签是什么都算错误（问题 1.1）："
            "第一个角点就已经让 PLA 更新 theta。",
        ),
    }
)

# The salted digests of the accepted answers and of the known wrong ones (each with its
# hint above) are in grader/checks/digests/01_perceptron.json (grader.checks.questions).
for question in questions(ASSIGNMENT):
    register(question)
