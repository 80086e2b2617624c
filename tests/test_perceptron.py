"""Assignment 01: reference passes, stubs are "not done", the bug zoo loses its points."""

import numpy as np
import pytest

from grader import check, check_function
from tests.support import fails, question_tests, run_solution_notebook, solution, stubs

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


# ------------------------------------------------------------------ the questions

QUESTIONS = {  # question: (right answers, {wrong answer: a fragment of its hint})
    "q1_1": (["b"], {"a": "perceptron_predict says +1", "c": "where the PLA starts",
                   "d": "does not look at the sign of y"}),
    "q1_2": ([400], {20: "That is R/gamma", 0.0025: "upside down", 40: "squares R only"}),
    "q1_3": (["b"], {"a": "An epoch without a mistake", "c": "scales every score",
                   "d": "a score of 0 is a mistake"}),
}


(test_question_right_answers_pass, test_question_wrong_answers_fail_with_their_hint,
 test_question_left_blank_is_not_done) = question_tests(A, QUESTIONS)


def test_question_other_forms_of_the_right_answer_pass():
    check("q1_1", " B ")
    check("q1_2", "4e2")
    check("q1_2", 400.0)
    check("q1_3", "(b)")


def test_question_answers_of_the_wrong_kind_say_what_is_expected():
    fails(lambda: check("q1_1", "e"), kind="type", contains=["one of the letters"])
    fails(lambda: check("q1_2", "four hundred"), kind="type", contains=["a number"])


def test_question_answers_are_what_the_reference_computes(ref):
    """Question 1.1: from theta = 0, x_1 = (1, 2, -1) with y_1 = +1 is a mistake and theta
    becomes x_1, option (b); Question 1.2: (R/gamma)^2 for R = 2, gamma = 0.1."""
    x_1 = np.array([[1.0, 2.0, -1.0]])
    theta, mistakes = ref["pla_train"](x_1, np.array([1]), 1)
    assert mistakes == 1 and np.array_equal(theta, x_1[0])
    assert ref["perceptron_predict"](x_1, np.zeros(3))[0] == 1  # what option (a) relies on
    check("q1_2", (2 / 0.1) ** 2)


# ------------------------------------------------- the notebook's claims (issue #20)


@pytest.fixture(scope="module")
def full_run():
    """Every code cell of the solution notebook, run in order as a student runs it (the
    full run, not the shortened one of autograding)."""
    return run_solution_notebook(A)


def test_claim_the_bound_holds_and_is_loose(full_run):
    """Section 5: every data set below the diagonal; the typical one (the median) uses less
    than a tenth of the bound; the cell prints both."""
    ratios = full_run["ratios"]
    assert len(ratios) == 60
    assert (ratios <= 1).all(), ratios.max()
    assert np.median(ratios) < 0.1, np.median(ratios)
    assert f"below the bound: {len(ratios)};" in full_run["_printed"]
    assert f"median {np.median(ratios):.3f}" in full_run["_printed"]


def test_claim_the_pla_cycles_on_xor_through_theta_zero(full_run):
    """Section 6 and question 1.3's answer (b): a mistake at every corner of every epoch,
    theta back at 0 after each epoch (the four updates sum to zero)."""
    assert full_run["per_epoch"] == [4] * 12
    assert all(np.array_equal(t, np.zeros(3)) for t in full_run["thetas"])
    X = full_run["X_xor"]
    assert np.array_equal(-X[0] + X[1] + X[2] - X[3], np.zeros(3))
    assert "mistakes in each epoch: [4, 4," in full_run["_printed"]


def test_claim_the_worked_gate_example(ref):
    """Section 6's worked example: theta = (-0.5, 1, -1) computes "x1 and not x2" with the
    scores -0.5, -1.5, +0.5, -0.5, each corner 0.5 from the boundary."""
    corners = ref["add_bias"](np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float))
    theta = np.array([-0.5, 1.0, -1.0])
    assert np.array_equal(corners @ theta, [-0.5, -1.5, 0.5, -0.5])
    assert np.array_equal(ref["perceptron_predict"](corners, theta), [-1, -1, 1, -1])
    assert ref["margin"](corners, np.array([-1, -1, 1, -1]), theta) == pytest.approx(
        0.5 / np.linalg.norm(theta))  # "0.5 away" in score; the normalised distance divides


def test_claim_of_the_model_answer_the_pla_stops_on_the_hidden_features(ref):
    """Question 1.4's model answer: the hidden layer (OR, NAND) maps the corners to (0, 1),
    (1, 1), (1, 1), (1, 0), where the PLA finds a separator; on (x1, x2) it never does."""
    X01 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([-1, 1, 1, -1])
    gates = ref["gate_weights"]()
    X1 = ref["add_bias"](X01)
    H = np.column_stack([(ref["perceptron_predict"](X1, gates[g]) + 1) / 2 for g in ("OR", "NAND")])
    assert H.tolist() == [[0, 1], [1, 1], [1, 1], [1, 0]]
    theta, mistakes = ref["pla_train"](ref["add_bias"](H), y, 1000)
    assert np.array_equal(ref["perceptron_predict"](ref["add_bias"](H), theta), y)
    assert mistakes < 1000
    rng = np.random.default_rng(0)
    for _ in range(5):  # another order, or more epochs: still a mistake in the last epoch
        order = rng.permutation(4)
        theta, _ = ref["pla_train"](X1[order], y[order], 200)
        assert not np.array_equal(ref["perceptron_predict"](X1, theta), y)


def test_claim_the_sign_has_zero_gradient_and_the_sigmoid_does_not(full_run):
    """Section 7: every printed gradient of sign is 0; the sigmoid's is positive everywhere."""
    assert (full_run["z"].grad.numpy() == 0).all()
    assert (full_run["z2"].grad.numpy() > 0).all()


def test_claim_float64_agrees_to_about_1e15_and_the_checks_ask_less(ref):
    """The opening: a float64 result, whatever the order of the sums, differs from the
    reference by rounding only, about 1e-15 of the numbers involved (a margin near 0 is a
    difference of larger scores), far less than the checks allow."""
    rng = np.random.default_rng(0)
    for n, d in [(10, 2), (200, 6), (1000, 30)]:
        X = ref["add_bias"](rng.standard_normal((n, d)))
        theta = rng.standard_normal(d + 1)
        y = np.where(X @ theta >= 0, 1, -1)
        looped_margin = min(y_i * sum(a * b for a, b in zip(x_i, theta))
                            for x_i, y_i in zip(X, y)) / np.sqrt(sum(t * t for t in theta))
        looped_radius = max(np.sqrt(sum(a * a for a in x_i[::-1])) for x_i in X)
        involved = np.abs(X).max() * np.abs(theta).sum() / np.linalg.norm(theta)
        for looped, reference, size in [(looped_margin, ref["margin"](X, y, theta), involved),
                                        (looped_radius, ref["radius"](X), ref["radius"](X))]:
            assert abs(looped - reference) <= 1e-14 * size, (looped, reference, size)
    off = lambda X, y, theta: ref["margin"](X, y, theta) * (1 + 1e-9)  # noqa: E731
    RUNNERS["margin"](_with(ref, margin=off))  # a million times further off still passes
