"""A whole class, from the LMS export to grades · 全班评分：从 LMS 导出到成绩.

``python -m grader grade SOURCE --out DIR`` where SOURCE is nbgrader's ``submitted/``
folder, a plain folder of student folders, or the zip an LMS exports:

1. **collect** (:mod:`grader.record.collect`): every file is copied to ``DIR/collected/`` as
   ``<student>/<assignment>/<notebook>`` or reported as unmapped, with the reason;
2. **plan**: one job per (student, assignment); with ``--shard K/N`` only the students
   whose hash falls in shard K; a job whose stored result (:mod:`grader.record.store`) was
   made from the same inputs is reused, not graded again, unless ``--force``;
3. **grade** in parallel (all cores), each result recorded as soon as it finishes:
   gradebook row, feedback, then the result file, with a progress line and an ETA;
4. **report**: ``grades.csv`` (per-exercise columns, totals, status, flags, reason),
   ``report.json`` (for the instructor only), ``summary.txt`` and the same summary in
   the terminal.

Several machines grade one class with one ``--db-url postgresql://…``: each runs the same
command, and instead of step 3's fixed share it claims submissions one at a time from the
gradebook until none is left (:mod:`grader.record.claiming`, :mod:`grader.record.queue`);
a Slurm array, a Kubernetes Indexed Job or an AWS Batch array names each worker
(:func:`grader.record.plan.engine_task`) and its first task writes the class's files.
``--shard K/N`` (or ``auto``: the engine's index) still limits a worker to the students
whose hash falls in shard K.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from concurrent.futures import as_completed
from dataclasses import asdict
from pathlib import Path

from grader.checks import messages as M
from grader.record.collect import Collection, collect
from grader.record.notebook import (
    Options,
    grade_submission,
    warm_up,
    warn_unsandboxed,
)
from grader.record.outputs import write_collect_report
from grader.record.owners import safe_student_id
from grader.record.plan import Job, Task, engine_task, parse_shard, plan, shard_of
from grader.record.progress import Progress
from grader.record.results import CellResult, NotebookResult, SubmissionResult
from grader.record.sandbox import sandbox_mode
from grader.record.source import AssignmentSource, load_assignment
from grader.record.store import ResultStore, digest_files, grader_digest
from grader.record.terminal import error_line, printable

__all__ = ["grade", "run_command", "ClassRun"]

STAGING = "collected"
MARKER = ".nnfs-collected"  # only a folder holding this is ever emptied by the grader

M.register(
    {
        "batch_reused": (
            "{count} submissions are unchanged since they were graded: reused "
            "(--force grades them again).",
            "{count} 份提交自上次评分后没有变化：沿用已有结果（--force 可重新评分）。",
        ),
        "batch_todo": (
            "Grading {count} submissions with {jobs} workers.",
            "使用 {jobs} 个进程评阅 {count} 份提交。",
        ),
        "batch_shard": (
            "Shard {k} of {n}: {count} of the class's {total} submissions.",
            "分片 {k}/{n}：全班 {total} 份提交中的 {count} 份。",
        ),
        "batch_unmapped": (
            "{count} files could not be matched to a student and an assignment (not graded; "
            "listed in collect.json):",
            "{count} 个文件无法对应到学生和作业（未评分；详见 collect.json）：",
        ),
        "batch_overlap": (
            "The output folder {out} must not be inside the submissions {source}, nor the other "
            "way round.",
            "输出目录 {out} 不能位于提交目录 {source} 之内，反之亦然。",
        ),
        "batch_no_source": (
            "Not a folder or a zip file: {source}",
            "不是文件夹，也不是 zip 文件：{source}",
        ),
        "batch_not_ours": (
            "{path} exists and was not made by the grader, which empties it on every run: "
            "move it away or choose another --out.",
            "{path} 已存在且不是评分程序创建的（评分程序每次运行都会清空它）："
            "请把它移走，或指定另一个 --out。",
        ),
        "batch_busy": (
            "Another grading run is using {out} right now; wait for it to finish (or give "
            "this one another --out).",
            "另一个评分进程正在使用 {out}；请等待它结束（或为本次运行指定另一个 --out）。",
        ),
        "batch_gradebook": (
            "Cannot open the gradebook {url}: {error}",
            "无法打开成绩册 {url}：{error}",
        ),
        "batch_recorded_again": (
            "{count} stored results were not in the gradebook (deleted, or another --db-url): "
            "written to it again, without grading them again.",
            "有 {count} 个已保存的结果不在成绩册中（成绩册被删除，或换了 --db-url）：已重新写入，"
            "没有重新评分。",
        ),
        "batch_record_failed": (
            "Could not write {student}/{assignment} to the gradebook ({error}); it will be "
            "graded again by the next run.",
            "无法把 {student}/{assignment} 写入成绩册（{error}）；下次运行时会重新评分。",
        ),
        "batch_collect_notes": (
            "What collecting found (also in collect.json):",
            "收集时发现的情况（也记录在 collect.json 中）：",
        ),
        "batch_worker_died": (
            "✗ The grader's worker process for this submission stopped ({error}); grade it "
            "again.",
            "✗ 评阅这份提交的进程停止了（{error}）；请重新评分。",
        ),
        "grade_sandboxed": (
            "Sandbox: bubblewrap (read-only system, private /tmp, no network, no view of "
            "solutions, gradebook or other submissions).",
            "沙箱：bubblewrap（只读系统、私有 /tmp、无网络、看不到答案、成绩册和其他学生的提交）。",
        ),
        "grade_flagged": (
            "{count} submissions did something a grader should look at (see report.json):",
            "{count} 份提交有需要评分者查看的行为（详见 report.json）：",
        ),
        "grade_summary": (
            "Graded {count} notebooks of {students} students in {seconds} s; results in {out}",
            "已在 {seconds} 秒内为 {students} 名学生评阅 {count} 个 notebook；结果在 {out}",
        ),
    }
)




# ---------------------------------------------------------------- planning


# ---------------------------------------------------------------- the run


def _settings_digest(options: Options, db_url: str) -> str:
    seeds = getattr(options.hidden_seeds, "fingerprint", None)
    described = {
        "limits": asdict(options.limits),
        "by_notebook": {k: asdict(v) for k, v in sorted(options.limits_by_notebook.items())},
        "sandbox": sandbox_mode(options.sandbox),
        "seeds": seeds() if seeds else repr(options.hidden_seeds),
        "db": db_url,
        "grader": grader_digest(),
        "max_mb": options.max_notebook_mb,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def fingerprint(job: Job, settings: str, solutions: Path) -> str:
    """Everything a job's result depends on; the same fingerprint means the same grade."""
    files = sorted(job.folder.glob("*")) if job.folder.is_dir() else []
    solution = digest_files(sorted((solutions / job.assignment).glob("*.ipynb")))
    return digest_files(files, extra=f"{settings}|{solution}|{job.empty}|{job.status}|"
                                     f"{job.flags}")


