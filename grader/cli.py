"""``python -m grader``: the command line · 命令行.

Thin on purpose: each sub-command parses its arguments and calls one module. Every
sub-command and option is described (in both languages where a student reads it); a bad
id or path ends in a one-line bilingual error and exit status 2, never a traceback;
argparse's own errors are given in both languages too.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from grader.checks import messages as M
from grader.paths import COURSE, SOLUTIONS

M.register(
    {
        "cli_error": ("error: {message}", "错误：{message}"),
        "cli_required": ("the following arguments are required: {names}",
                         "缺少必需的参数：{names}"),
        "cli_choice": ("argument {name}: invalid choice: {value} (choose from {choices})",
                       "参数 {name}：无效的选择 {value}（可选：{choices}）"),
        "cli_unrecognized": ("unrecognized arguments: {names}", "无法识别的参数：{names}"),
        "cli_one_value": ("argument {name}: expected one argument", "参数 {name}：需要一个值"),
        "cli_bad_value": ("argument {name}: invalid {kind} value: {value}",
                          "参数 {name}：{value} 不是有效的 {kind} 值"),
        "cli_other": ("{message}", "参数错误（见上一行）：{message}"),
        "cli_interrupted": ("Interrupted.", "已中断。"),
        "cli_help_hint": ("Run `python -m grader {command} --help` for its options.",
                          "运行 `python -m grader {command} --help` 查看它的选项。"),
    }
)

#: argparse's messages, and the catalogue entries that say them in both languages
_ARGPARSE = [
    (re.compile(r"^the following arguments are required: (?P<names>.+)$"), "cli_required"),
    (re.compile(r"^argument (?P<name>[^:]+): invalid choice: (?P<value>.+?) "
                r"\(choose from (?P<choices>.+)\)$"), "cli_choice"),
    (re.compile(r"^unrecognized arguments: (?P<names>.+)$"), "cli_unrecognized"),
    (re.compile(r"^argument (?P<name>[^:]+): expected one argument$"), "cli_one_value"),
    (re.compile(r"^argument (?P<name>[^:]+): invalid (?P<kind>\w+) value: (?P<value>.+)$"),
     "cli_bad_value"),
]


def bilingual_argparse_error(message: str) -> str:
    """argparse's English error, with its Chinese twin under it."""
    for pattern, key in _ARGPARSE:
        found = pattern.match(message)
        if found:
            return M.bilingual(key, **found.groupdict())
    return M.bilingual("cli_other", message=message)


