"""The README of the student release (grader.course.release) · 学生版的 README."""

README = """# Neural Networks from Scratch · 从零实现神经网络 — student release

Six Jupyter assignments, from the perceptron to autoencoders. You write the forward and
backward functions in NumPy; the check under each function compares your answer with
PyTorch autograd and says, in English and Chinese, which tensor is wrong and what the
mistake probably is. (Prose: {language}.)

## Set up (once)

```
python3 -m venv .venv                       # Python 3.11 or newer
.venv/bin/pip install -r requirements.txt   # NumPy, PyTorch (CPU), JupyterLab, nbgrader
.venv/bin/pip install .                     # the checks the notebooks import
.venv/bin/jupyter lab
```

Work through `01_perceptron/` … `06_autoencoders/` in order. Fill in the cells marked
`# YOUR CODE HERE`, run the check cell under each function, and answer the questions
(`answer_q… = None` cells). Keep float64 everywhere: an analytic gradient agrees with
autograd to about 1e-15; float32 or finite differences fail the check.

Before you hand in, press **Validate** (nbgrader's button in the notebook toolbar): it
runs your notebook in a fresh kernel with this folder's `nbgrader_config.py` and lists
the checks that fail. Your instructor grades your notebook with the same checks plus
hidden tests on other inputs.

Hand in the notebook files (`.ipynb`) the way your course says: the LMS (Canvas,
Moodle), or nbgrader's Assignment List when your JupyterHub has one.

---

# 从零实现神经网络 — 学生版

六个 Jupyter 作业，从感知机一直讲到自编码器。你用 NumPy 编写前向与反向传播函数；每个函数下方的
检查单元格会把你的答案与 PyTorch 自动微分的结果对比，并用中英文告诉你哪个张量错了、可能是什么错误。

## 安装（只需一次）

```
python3 -m venv .venv                       # 需要 Python 3.11 或更高版本
.venv/bin/pip install -r requirements.txt   # NumPy、PyTorch（CPU 版）、JupyterLab、nbgrader
.venv/bin/pip install .                     # notebook 导入的检查程序
.venv/bin/jupyter lab
```

按顺序完成 `01_perceptron/` … `06_autoencoders/`：填写标有 `# YOUR CODE HERE` 的单元格，运行每个
函数下方的检查单元格，并回答问题（`answer_q… = None` 的单元格）。请全程使用 float64：解析梯度与
自动微分的结果一致到约 1e-15；用 float32 或有限差分计算的结果无法通过检查。

提交之前，请点击 **Validate**（notebook 工具栏中 nbgrader 的按钮）：它会在新的内核中、按照本文件夹中的
`nbgrader_config.py` 运行你的 notebook，并列出未通过的检查。教师评分时使用相同的检查，另外加上用
其他输入进行的隐藏测试。

请按课程的要求提交 notebook 文件（`.ipynb`）：通过 LMS（Canvas、Moodle），或者在 JupyterHub 提供时
通过 nbgrader 的 Assignment List。
"""
