"""Trusted NumPy references that are solutions themselves · 本身就是答案的 NumPy 参考实现.

Where an exercise cannot be checked against PyTorch (the perceptron is not
differentiable; XOR is a truth table), its expected values come from a NumPy
implementation of the exercise. Those implementations are the answers, so they live
here, apart from the checks, and the student release (``python -m grader release``)
leaves this package out: there, the visible checks compare against values computed at
release time (:mod:`grader.checks.recorded`).

An exercise reaches this package only in its ``prepare`` step (see
:class:`grader.checks.specs.Exercise`), never while judging.
"""