def _columns(char: str) -> int:
    import unicodedata

    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _fill(line: str, width: int) -> list[str]:
    """``line`` cut into pieces of at most ``width`` columns (a CJK character takes two), at a
    space near the end where there is one; an entry of a list (``! flag: …``, ``  status: …``)
    hangs its next lines under its text."""
    hang = " " * (len(line) - len(line.lstrip()) + 4) if line.startswith(("! ", "  ")) else ""
    pieces, current, used = [], "", 0
    for char in line:
        current += char
        used += _columns(char)
        if used > width:
            cut = current.rfind(" ", len(hang) if pieces else 0, len(current) - 1)
            if cut <= len(hang) or used - sum(_columns(c) for c in current[:cut]) > 16:
                # Chinese: break between two characters, never before closing punctuation
                cut = len(current) - (0 if current[-1] in "，。：；、）」』！？" else 1)
            pieces.append(current[:cut].rstrip())
            current = hang + current[cut:].lstrip(" ")
            used = sum(_columns(c) for c in current)
    return pieces + ([current] if current.strip() else [])


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions keep their line breaks and are filled to the terminal's width, counting
    a Chinese character as two columns; a bilingual "usage" heading."""

    def _fill_text(self, text, width, indent):
        width = min(width, 100)
        return "\n".join(indent + piece for line in text.splitlines()
                         for piece in (_fill(line, width - len(indent)) or [""]))

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix if prefix is not None else "usage · 用法: ")


class Parser(argparse.ArgumentParser):
    """argparse with bilingual headings and errors (exit status 2, as argparse's own)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments · 参数"
        self._optionals.title = "options · 选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="show this help and exit · 显示本帮助并退出")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        text = bilingual_argparse_error(message)
        english, _, chinese = text.partition("\n")
        self.exit(2, f"{self.prog}: {M.en('cli_error', message=english)}\n"
                     f"{self.prog}：{M.zh('cli_error', message=chinese)}\n")


# ------------------------------------------------------------------ the sub-commands


def _build(args: argparse.Namespace) -> int:
    from grader.course.build import build
    from grader.errors import require_assignments

    require_assignments(args.assignments, Path(args.solutions))
    for path in build(args.assignments or None, Path(args.solutions), Path(args.course),
                      backup=args.backup):
        print(f"built · 已生成 {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from grader.course.selfcheck import check_path

    status = 0
    for path in args.paths:
        status = max(status, check_path(path, Path(args.solutions)))
    return status


def _status(args: argparse.Namespace) -> int:
    from grader.course.status import main as status_main

    return status_main(Path(args.folder) if args.folder else None, Path(args.solutions),
                       refresh=args.refresh)


def _demo(args: argparse.Namespace) -> int:
    from grader.course.demo import demo

    return demo(Path(args.out) if args.out else None, compare=args.compare, jobs=args.jobs)


def _grade(args: argparse.Namespace) -> int:
    from grader.record.batch import run_command

    status = run_command(args)
    if args.lms and status != 2:
        _lms_export(args, feedback=True)
    return status


def _export(args: argparse.Namespace) -> int:
    _lms_export(args, feedback=not args.no_feedback)
    return 0


def _lms_export(args: argparse.Namespace, *, feedback: bool) -> None:
    from grader.record.lms import export, parse_assignment_ids

    export(Path(args.out), args.lms, missing_as_zero=args.missing_as_zero,
           assignment_ids=parse_assignment_ids(args.assignment_id), feedback=feedback,
           db_url=getattr(args, "db_url", None))


def _author(args: argparse.Namespace) -> int:
    from grader import notebooks
    from grader.course.authoring import text_to_notebook
    from grader.errors import require_path

    text = require_path(Path(args.source)).read_text(encoding="utf-8")
    nb = text_to_notebook(text)
    notebooks.write_clean(nb, args.notebook)
    print(f"wrote · 已写入 {args.notebook}")
    return 0


def _unpack(args: argparse.Namespace) -> int:
    from grader import notebooks
    from grader.course.authoring import notebook_to_text
    from grader.errors import require_path

    sys.stdout.write(notebook_to_text(notebooks.read(require_path(Path(args.notebook)))))
    return 0


def _lang(args: argparse.Namespace) -> int:
    from grader.course.lang import write_copies
    from grader.errors import require_assignments

    require_assignments(args.assignments, Path(args.course))
    for path in write_copies(args.language, Path(args.out) if args.out else None,
                             Path(args.course), args.assignments or None, backup=args.backup):
        print(f"wrote · 已写入 {path}")
    return 0


def _release(args: argparse.Namespace) -> int:
    from grader.course.release import release
    from grader.errors import UsageError

    try:
        release(Path(args.out), args.language, Path(args.course), make_zip=args.zip)
    except FileExistsError as exists:  # a release never writes into a folder with files
        raise UsageError(str(exists)) from None
    return 0


def _lab(args: argparse.Namespace) -> int:
    from grader.course.lab import main as lab_main

    try:
        return lab_main(args.dir, args.language, args.port, args.token, args.instructor,
                        open_browser=not args.no_browser, grading=args.grading)
    except ValueError as refused:  # a working folder that a command regenerates
        print(refused, file=sys.stderr)
        return 2


# ------------------------------------------------------------------------ the parser

TEXT_FORM = (
    "The text form of a notebook is a plain Python file in which `# %%` lines start the "
    "cells (the jupytext \"percent\" format) and say what each cell is: `# %% [markdown] en` "
    "and `# %% [markdown] zh` for the two languages' prose, `# %% setup`, `# %% solution "
    "id=…`, `# %% tests id=… points=…` (CONTRIBUTING.md lists them). Notebooks are written "
    "and reviewed in it.\n"
    "文本形式：一个普通的 Python 文件，以 `# %%` 行开始每个单元格并说明其类型（jupytext 的 "
    "percent 格式），例如 `# %% [markdown] en`、`# %% [markdown] zh`、`# %% setup`、"
    "`# %% solution id=…`、`# %% tests id=… points=…`（见 CONTRIBUTING.md）。notebook 以这种形式编写和审阅。"
)

CHECK_HELP = (
    "Score your own notebook with the instructor's tests, hidden ones included, with the engine "
    "of the grade of record: your setup and solution cells run in the sandbox, a line per "
    "exercise as it is graded, then the score table and every failure message. A renamed "
    "notebook (`Copy of perceptron.ipynb`) is recognised by its cells. Your files are left "
    "untouched: nothing is written next to them.\n"
    "Exit status: 0 full marks in every notebook, 1 not full marks (yet), 2 a notebook could "
    "not be checked.\n\n"
    "用教师的测试（包括隐藏测试）给你自己的 notebook 打分，使用与正式评分相同的引擎：你的 setup "
    "和解答单元格在沙箱中运行，每评完一个练习显示一行，最后是得分表和每条失败信息。改过名的 "
    "notebook（如 `Copy of perceptron.ipynb`）会根据其单元格识别。你的文件不会被改动，旁边也不会"
    "写入任何文件。\n退出状态：0 表示所有 notebook 都是满分，1 表示还没有满分，2 表示有 notebook 无法检查。"
)

STATUS_HELP = (
    "Your map of the course: for each of the six assignments, which exercises of your "
    "notebooks in FOLDER pass, and the next one to do. A notebook is graded (as `check` does) "
    "only when it changed since the last time: results are kept in FOLDER/.nnfs-status/ by "
    "the notebook's hash and the grader's version.\n\n"
    "你的课程地图：六份作业中，FOLDER 里你的 notebook 哪些练习已经通过，下一个该做哪个。只有当 "
    "notebook 自上次以来有改动时才会重新评分（与 `check` 相同）：结果按 notebook 的哈希和评分程序的"
    "版本保存在 FOLDER/.nnfs-status/ 中。"
)


def _generated_options(p: argparse.ArgumentParser, *, course: str, backup: str) -> None:
    """``--course`` and ``--backup``: a command that writes notebooks generated from the
    release, which a file someone changed stops (unless it is moved to backups/ first)."""
    p.add_argument("--course", default=str(COURSE), help=course)
    p.add_argument("--backup", action="store_true", help=backup)


def _lms_options(p: argparse.ArgumentParser, *, required: bool, lms: str, missing: str,
                 ids: str) -> None:
    """``--lms``, ``--missing-as-zero`` and ``--assignment-id`` (of ``grade`` and ``export``)."""
    p.add_argument("--lms", choices=("canvas", "moodle"), required=required, help=lms)
    p.add_argument("--missing-as-zero", action="store_true", help=missing)
    p.add_argument("--assignment-id", action="append", metavar="ASSIGNMENT=ID", help=ids)


def _grade_epilog() -> str:
    from grader.record.flags import help_text

    return (
        "Outputs in OUT: grades.csv (a row per submission), exercises.csv (a row per student "
        "and exercise), totals.csv (a row per student, a column per assignment; empty = "
        "nothing handed in), summary.txt, report.html (the class report), report.json (for "
        "you only), collect.json (where every file went), feedback/<student>/<assignment>/ "
        "(a page per notebook, nbgrader's layout), gradebook.db (nbgrader's), collected/ and "
        "autograded/ (the notebooks as collected and as graded), results/ (one file per "
        "submission: what makes a re-run grade only what changed), lms/ (with --lms).\n\n"
        + help_text() +
        "\n\nExit status: 0 when every submission was graded (whatever its score), 1 when the "
        "grader itself failed on some (status error; see report.json), 2 when nothing could "
        "start (bad arguments, source or gradebook)."
    )


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="python -m grader",
        description="Neural Networks from Scratch · 从零实现神经网络 — build, check and grade.\n"
                    "Students: check, status, lab. Instructors: build, grade, export, demo, lang, "
                    "author, unpack.\n"
                    "学生：check、status、lab。教师：build、grade、export、demo、lang、author、unpack。",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           title="commands · 命令")

    c = sub.add_parser(
        "check", help="score your own notebook with the hidden tests · 用隐藏测试给自己的 notebook 打分",
        description=CHECK_HELP)
    c.add_argument("paths", nargs="+", metavar="PATH",
                   help="a notebook, or a folder such as work/01_perceptron · "
                        "一个 notebook，或一个文件夹，例如 work/01_perceptron")
    c.add_argument("--solutions", default=str(SOLUTIONS),
                   help="the instructor's notebooks with the hidden tests (default: solutions/) · "
                        "含隐藏测试的教师版 notebook（默认 solutions/）")
    c.set_defaults(run=_check)

    st = sub.add_parser(
        "status", help="which exercises pass in your notebooks, and the next one · "
                       "你的 notebook 中哪些练习已通过，下一个做哪个",
        description=STATUS_HELP)
    st.add_argument("folder", nargs="?", metavar="FOLDER",
                    help="your working copy (default: work/) · 你的工作副本（默认 work/）")
    st.add_argument("--refresh", action="store_true",
                    help="grade every notebook again, ignoring the kept results · "
                         "忽略保存的结果，重新给每个 notebook 评分")
    st.add_argument("--solutions", default=str(SOLUTIONS),
                    help="the instructor's notebooks (default: solutions/) · "
                         "教师版 notebook（默认 solutions/）")
    st.set_defaults(run=_status)

    lb = sub.add_parser(
        "lab",
        help="JupyterLab on your own working copy (work/) · 在你自己的工作副本（work/）上打开 JupyterLab",
        description="The student's JupyterLab on a working copy that no command regenerates "
                    "(made from course/ the first time), with nbgrader's Validate button.\n"
                    "学生版 JupyterLab，打开一个任何命令都不会重新生成的工作副本（第一次由 course/ "
                    "生成），带有 nbgrader 的 Validate 按钮。")
    lb.add_argument("--dir", help="working folder (default: work/, work-zh/ or work-en/) · "
                                  "工作文件夹（默认 work/、work-zh/ 或 work-en/）")
    lb.add_argument("--language", choices=["zh", "en"],
                    help="a one-language copy of the course · 单语言版本")
    lb.add_argument("--port", type=int, help="port (default: 8888 or the next free one) · "
                                             "端口（默认 8888，被占用时用下一个空闲端口）")
    lb.add_argument("--token", help="the login token (default: a new random one) · "
                                    "登录令牌（默认每次随机生成）")
    lb.add_argument("--no-browser", action="store_true",
                    help="do not open a browser · 不打开浏览器")
    lb.add_argument("--instructor", action="store_true",
                    help="the instructor's lab on the repository: Formgrader, Create Assignment · "
                         "教师版：Formgrader、Create Assignment")
    lb.add_argument("--grading", metavar="OUT",
                    help="with --instructor: the grading folder Formgrader opens (default "
                         "grading/), e.g. the OUT of `grade`, to grade its written answers by "
                         "hand · 与 --instructor 一起使用：Formgrader 打开的评分文件夹（默认 grading/），"
                         "例如 `grade` 的 OUT，用于人工评阅文字作答")
    lb.set_defaults(run=_lab)

    b = sub.add_parser(
        "build", help="regenerate course/ from solutions/ · 由 solutions/ 生成 course/",
        description="Regenerate the student release course/ from solutions/ with nbgrader's "
                    "generate_assignment (answers and hidden tests removed). A file someone "
                    "changed in course/ stops the build (see --backup).")
    b.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="assignment ids, e.g. 01_perceptron (default: all) · "
                        "作业 id，例如 01_perceptron（默认：全部）")
    b.add_argument("--solutions", default=str(SOLUTIONS),
                   help="the instructor's notebooks (default: solutions/) · "
                        "教师版 notebook（默认 solutions/）")
    _generated_options(b, course="the release folder (default: course/) · 发布版文件夹（默认 course/）",
                       backup="first move files someone changed in course/ to backups/ · "
                              "先把 course/ 中被改动的文件移到 backups/")
    b.set_defaults(run=_build)

    g = sub.add_parser(
        "grade",
        help="trusted, sandboxed grading of record · 可信的沙箱评分",
        description="Trusted, sandboxed grading of a class · 可信的沙箱评分. SOURCE is nbgrader's "
                    "submitted/ folder (<student>/<assignment>/*.ipynb), a folder of student "
                    "folders, or an LMS zip (Canvas, Moodle).",
        epilog=_grade_epilog())
    g.add_argument("source", type=Path, metavar="SOURCE",
                   help="submitted/ folder, student folders, or the LMS's zip · "
                        "submitted/ 目录、学生文件夹，或 LMS 导出的 zip")
    g.add_argument("--out", type=Path, required=True, metavar="OUT",
                   help="output folder (see the list of outputs below) · 输出文件夹（输出文件见下文）")
    g.add_argument("--solutions", type=Path, default=SOLUTIONS,
                   help="the instructor's notebooks (default: solutions/) · "
                        "教师版 notebook（默认 solutions/）")
    g.add_argument("--db-url", help="gradebook database URL (default: sqlite in --out); "
                                    "postgresql://user:pass@host/db for several machines · "
                                    "成绩册数据库地址（默认：--out 中的 SQLite）；多台机器时用 "
                                    "postgresql://user:pass@host/db")
    g.add_argument("--assignment", action="append", help="grade only this assignment · 只评这份作业")
    g.add_argument("--jobs", "-j", type=int, default=None,
                   help="parallel workers (default: cores) · 并行进程数（默认：CPU 核数）")
    g.add_argument("--shard", help="K/N: grade only the K-th of N disjoint parts of the class; "
                                   "auto: K and N from a Slurm, Kubernetes or AWS Batch array · "
                                   "只评全班 N 个互不相交部分中的第 K 个；auto：取自批处理数组的任务编号")
    g.add_argument("--lease", type=float, default=None, metavar="SECONDS",
                   help="PostgreSQL --db-url: a claimed submission whose worker stops renewing it "
                        "returns to the pool after this long (default 60) · 认领的提交若在这段时间内"
                        "未被续租，就回到待评分队列（默认 60 秒）")
    g.add_argument("--force", action="store_true",
                   help="grade again even submissions whose stored result is up to date · "
                        "即使已保存的结果是最新的，也重新评分")
    g.add_argument("--student", action="append",
                   help="grade only this student (repeatable); with --force, regrade them · "
                        "只评这名学生（可重复）；与 --force 一起使用时重新评分")
    g.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                   help="auto: bubblewrap when it works, else resource limits only (reported) · "
                        "auto：可用时使用 bubblewrap，否则只有资源限制（会报告）")
    g.add_argument("--config", type=Path, default=None,
                   help="limits per assignment or notebook (default: grading.toml) · "
                        "按作业或 notebook 设定的限制（默认 grading.toml）")
    g.add_argument("--secret-file", type=Path, default=None,
                   help="course secret for per-student hidden inputs (default: "
                        "$NNFS_COURSE_SECRET, $NNFS_COURSE_SECRET_FILE or "
                        "~/.config/nnfs-grader/course-secret, created on first use) · "
                        "用于生成每名学生隐藏输入的课程密钥（默认：$NNFS_COURSE_SECRET、"
                        "$NNFS_COURSE_SECRET_FILE 或 ~/.config/nnfs-grader/course-secret，首次使用时创建）")
    g.add_argument("--fixed-seeds", action="store_true",
                   help="hidden tests use the solutions' seeds for everyone (as nbgrader does) · "
                        "隐藏测试对所有人使用 solutions 中的种子（与 nbgrader 相同）")
    g.add_argument("--load-timeout", type=float, default=None, metavar="SECONDS",
                   help="seconds to load a notebook's setup and solution cells "
                        "(grading.toml: load_seconds) · 加载 notebook 的 setup 与解答单元格的秒数")
    g.add_argument("--cell-timeout", type=float, default=None, metavar="SECONDS",
                   help="seconds per test cell (grading.toml: cell_seconds) · 每个测试单元格的秒数")
    g.add_argument("--notebook-timeout", type=float, default=None, metavar="SECONDS",
                   help="seconds for a whole notebook, loading and every test cell "
                        "(grading.toml: notebook_seconds) · 整个 notebook（加载和全部测试单元格）的秒数")
    g.add_argument("--memory-mb", type=int, default=None, metavar="MB",
                   help="memory of one sandbox (grading.toml: memory_mb) · 一个沙箱的内存")
    g.add_argument("--processes", type=int, default=None, metavar="N",
                   help="processes one sandbox may run (grading.toml: processes) · "
                        "一个沙箱可以运行的进程数")
    g.add_argument("--max-notebook-mb", type=float, default=None, metavar="MB",
                   help="larger files are refused unread (default 200) · "
                        "更大的文件不读取、直接拒绝（默认 200）")
    _lms_options(g, required=False,
                 lms="also write the files this LMS imports, in OUT/lms/ (see `export`) · "
                     "同时在 OUT/lms/ 中写出这个 LMS 可导入的文件（见 `export`）",
                 missing="with --lms: 0 for no submission (default: empty, the LMS keeps its "
                         "value) · 与 --lms 一起使用：没有提交记 0 分（默认留空，LMS 保留原值）",
                 ids="with --lms canvas: the Canvas assignment id a column fills (repeatable) · "
                     "与 --lms canvas 一起使用：一列对应的 Canvas 作业 id（可重复）")
    g.add_argument("--quiet", "-q", action="store_true",
                   help="print only warnings and errors · 只打印警告和错误")
    g.set_defaults(run=_grade)

    e = sub.add_parser(
        "export", help="grades and feedback in the files Canvas or Moodle imports · "
                       "导出 Canvas 或 Moodle 可导入的成绩与反馈",
        description=_export_description())
    e.add_argument("out", metavar="OUT", help="the output folder of `grade` (holds report.json) · "
                                              "`grade` 的输出文件夹（含 report.json）")
    _lms_options(e, required=True, lms="which LMS · 哪个 LMS",
                 missing="0 for no submission (default: empty, the LMS keeps its value) · "
                         "没有提交记 0 分（默认留空，LMS 保留原值）",
                 ids="Canvas: the assignment id a column fills, e.g. 01_perceptron=12345 "
                     "(repeatable; without it Canvas creates the assignment) · Canvas：一列对应的"
                     "作业 id，例如 01_perceptron=12345（可重复；不给时 Canvas 会新建作业）")
    e.add_argument("--no-feedback", action="store_true",
                   help="grades only, no feedback zips · 只导出成绩，不打包反馈")
    e.add_argument("--db-url", help="the gradebook the run wrote and formgrader grades written "
                                    "answers in (default: OUT/gradebook.db) · 评分时写入、并在 "
                                    "formgrader 中人工评阅文字作答的成绩册（默认 OUT/gradebook.db）")
    e.set_defaults(run=_export)

    d = sub.add_parser(
        "demo", help="the whole loop on the bundled samples · 在示例提交上演示完整流程",
        description="Build the course, write the bundled sample submissions (perfect, blank, "
                    "partly wrong) and grade them with the grade of record, as `grade` does: a "
                    "progress line with an ETA, the summary, then a grade table; grades.csv, "
                    "feedback/ and report.html in OUT. Exit status 1 when a sample does not get "
                    "the score it is written to get.")
    d.add_argument("--out", help="grading folder (default: grading/demo) · 评分文件夹（默认 grading/demo）")
    d.add_argument("--compare", action="store_true",
                   help="also run nbgrader's own in-kernel autograde and show its score beside "
                        "each (a few minutes more) · 同时运行 nbgrader 自己的内核内自动评分，并在每份旁边"
                        "显示它的分数（多花几分钟）")
    d.add_argument("--jobs", "-j", type=int, default=None,
                   help="parallel workers (default: cores) · 并行进程数（默认：CPU 核数）")
    d.set_defaults(run=_demo)

    lg = sub.add_parser(
        "lang",
        help="one-language copies of the course notebooks · 生成单语言版本的课程 notebook",
        description="Write course-zh/ (or course-en/): the release with the other language's "
                    "prose removed; graded cells unchanged, so they grade the same.")
    lg.add_argument("language", choices=["zh", "en"], help="the language to keep · 保留的语言")
    lg.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                    help="assignment ids (default: all) · 作业 id（默认：全部）")
    lg.add_argument("--out", help="output folder (default: course-zh/ or course-en/) · "
                                  "输出文件夹（默认 course-zh/ 或 course-en/）")
    _generated_options(lg, course="the release (default: course/) · 发布版（默认 course/）",
                       backup="first move files someone changed in the output folder to backups/ · "
                              "先把输出文件夹中被改动的文件移到 backups/")
    lg.set_defaults(run=_lang)

    r = sub.add_parser(
        "release",
        help="the student release: notebooks and checks, no answers · 学生版：notebook 与检查，不含答案",
        description="Write what an instructor hands out (an LMS upload, nbgrader's exchange, a "
                    "zip for self-learners) into a new folder: the notebooks, the check library "
                    "without its NumPy answers, pinned requirements, a bilingual README. "
                    "写出教师分发给学生的全部内容（写入一个新文件夹）。")
    r.add_argument("out", metavar="OUT", help="a new (or empty) folder · 一个新的（或空的）文件夹")
    r.add_argument("--language", choices=["zh", "en"],
                   help="one language only (default: both) · 只保留一种语言（默认两种都保留）")
    r.add_argument("--course", default=str(COURSE),
                   help="the release (default: course/) · 发布版（默认 course/）")
    r.add_argument("--zip", action="store_true", help="also write OUT.zip · 同时写出 OUT.zip")
    r.set_defaults(run=_release)

    a = sub.add_parser("author", help="text form -> notebook · 文本形式转为 notebook",
                       description=TEXT_FORM)
    a.add_argument("source", metavar="TEXT", help="a notebook in text form (.py) · "
                                                  "文本形式的 notebook（.py）")
    a.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to write (.ipynb) · "
                                                        "要写出的 notebook（.ipynb）")
    a.set_defaults(run=_author)

    u = sub.add_parser("unpack", help="notebook -> text form · notebook 转为文本形式",
                       description=TEXT_FORM)
    u.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to print in text form · "
                                                        "要以文本形式打印的 notebook")
    u.set_defaults(run=_unpack)
    return p


