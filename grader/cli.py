"""``python -m grader``: the command line · 命令行.

Thin on purpose: each sub-command parses its arguments and calls one module.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.paths import COURSE, SOLUTIONS


def _build(args: argparse.Namespace) -> int:
    from grader.course.build import build

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


def _demo(args: argparse.Namespace) -> int:
    from grader.course.demo import demo

    return demo(Path(args.out) if args.out else None)


def _grade(args: argparse.Namespace) -> int:
    from grader.record.batch import run_command

    return run_command(args)


def _author(args: argparse.Namespace) -> int:
    from grader import notebooks
    from grader.course.authoring import text_to_notebook

    nb = text_to_notebook(Path(args.source).read_text(encoding="utf-8"))
    notebooks.write_clean(nb, args.notebook)
    print(f"wrote · 已写入 {args.notebook}")
    return 0


def _unpack(args: argparse.Namespace) -> int:
    from grader import notebooks
    from grader.course.authoring import notebook_to_text

    sys.stdout.write(notebook_to_text(notebooks.read(args.notebook)))
    return 0


def _lang(args: argparse.Namespace) -> int:
    from grader.course.lang import write_copies

    for path in write_copies(args.language, Path(args.out) if args.out else None,
                             Path(args.course), args.assignments or None, backup=args.backup):
        print(f"wrote · 已写入 {path}")
    return 0


def _lab(args: argparse.Namespace) -> int:
    from grader.course.lab import main as lab_main

    try:
        return lab_main(args.dir, args.language, args.port, args.token, args.instructor,
                        open_browser=not args.no_browser)
    except ValueError as refused:  # a working folder that a command regenerates
        print(refused, file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grader",
        description="Neural Networks from Scratch · 从零实现神经网络 — build, check and grade.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="regenerate course/ from solutions/ · 由 solutions/ 生成 course/")
    b.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    b.add_argument("--solutions", default=str(SOLUTIONS))
    b.add_argument("--course", default=str(COURSE))
    b.add_argument("--backup", action="store_true",
                   help="first move files someone changed in course/ to backups/ · "
                        "先把 course/ 中被改动的文件移到 backups/")
    b.set_defaults(run=_build)

    c = sub.add_parser(
        "check",
        help="score your own notebook with the hidden tests · 用隐藏测试给自己的 notebook 打分",
    )
    c.add_argument("paths", nargs="+", help="a notebook, or a folder such as course/01_perceptron")
    c.add_argument("--solutions", default=str(SOLUTIONS))
    c.set_defaults(run=_check)

    d = sub.add_parser(
        "demo", help="build, autograde the sample submissions, print grades · 演示完整流程"
    )
    d.add_argument("--out", help="grading folder (default: grading/demo)")
    d.set_defaults(run=_demo)

    g = sub.add_parser(
        "grade",
        help="trusted, sandboxed grading of record · 可信的沙箱评分",
        description="Trusted, sandboxed grading of a class · 可信的沙箱评分. SOURCE is nbgrader's "
                    "submitted/ folder (<student>/<assignment>/*.ipynb), a folder of student "
                    "folders, or an LMS zip (Canvas, Moodle).",
    )
    g.add_argument("source", type=Path, metavar="SOURCE")
    g.add_argument("--out", type=Path, required=True,
                   help="output folder: grades.csv, summary.txt, feedback/, gradebook.db, "
                        "report.json, results/")
    g.add_argument("--solutions", type=Path, default=SOLUTIONS,
                   help="the instructor's notebooks (default: solutions/)")
    g.add_argument("--db-url", help="gradebook database URL (default: sqlite in --out); "
                                    "postgresql://user:pass@host/db for several machines")
    g.add_argument("--assignment", action="append", help="grade only this assignment")
    g.add_argument("--jobs", "-j", type=int, default=None, help="parallel workers (default: cores)")
    g.add_argument("--shard", help="K/N: grade only the K-th of N disjoint parts of the class; "
                                   "auto: K and N from a Slurm, Kubernetes or AWS Batch array · "
                                   "只评全班 N 个互不相交部分中的第 K 个；auto：取自批处理数组的任务编号")
    g.add_argument("--lease", type=float, default=None, metavar="SECONDS",
                   help="PostgreSQL --db-url: a claimed submission whose worker stops renewing it "
                        "returns to the pool after this long (default 60) · 认领的提交若在这段时间内"
                        "未被续租，就回到待评分队列（默认 60 秒）")
    g.add_argument("--force", action="store_true",
                   help="grade again even submissions whose stored result is up to date")
    g.add_argument("--student", action="append",
                   help="grade only this student (repeatable); with --force, regrade them")
    g.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                   help="auto: bubblewrap when it works, else resource limits only (reported)")
    g.add_argument("--config", type=Path, default=None,
                   help="limits per assignment or notebook (default: grading.toml)")
    g.add_argument("--secret-file", type=Path, default=None,
                   help="course secret for per-student hidden inputs (default: "
                        "$NNFS_COURSE_SECRET, $NNFS_COURSE_SECRET_FILE or "
                        "~/.config/nnfs-grader/course-secret, created on first use)")
    g.add_argument("--fixed-seeds", action="store_true",
                   help="hidden tests use the solutions' seeds for everyone (as nbgrader does)")
    g.add_argument("--load-timeout", type=float, default=None)
    g.add_argument("--cell-timeout", type=float, default=None)
    g.add_argument("--notebook-timeout", type=float, default=None)
    g.add_argument("--memory-mb", type=int, default=None)
    g.add_argument("--processes", type=int, default=None)
    g.add_argument("--max-notebook-mb", type=float, default=None)
    g.add_argument("--quiet", "-q", action="store_true")
    g.epilog = ("Exit status: 0 when every submission was graded (whatever its score), 1 when "
                "the grader itself failed on some (status error; see report.json), 2 when "
                "nothing could start (bad arguments, source or gradebook).")
    g.set_defaults(run=_grade)

    a = sub.add_parser("author", help="text form -> notebook · 文本形式转为 notebook")
    a.add_argument("source")
    a.add_argument("notebook")
    a.set_defaults(run=_author)

    u = sub.add_parser("unpack", help="notebook -> text form · notebook 转为文本形式")
    u.add_argument("notebook")
    u.set_defaults(run=_unpack)
    lg = sub.add_parser(
        "lang",
        help="one-language copies of the course notebooks · 生成单语言版本的课程 notebook",
    )
    lg.add_argument("language", choices=["zh", "en"])
    lg.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    lg.add_argument("--out", help="output folder (default: course-zh/ or course-en/)")
    lg.add_argument("--course", default=str(COURSE))
    lg.add_argument("--backup", action="store_true",
                    help="first move files someone changed in the output folder to backups/ · "
                         "先把输出文件夹中被改动的文件移到 backups/")
    lg.set_defaults(run=_lang)

    lb = sub.add_parser(
        "lab",
        help="JupyterLab on your own working copy (work/) · 在你自己的工作副本（work/）上打开 JupyterLab",
    )
    lb.add_argument("--dir", help="working folder (default: work/, work-zh/ or work-en/)")
    lb.add_argument("--language", choices=["zh", "en"],
                    help="a one-language copy of the course · 单语言版本")
    lb.add_argument("--port", type=int, help="port (default: 8888 or the next free one)")
    lb.add_argument("--token", help="the login token (default: a new random one)")
    lb.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lb.add_argument("--instructor", action="store_true",
                    help="the instructor's lab on the repository: Formgrader, Create Assignment · "
                         "教师版：Formgrader、Create Assignment")
    lb.set_defaults(run=_lab)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    from grader.course.generated import WouldLoseEdits

    try:
        return int(args.run(args) or 0)
    except WouldLoseEdits as stop:  # build, lang, demo: someone's edit would be lost
        print(stop, file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
