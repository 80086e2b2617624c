# Neural Networks from Scratch · 从零实现神经网络
# Every target sets up its own virtual environment in .venv (Python 3.11+ is all you need).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lab lab-instructor build check lint clean help sandbox

help:
	@echo "make demo             build the course, grade the sample submissions with the grade of record, print grades"
	@echo "                      生成课程，用正式评分程序给示例提交评分，打印成绩表"
	@echo "make test             run the whole test suite · 运行全部测试"
	@echo "make test-fast        the quick lane for developers (no kernels, nbgrader, browser) · 开发者用的快速测试"
	@echo "make lab              JupyterLab on your own working copy work/ (LANGUAGE=zh|en PORT=8899 DIR=folder TOKEN=...)"
	@echo "                      在你自己的工作副本 work/ 上打开 JupyterLab（选项同上）"
	@echo "make lab-instructor   the instructor's JupyterLab on the repository (Formgrader, Create Assignment; GRADING=OUT)"
	@echo "                      教师版 JupyterLab（Formgrader、Create Assignment）"
	@echo "make build            regenerate course/ from solutions/ · 由 solutions/ 重新生成 course/"
	@echo "Then: .venv/bin/python -m grader check work/01_perceptron (your score), ... status (your map), --help (all commands)"
	@echo "然后：.venv/bin/python -m grader check work/01_perceptron（你的得分）、... status（你的课程地图）、--help（全部命令）"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required · 需要 Python 3.11 或更高版本")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# The grading sandbox uses bubblewrap; install it where we can (root with apt), otherwise
# say what happens without it. Never fatal: grading falls back to resource limits only.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing bubblewrap (the grading sandbox) · 安装 bubblewrap(评分沙箱)"; \
	    (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null 2>&1)) || true; \
	  else \
	    echo "note: bubblewrap not found; the trusted grader will use resource limits only (apt-get install bubblewrap)"; \
	    echo "提示:未找到 bubblewrap;可信评分将只使用资源限制(apt-get install bubblewrap)"; \
	  fi; }

demo: $(STAMP) sandbox
	$(PY) -m grader demo

# The whole suite (what CI runs) on every core, a test file to a worker (tests/conftest.py),
# with the slowest tests listed at the end. TEST_JOBS=1 runs it on one.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: $(STAMP) sandbox
	$(PY) -m pytest --durations=30 -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder

# A developer's lane: no whole notebooks in a kernel, no nbgrader, no browser (tests marked
# slow), on every core like the full suite.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" -q -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder

build: $(STAMP)
	$(PY) -m grader build

# The student's lab on their own working copy (work/, made once from course/; never regenerated):
#   make lab LANGUAGE=zh PORT=8899 DIR=~/nnfs TOKEN=secret
# LANGUAGE is also a locale variable (GNU gettext), so only a value given on the command line
# counts. Configuration: lab/student/ (see grader/course/lab.py).
LAB_ARGS = $(if $(filter command line,$(origin LANGUAGE)),--language $(LANGUAGE)) \
           $(if $(PORT),--port $(PORT)) $(if $(DIR),--dir "$(DIR)") $(if $(TOKEN),--token "$(TOKEN)")

lab: $(STAMP)
	$(PY) -m grader lab $(LAB_ARGS)

# The instructor's lab on the repository: Formgrader, Create Assignment (lab/instructor/).
lab-instructor: $(STAMP)
	$(PY) -m grader lab --instructor $(if $(PORT),--port $(PORT))$(if $(TOKEN), --token "$(TOKEN)")$(if $(GRADING), --grading "$(GRADING)")

lint: $(STAMP)
	$(VENV)/bin/ruff check grader tests bench

clean:
	rm -rf $(VENV) grading
