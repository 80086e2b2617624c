# Neural Networks from Scratch · 从零实现神经网络
# Every target sets up its own virtual environment in .venv (Python 3.11+ is all you need).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lab build check lint clean help

help:
	@echo "make demo   build the course, autograde the sample submissions, print grades"
	@echo "make test   run the whole test suite"
	@echo "make lab    open JupyterLab on course/ with nbgrader"
	@echo "make build  regenerate course/ from solutions/"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required · 需要 Python 3.11 或更高版本")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m grader demo

test: $(STAMP)
	$(PY) -m pytest

build: $(STAMP)
	$(PY) -m grader build

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=course

lint: $(STAMP)
	$(VENV)/bin/ruff check grader tests bench

clean:
	rm -rf $(VENV) grading
