"""The command line helps (issue #21): every sub-command and option described, bad ids and
paths end in one bilingual error and exit status 2 (never a traceback), argparse's own errors
in both languages, `make help` in both languages."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import bilingual_argparse_error, main, parser

REPO = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def _subcommands():
    p = parser()
    action = next(a for a in p._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices, {c.dest: c.help for c in action._choices_actions}


def test_every_subcommand_has_a_description_and_every_option_a_help():
    commands, helps = _subcommands()
    assert set(commands) >= {"build", "check", "status", "demo", "grade", "export", "author",
                             "unpack", "lang", "lab"}
    for name, sub in commands.items():
        assert helps[name] and sub.description, name
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize("command", ["check", "status", "lab"])
def test_what_a_student_reads_is_in_both_languages(command):
    commands, helps = _subcommands()
    assert CJK.search(helps[command]) and CJK.search(commands[command].description)
    for action in commands[command]._actions:
        assert CJK.search(action.help), f"{command} {action.option_strings or action.dest}"


def test_every_option_of_every_command_is_explained_in_both_languages():
    commands, helps = _subcommands()
    missing = [f"{name} {action.option_strings or action.dest}"
               for name, sub in commands.items() for action in sub._actions
               if not CJK.search(action.help or "")]
    assert not missing, missing
    assert all(CJK.search(text) for text in helps.values())


@pytest.mark.parametrize("command", ["author", "unpack"])
def test_the_text_form_is_defined_where_it_is_used(command):
    commands, _ = _subcommands()
    text = commands[command].format_help()
    assert "The text form of a notebook is a plain Python file" in text and "文本形式" in text


def test_check_says_its_exit_status_and_that_it_leaves_files_alone():
    commands, _ = _subcommands()
    text = commands["check"].format_help()
    assert "Exit status: 0 full marks" in text and "1 not full marks" in text
    assert "Your files are left untouched" in text and "你的文件不会被改动" in text
    assert "renamed" in text


@pytest.mark.parametrize("args, english, chinese", [
    (["build", "07_cnn"], "No assignment 07_cnn in", "中没有作业 07_cnn"),
    (["lang", "zh", "07_cnn"], "No assignment 07_cnn in", "中没有作业 07_cnn"),
    (["check", "no/such/notebook.ipynb"], "No notebook found at", "没有找到 notebook"),
    (["check", "README.md"], "cut off or corrupt", "被截断或已损坏"),
    (["status", "no/such/folder"], "does not exist", "不存在"),
    (["author", "no/such.py", "x.ipynb"], "does not exist", "不存在"),
    (["unpack", "no/such.ipynb"], "does not exist", "不存在"),
    (["export", "no/such/out", "--lms", "canvas"], "holds no report.json", "没有 report.json"),
    (["grade", "no/such/source", "--out", "/tmp/nnfs-never", "--fixed-seeds"],
     "Not a folder or a zip file", "不是文件夹"),
])
def test_bad_ids_and_paths_are_one_bilingual_error_and_status_2(args, english, chinese, capsys):
    assert main(args) == 2
    captured = capsys.readouterr()
    text = captured.err + captured.out
    assert english in text and chinese in text, text
    assert "Traceback" not in text
    assert len([line for line in text.splitlines() if line.strip()]) <= 4, text


def test_a_bad_id_stops_before_nbgrader_runs():
    done = _run("build", "07_cnn")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Did you mean" not in done.stderr + done.stdout  # nbgrader's guess never shows
    assert "07_cnn" in done.stderr and "01_perceptron" in done.stderr


@pytest.mark.parametrize("args, chinese", [
    (["nonsense"], "无效的选择"),
    (["grade"], "缺少必需的参数"),
    (["lang", "fr"], "无效的选择"),
    (["demo", "--jobs", "many"], "不是有效的 int 值"),
    (["check", "x.ipynb", "--frobnicate"], "无法识别的参数"),
    (["grade", "src", "--out"], "需要一个值"),
])
def test_argparse_errors_are_bilingual(args, chinese, capsys):
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "错误：" in err and chinese in err, err
    assert "usage · 用法" in err


def test_an_argparse_message_we_do_not_know_is_still_shown_in_both_lines():
    text = bilingual_argparse_error("something new in Python 3.14")
    english, chinese = text.split("\n")
    assert "something new" in english and CJK.search(chinese) and "something new" in chinese


def test_help_headings_are_bilingual(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert "usage · 用法" in out and "options · 选项" in out and "显示本帮助并退出" in out


def test_make_help_is_bilingual():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    for target in ("make demo", "make test", "make lab", "make build"):
        assert target in done.stdout
    lines = done.stdout.splitlines()
    assert sum(bool(CJK.search(line)) for line in lines) >= 5, done.stdout
