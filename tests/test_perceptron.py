"""Assignment 01: reference passes, stubs are "not done", the bug zoo loses its points."""

import numpy as np
import pytest

from grader import check, check_function
from tests.support import fails, solution, stubs

A = "01_perceptron"


@pytest.fixture(scope="module")
def ref():
    return solution(A)


@pytest.fixture(scope="module")
def stub():
    return stubs(A)


# One runner per exercise, as the hidden tests call it.
RUNNERS = {
    "add_bias": lambda ns: check_function("add_bias", ns["add_bias"], seeds=[11, 12],
                                          shapes=[(1, 1), (7, 5)]),
    "perceptron_predict": lambda ns: check("perceptron_predict", ns["perceptron_predict"],
                                           seeds=[21, 22], shapes=[(1, 2), (9, 4)]),
    "pla_train": lambda ns: check("pla_train", ns["pla_train"], seeds=[31, 32],
                                  shapes=[(1, 1), (15, 3)]),
    "pla_train_nonseparable": lambda ns: check("pla_train", ns["pla_train"], seeds=[34],
                                               shapes=[(12, 2)], epochs=7, separable=False),
    "margin": lambda ns: check_function("margin", ns["margin"], seeds=[41], shapes=[(25, 4)]),
    "radius": lambda ns: check_function("radius", ns["radius"], seeds=[51], shapes=[(30, 6)]),
    "perceptron_bound": lambda ns: check("perceptron_bound", ns["pla_train"],
                                         ns["perceptron_bound"], seeds=[61, 62],
                                         shapes=[(40, 2)]),
    "gate_weights": lambda ns: check("gate_weights", ns["gate_weights"]),
    "xor_predict": lambda ns: check("xor_predict", ns["xor_predict"], seeds=[71], sizes=[1, 16]),
}


@pytest.mark.parametrize("exercise", sorted(RUNNERS))
def test_reference_passes(ref, exercise):
    RUNNERS[exercise](ref)


@pytest.mark.parametrize("exercise", sorted(RUNNERS))
def test_stub_is_not_done(stub, exercise):
    fails(lambda: RUNNERS[exercise](stub), kind="not_done")


def _with(ref, **replacements):
    ns = dict(ref)
    ns.update(replacements)
    return ns


def test_add_bias_ones_last_is_named(ref):
    bug = lambda X: np.hstack([X, np.ones((len(X), 1))])  # noqa: E731
    fails(lambda: RUNNERS["add_bias"](_with(ref, add_bias=bug)),
          contains=["X_with_bias", "first", "第一列"])


def test_add_bias_in_place_is_caught(ref):
    def bug(X):
        X[:] = X  # touching the input is allowed only if nothing changes ...
        X[:, 0] = 1.0  # ... but overwriting a feature is not
        return np.hstack([np.ones((len(X), 1)), X])

    fails(lambda: RUNNERS["add_bias"](_with(ref, add_bias=bug)), kind="mutated")


def test_predict_with_np_sign_is_named(ref):
    bug = lambda X, theta: np.sign(X @ theta)  # noqa: E731
    fails(lambda: RUNNERS["perceptron_predict"](_with(ref, perceptron_predict=bug)),
          contains=["y_hat", "np.sign", ">= 0"])


def test_predict_with_01_labels_is_named(ref):
    bug = lambda X, theta: (X @ theta >= 0).astype(int)  # noqa: E731
    fails(lambda: RUNNERS["perceptron_predict"](_with(ref, perceptron_predict=bug)),
          contains=["-1/+1"])


def _pla(strict=False, always=False, sign=1, count_all=False):
    def pla_train(X, y, epochs):
        theta, mistakes = np.zeros(X.shape[1]), 0
        for _ in range(epochs):
            clean = True
            for x_i, y_i in zip(X, y):
                score = y_i * (x_i @ theta)
                wrong = score < 0 if strict else score <= 0
                if wrong or always:
                    theta = theta + sign * y_i * x_i
                if wrong or count_all:
                    mistakes += 1
                    clean = clean and not wrong
            if clean:
                break
        return theta, mistakes

    return pla_train


@pytest.mark.parametrize(
    "bug,fragment",
    [
        (_pla(strict=True), "<= 0"),
        (_pla(always=True), "only on a mistake"),
        (_pla(sign=-1), "wrong sign"),
        (_pla(count_all=True), "mistakes"),
    ],
)
def test_pla_bug_zoo(ref, bug, fragment):
    fails(lambda: RUNNERS["pla_train"](_with(ref, pla_train=bug)), contains=[fragment])


def test_pla_returning_only_theta_is_explained(ref):
    bug = lambda X, y, epochs: ref["pla_train"](X, y, epochs)[0]  # noqa: E731
    fails(lambda: RUNNERS["pla_train"](_with(ref, pla_train=bug)), contains=["theta, mistakes"])