def _grade_job(job: Job, source: AssignmentSource, options: Options) -> SubmissionResult:
    if job.empty:
        return _empty_result(job, source)
    return grade_submission(job, source, options)


def _empty_result(job: Job, source: AssignmentSource | None) -> SubmissionResult:
    book = NotebookResult(job.student, job.assignment, "", status=job.status,
                          message=job.empty, flags=list(job.flags))
    if source is not None and not source.error:
        book.notebook = source.notebooks[0].name if source.notebooks else ""
        book.cells = [CellResult(t.grade_id, t.points, feedback=job.empty, detail=job.empty)
                      for nb in source.notebooks for t in nb.tests]
    return SubmissionResult(job.student, job.assignment, [book])


def _run_one(args: tuple[Job, AssignmentSource | None, Options]) -> SubmissionResult:
    job, source, options = args
    if source is None:
        return _empty_result(job, None)
    return _grade_job(job, source, options)


def _staging(out: Path, tag: str) -> Path:
    return out / (f"{STAGING}.{tag}" if tag else STAGING)


def _fresh_staging(staging: Path) -> None:
    """Empty the staging folder of a previous run; refuse to touch a folder we did not make."""
    if staging.exists():
        if not (staging / MARKER).is_file():
            raise NotOurFolder(M.bilingual("batch_not_ours", path=staging))
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    (staging / MARKER).write_text("copies made by `python -m grader grade`; safe to delete\n",
                                  encoding="utf-8")


