"""Assignment 01's answers, as the checks' references · 作业 01 的参考实现.

Each function is the course's convention written once; the ``strict``/``always``/``sign``
switches of :func:`pla` replay the classic mistakes, for the checks' diagnoses.
"""

from __future__ import annotations

import numpy as np


def add_bias(X: np.ndarray) -> np.ndarray:
    return np.hstack([np.ones((X.shape[0], 1)), X])


def predict(X: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.where(X @ theta >= 0, 1, -1)


def pla(X: np.ndarray, y: np.ndarray, epochs: int, *, strict: bool = False,
        always: bool = False, sign: int = 1) -> tuple[np.ndarray, int]:
    """The perceptron learning algorithm in the course's convention (and its classic bugs)."""
    theta = np.zeros(X.shape[1])
    mistakes = 0
    for _ in range(epochs):
        errors_this_epoch = 0
        for x_i, y_i in zip(X, y, strict=True):
            score = y_i * (x_i @ theta)
            wrong = score < 0 if strict else score <= 0
            if wrong or always:
                theta = theta + sign * y_i * x_i
            if wrong:
                mistakes += 1
                errors_this_epoch += 1
        if errors_this_epoch == 0:
            break
    return theta, mistakes


def margin(X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> float:
    return float(np.min(y * (X @ theta)) / np.linalg.norm(theta))


def radius(X: np.ndarray) -> float:
    return float(np.max(np.linalg.norm(X, axis=1)))


def bound(X: np.ndarray, y: np.ndarray, theta_star: np.ndarray) -> float:
    return (radius(X) / margin(X, y, theta_star)) ** 2


def xor(X: np.ndarray) -> np.ndarray:
    return np.where(X[:, 0] != X[:, 1], 1, -1)