def test_pla_ignoring_the_epoch_limit_fails_on_nonseparable_data(ref):
    bug = lambda X, y, epochs: ref["pla_train"](X, y, 50)  # noqa: E731
    fails(lambda: RUNNERS["pla_train_nonseparable"](_with(ref, pla_train=bug)))


def test_margin_not_normalised_is_named(ref):
    bug = lambda X, y, theta: np.min(y * (X @ theta))  # noqa: E731
    fails(lambda: RUNNERS["margin"](_with(ref, margin=bug)), contains=["gamma", "||theta||"])


def test_radius_squared_is_named(ref):
    bug = lambda X: np.max(np.sum(X**2, axis=1))  # noqa: E731
    fails(lambda: RUNNERS["radius"](_with(ref, radius=bug)), contains=["R", "squared"])


def test_bound_with_unnormalised_margin_is_named(ref):
    bug_margin = lambda X, y, theta: np.min(y * (X @ theta))  # noqa: E731
    bound = lambda X, y, t: (ref["radius"](X) / bug_margin(X, y, t)) ** 2  # noqa: E731
    fails(lambda: RUNNERS["perceptron_bound"](_with(ref, perceptron_bound=bound)),
          contains=["`bound`", "||theta||"])


def test_bound_with_squared_radius_is_named(ref):
    bound = lambda X, y, t: (ref["radius"](X) ** 2 / ref["margin"](X, y, t)) ** 2  # noqa: E731
    fails(lambda: RUNNERS["perceptron_bound"](_with(ref, perceptron_bound=bound)),
          contains=["`bound`", "squared norm", "范数平方"])


def test_bound_not_squared_is_named(ref):
    bound = lambda X, y, t: ref["radius"](X) / ref["margin"](X, y, t)  # noqa: E731
    failure = fails(lambda: RUNNERS["perceptron_bound"](_with(ref, perceptron_bound=bound)),
                    contains=["`bound`", "its square", "平方"])
    assert "||theta||" not in failure.args[0] and "squared norm" not in failure.args[0]


def test_a_wrong_bound_gets_no_diagnosis_it_does_not_show(ref):
    bound = lambda X, y, t: 1.5 * ref["perceptron_bound"](X, y, t)  # noqa: E731
    failure = fails(lambda: RUNNERS["perceptron_bound"](_with(ref, perceptron_bound=bound)),
                    contains=["`bound`"])
    assert "Likely mistake" not in failure.args[0]


def test_bound_check_catches_a_pla_that_overcounts(ref):
    def pla_train(X, y, epochs):
        theta, mistakes = ref["pla_train"](X, y, epochs)
        return theta, mistakes + 10_000

    fails(lambda: RUNNERS["perceptron_bound"](_with(ref, pla_train=pla_train)),
          contains=["(R/gamma)^2", "上界", "pla_train is likely wrong", "只在分类错误时更新"])


@pytest.mark.parametrize(
    "weights,fragment",
    [
        ({"AND": [-0.5, 1, 1], "OR": [-0.5, 1, 1], "NAND": [1.5, -1, -1]}, "AND"),
        ({"AND": [-1.5, 1, 1], "OR": [0.5, 1, 1], "NAND": [1.5, -1, -1]}, "OR"),
        ({"AND": [-1.5, 1, 1], "OR": [-0.5, 1, 1], "NAND": [-1.5, 1, 1]}, "NAND"),
        ({"AND": [1, 1], "OR": [-0.5, 1, 1], "NAND": [1.5, -1, -1]}, "[b, w1, w2]"),
    ],
)
def test_gate_bug_zoo(weights, fragment):
    fails(lambda: check("gate_weights", lambda: {k: np.array(v, float) for k, v in weights.items()}),
          contains=[fragment])


def test_gates_not_a_dict_is_explained():
    fails(lambda: check("gate_weights", lambda: np.zeros(3)), kind="type", contains=["dict"])


def test_xor_as_or_shows_the_wrong_row_of_the_truth_table(ref):
    bug = lambda X: np.where(X.max(axis=1) > 0, 1, -1)  # noqa: E731
    failure = fails(lambda: RUNNERS["xor_predict"](_with(ref, xor_predict=bug)),
                    contains=["`y_hat`", "(x1, x2) = (1, 1): expected -1, got +1",
                              "输入 (x1, x2) = (1, 1) 时：期望 -1，实际 +1"])
    assert "(0, 1): expected" not in failure.args[0]  # only the rows that are wrong


def test_xor_with_01_outputs_is_named(ref):
    bug = lambda X: (X[:, 0] != X[:, 1]).astype(int)  # noqa: E731
    fails(lambda: RUNNERS["xor_predict"](_with(ref, xor_predict=bug)), contains=["-1/+1"])