def _export_description() -> str:
    return (
        "Write, in OUT/lms/, the files an LMS imports, from what `grade` wrote in OUT: "
        "Canvas: canvas-grades.csv (Student, ID, SIS User ID, SIS Login ID, Section, a column "
        "per assignment; for Grades → Import) and canvas-feedback-<assignment>.zip (for the "
        "assignment's Upload submissions). Moodle: moodle-<assignment>.csv (the grading "
        "worksheet: Identifier, Full name, Grade, Maximum Grade, Last modified (grade); for "
        "Upload grading worksheet), moodle-gradebook.csv (Username and a column per "
        "assignment; for Grades → Import → CSV) and moodle-feedback-<assignment>.zip (for "
        "Upload multiple feedback files in a zip). A student with no submission is empty, not "
        "0 (--missing-as-zero). A grade is the autograded score plus the written answers' "
        "grades given by hand in formgrader (read from the run's gradebook); answers not yet "
        "graded count 0 and are reported. The README describes each file."
    )


def main(argv: list[str] | None = None) -> int:
    from grader.course.generated import WouldLoseEdits
    from grader.errors import UsageError
    from grader.record.lms import ExportError

    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except WouldLoseEdits as stop:  # build, lang, demo: someone's edit would be lost
        print(stop, file=sys.stderr)
        return 3
    except (UsageError, ExportError) as refused:  # a bad id, path or value: one clear line
        print(refused.args[0] if refused.args else refused, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(M.bilingual("cli_interrupted"), file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