class NotOurFolder(RuntimeError):
    """OUT holds a folder of that name the grader did not make: the run is refused."""


def lock_output(path: Path, out: Path):
    """One run per output folder (per shard) at a time: a second would empty our staging."""
    import fcntl

    handle = open(path, "w")  # closing it (the with block, or death) releases the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RuntimeError(M.bilingual("batch_busy", out=out)) from None
    return handle


def _suffix(name: str, tag: str) -> str:
    if not tag:
        return name
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{tag}{dot}{ext}"


def grade(source: Path, out: Path, *, options: Options | None = None,
          db_url: str | None = None, jobs: int | None = None,
          assignments: list[str] | None = None, quiet: bool = False,
          feedback: bool = True, shard: tuple[int, int] | None = None,
          force: bool = False, students: list[str] | None = None,
          task: Task | None = None, lease: float | None = None) -> list[SubmissionResult]:
    """Grade a class (see the module docstring); returns its rows, sorted.

    ``students`` limits the run to these ids (e.g. to regrade one with ``force``). ``task``
    is this worker's place in a batch engine's array (:func:`engine_task`); ``lease`` the
    seconds a claim lasts unrenewed (PostgreSQL only; :mod:`grader.record.queue`).
    """
    run = ClassRun(Path(source), Path(out), options or Options(), db_url=db_url, jobs=jobs,
                   quiet=quiet, feedback=feedback, shard=shard, task=task, lease=lease)
    lock = run.out / f".{run.staging.name}.lock"
    new_lock = not lock.exists()
    try:
        with lock_output(lock, run.out):  # until this run ends
            return _grade_locked(run, assignments, students, force)
    except NotOurFolder:  # refused before anything was written: leave the folder as it was
        if new_lock:
            lock.unlink(missing_ok=True)
        raise


def _grade_locked(run: ClassRun, assignments: list[str] | None, students: list[str] | None,
                  force: bool) -> list[SubmissionResult]:
    """The run under its lock: collect, plan, grade what changed, write the outputs."""
    mine = run.collect(assignments)
    run.prepare(mine)
    wanted = {safe_student_id(s) for s in students or ()}
    chosen = [job for job in mine if (not assignments or job.assignment in assignments
                                      or (job.empty and not job.assignment))
              and (not wanted or job.student in wanted)]
    keys = {(job.student, job.assignment) for job in chosen}
    rest = [job for job in mine if (job.student, job.assignment) not in keys]
    if run.queue is not None:  # PostgreSQL: claimed from the pool, next to other workers
        from grader.record.claiming import claim_class, note_in_report

        results, graded = claim_class(run, chosen, rest, force)
        run.report(results, graded)
        note_in_report(run)
        return results
    reused, todo = run.split(chosen, force)
    # the rest of the class keeps its current rows in the outputs, without grading
    reused += run.stored(rest)
    from grader.record.gradebook import put_back

    if count := put_back(reused, run.sources, run.db_url, run.open_book):
        run.say(M.bilingual("batch_recorded_again", count=count))
    graded = run.grade_all(todo)
    results = sorted(reused + graded, key=lambda r: (r.assignment, r.student))
    run.report(results, graded)
    return results


class ClassRun:
    """The steps of one ``grade`` call, in the order the module docstring gives."""

    def __init__(self, source: Path, out: Path, options: Options, *, db_url: str | None,
                 jobs: int | None, quiet: bool, feedback: bool, shard: tuple[int, int] | None,
                 task: Task | None = None, lease: float | None = None):
        from grader.record import claiming

        self.source, self.out = source.resolve(), out.resolve()
        if not self.source.exists():
            raise RuntimeError(M.bilingual("batch_no_source", source=self.source))
        # collect() walks the source: it must not walk into the output, nor read our copies
        if self.out.is_relative_to(self.source) or any(
                self.source.is_relative_to(p) for p in self.out.glob(f"{STAGING}*")):
            raise RuntimeError(M.bilingual("batch_overlap", out=self.out, source=self.source))
        self.out.mkdir(parents=True, exist_ok=True)
        self.options, self.shard, self.quiet, self.feedback = options, shard, quiet, feedback
        self.jobs = jobs or max(1, os.cpu_count() or 1)
        # who this worker is among several (PostgreSQL: they claim), and what it writes
        claiming.place(self, db_url, shard, task, lease)
        self.db_url = db_url or f"sqlite:///{self.out / self.named('gradebook.db')}"
        self.staging = _staging(self.out, self.tag)
        self.store = ResultStore(self.out / "results")
        self.sources: dict[str, AssignmentSource] = {}
        self.collection = Collection()
        self.mode = "none"
        self.started = time.monotonic()

    def say(self, *parts: object) -> None:
        if not self.quiet:
            print(*parts, flush=True)

    def listing(self, lines: list[str], shown: int = 20) -> None:
        """The first ``shown`` lines, indented, then how many more there are."""
        for line in lines[:shown]:
            self.say(f"  {line}")
        if len(lines) > shown:
            self.say(f"  … +{len(lines) - shown}")

    def named(self, name: str) -> str:
        """An output file's name; shards get their own (``grades.shard-1-of-4.csv``), and so
        does a task of an array that does not write the class's (``grades.task-2-of-4.csv``)."""
        return _suffix(name, self.tag)

    # 1. collect ---------------------------------------------------------------

    def collect(self, assignments: list[str] | None) -> list[Job]:
        _fresh_staging(self.staging)
        self.collection = collect(self.source, self.staging, self.options.solutions,
                                  self.options.max_notebook_mb)
        write_collect_report(self.out / self.named("collect.json"), self.collection, self.source)
        unmapped = self.collection.unmapped
        if unmapped:
            self.say(M.bilingual("batch_unmapped", count=len(unmapped)))
            self.listing([f"{printable(item.origin, 120)}: {printable(_joined(item.reason))}"
                          for item in unmapped])
        told = {item.reason for item in unmapped}
        notes = [note for note in self.collection.notes if note not in told]
        if notes:
            self.say(M.bilingual("batch_collect_notes"))
            self.listing([printable(_joined(note)) for note in notes])
        everyone = plan(self.collection, self.staging, assignments)
        if self.shard is None:
            return everyone
        k, n = self.shard
        mine = [job for job in everyone if shard_of(job.student, n) == k]
        self.say(M.bilingual("batch_shard", k=k, n=n, count=len(mine), total=len(everyone)))
        return mine

    # 2. plan --------------------------------------------------------------------

    def prepare(self, jobs: list[Job]) -> None:
        options = self.options
        warm_up()
        self.sources = {a: load_assignment(a, options.solutions)
                        for a in sorted({j.assignment for j in jobs if j.assignment})}
        self.mode = sandbox_mode(options.sandbox)
        if self.mode == "bwrap":
            self.say(M.bilingual("grade_sandboxed"))
        else:  # loudly, even with --quiet
            warn_unsandboxed(options)
        identity = self.db_url
        if self.postgres:  # the database itself, not the URL (it differs between machines)
            from grader.record import claiming

            identity = f"postgresql:{claiming.open_queue(self)}"
        self.settings = _settings_digest(options, identity)
        if self.queue is not None and self.run_id:
            self.queue.join_run(self.run_id, self.settings)

    def split(self, jobs: list[Job], force: bool
              ) -> tuple[list[SubmissionResult], list[tuple[Job, str]]]:
        """(stored results still valid, jobs to grade with their fingerprints)."""
        reused, todo = [], []
        for job in jobs:
            print_ = fingerprint(job, self.settings, self.options.solutions)
            kept = None if force else self.store.load(job.student, job.assignment, print_)
            if kept is not None:
                reused.append(kept)
            else:
                todo.append((job, print_))
        if reused:
            self.say(M.bilingual("batch_reused", count=len(reused)))
        if todo:
            self.say(M.bilingual("batch_todo", count=len(todo), jobs=min(self.jobs, len(todo))))
        return reused, todo

    def stored(self, jobs: list[Job]) -> list[SubmissionResult]:
        """Results of these jobs that are still current, without grading anything."""
        found = []
        for job in jobs:
            print_ = fingerprint(job, self.settings, self.options.solutions)
            result = self.store.load(job.student, job.assignment, print_)
            if result is not None:
                found.append(result)
        return found

    # 3. grade -------------------------------------------------------------------

    def open_book(self):
        from grader.record import gradebook

        try:
            # claiming: a stopped worker's open transaction ends with its lease
            writer = gradebook.Writer(self.db_url, session_timeout=self.lease
                                      if self.queue is not None else None)
            for source in self.sources.values():
                writer.add_assignment(source)
        except Exception as exc:  # unreachable server, wrong password, not a database
            raise RuntimeError(M.bilingual("batch_gradebook", url=_hide_password(self.db_url),
                                           error=error_line(exc))) from None
        return writer

    def grade_all(self, todo: list[tuple[Job, str]]) -> list[SubmissionResult]:
        """Grade in parallel; record each result as it finishes (see :meth:`finished`)."""
        if not todo:
            return []
        self.started = time.monotonic()
        progress = Progress(len(todo), self.quiet)
        prints = {(job.student, job.assignment): print_ for job, print_ in todo}
        work = [(job, self.sources.get(job.assignment), self.options) for job, _ in todo]
        graded: list[SubmissionResult] = []
        book = None

        def finished(result: SubmissionResult, job: Job) -> None:
            self.finished(book, result, job, prints[(job.student, job.assignment)])
            graded.append(result)
            progress.finished(result)

        try:
            if self.jobs == 1 or len(work) == 1:
                book = self.open_book()
                for item in work:
                    finished(_run_one(item), item[0])
                return graded
            from grader.record.pool import grading_pool

            with grading_pool(self.jobs) as pool:
                futures = {pool.submit(_run_one, item): item[0] for item in work}
                # opened only after the worker processes exist: they never share its connection.
                # A gradebook that cannot be opened stops the run here, before any result is
                # recorded: the notebooks already in a worker are dropped, the rest never start
                try:
                    book = self.open_book()
                except Exception:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        result = future.result()
                    except Exception as exc:  # a worker process died: one row, not the batch
                        result = _worker_died(job, exc)
                    finished(result, job)
            return graded
        finally:
            progress.close()
            if book is not None:
                book.close()

    def finished(self, book, result: SubmissionResult, job: Job, print_: str) -> None:
        """Gradebook row, feedback, then the stored result: that last write marks it done."""
        from grader.record import autograded

        source = self.sources.get(result.assignment)
        recorded = True
        if source is not None:
            try:
                book.record(result, source)
            except Exception as exc:  # not stored either: the next run grades it again
                recorded = False
                result.notebooks[0].flags.append("gradebook_failed")
                print(printable(M.bilingual("batch_record_failed", student=result.student,
                                            assignment=result.assignment,
                                            error=error_line(exc)), lines=True),
                      file=sys.stderr, flush=True)
            if self.feedback:
                autograded.write_pages(self.out, result, job.folder, source)
        if recorded:
            self.store.save(result, print_)

    # 4. report ------------------------------------------------------------------

    def report(self, results: list[SubmissionResult], graded: list[SubmissionResult]) -> None:
        """The outputs (grader.record.outputs, summary, report_page), and the summary that fits
        a screen; a run that graded nothing new says so in two lines."""
        from grader.record import outputs
        from grader.record.report_page import write_report_page
        from grader.record.summary import render, screen

        out = self.out
        names = outputs.exercise_names(self.sources)
        outputs.write_csv(out / self.named("grades.csv"), results, self.sources)
        outputs.write_exercises(out / self.named("exercises.csv"), results, names)
        outputs.write_totals(out / self.named("totals.csv"), results)
        outputs.write_report(out / self.named("report.json"), results, self.mode,
                             graded=len(graded), reused=len(results) - len(graded), names=names,
                             collection=self.collection)
        summary, page = out / self.named("summary.txt"), out / self.named("report.html")
        summary.write_text(render(results, names), encoding="utf-8", errors="backslashreplace")
        write_report_page(page, results, names)
        if graded or not results:
            self.say(screen(results, names, summary=str(summary), report=str(page)))
        else:
            self.say(M.bilingual("summary_nothing_new", count=len(results), summary=summary,
                                 report=page))
        if self.mode != "bwrap":
            warn_unsandboxed(self.options)  # again, under the table, where it will be read
        if graded:
            students = len({r.student for r in graded})
            self.say(M.bilingual("grade_summary", count=len(graded), students=students,
                                 seconds=f"{time.monotonic() - self.started:.1f}", out=out))


def _worker_died(job: Job, exc: BaseException) -> SubmissionResult:
    message = M.bilingual("batch_worker_died", error=f"{type(exc).__name__}: {exc}")
    return SubmissionResult(job.student, job.assignment, [NotebookResult(
        job.student, job.assignment, "", status="error", message=message)])


def _hide_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


# ---------------------------------------------------------------- outputs


# ------------------------------------------------------------------------ CLI


def run_command(args: argparse.Namespace) -> int:
    """``python -m grader grade`` with its parsed options (see grader.cli); the exit status."""
    from grader.record.claiming import Stopped
    from grader.record.config import ConfigError, load_limits
    from grader.record.seeds import SecretError, StudentSeeds, course_secret

    try:
        task = engine_task()
        shard = parse_shard(args.shard, task)
        limits, by_notebook = load_limits(args.config, {
            "load_seconds": args.load_timeout, "cell_seconds": args.cell_timeout,
            "notebook_seconds": args.notebook_timeout,
            "memory_mb": args.memory_mb, "processes": args.processes})
        seeds = None if args.fixed_seeds else StudentSeeds(course_secret(args.secret_file))
        options = Options(solutions=args.solutions, limits=limits, sandbox=args.sandbox,
                          limits_by_notebook=by_notebook, hidden_seeds=seeds)
        if args.max_notebook_mb is not None:
            options.max_notebook_mb = args.max_notebook_mb
        results = grade(args.source, args.out, options=options, db_url=args.db_url,
                        jobs=args.jobs, assignments=args.assignment, quiet=args.quiet,
                        shard=shard, force=args.force, students=args.student, task=task,
                        lease=getattr(args, "lease", None))
    except (ValueError, RuntimeError, ConfigError, SecretError) as exc:
        print(printable(str(exc), 1000, lines=True), file=sys.stderr)
        return 2
    except Stopped as stopped:  # SIGTERM / Ctrl-C while claiming: the claims went back
        print(stopped.message(), file=sys.stderr, flush=True)
        return stopped.status
    # 1 tells a scheduler that some rows are the grader's failure, not the student's
    return 1 if any(_grader_failed(r) for r in results) else 0


def _grader_failed(result: SubmissionResult) -> bool:
    return result.status == "error" or "gradebook_failed" in result.flags


def _joined(text: str) -> str:
    """A bilingual message on one line (for a listing)."""
    return " ".join(text.split("\n"))
