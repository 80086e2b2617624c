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

Several machines grade one class by running the same command with ``--shard 1/N`` …
``--shard N/N`` and one ``--db-url postgresql://…``; a final run without ``--shard`` over
the shards' ``results/`` (a shared ``--out``) grades nothing and writes the class's files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.checks import messages as M
from grader.paths import SOLUTIONS
from grader.record.collect import Collection, Empty, collect, safe_student_id
from grader.record.intake import MAX_NOTEBOOK_MB
from grader.record.notebook import (
    INFO_FLAGS,
    Options,
    SubmissionFolder,
    grade_submission,
    warm_up,
    warn_unsandboxed,
)
from grader.record.results import CellResult, NotebookResult, SubmissionResult
from grader.record.sandbox import sandbox_mode
from grader.record.source import AssignmentSource, load_assignment
from grader.record.store import ResultStore, digest_files, grader_digest
from grader.record.terminal import printable

__all__ = ["grade", "main", "parser", "Job", "shard_of", "parse_shard", "write_csv"]

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
        "batch_bad_shard": (
            "--shard must be K/N with 1 ≤ K ≤ N, for example 2/4 (got {value}).",
            "--shard 的格式必须是 K/N，且 1 ≤ K ≤ N，例如 2/4（收到的是 {value}）。",
        ),
        "batch_no_source": (
            "Not a folder or a zip file: {source}",
            "不是文件夹，也不是 zip 文件：{source}",
        ),
        "batch_unknown_assignment": (
            "the assignment could not be told from an empty folder",
            "无法从空文件夹判断是哪份作业",
        ),
        "batch_files": (
            " (it holds only: {files})",
            "（其中只有：{files}）",
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
        "batch_record_failed": (
            "Could not write {student}/{assignment} to the gradebook ({error}); it will be "
            "graded again by the next run.",
            "无法把 {student}/{assignment} 写入成绩册（{error}）；下次运行时会重新评分。",
        ),
        "batch_nothing_collected": (
            "✗ Nothing could be graded: no file of this submission could be read ({reasons}).",
            "✗ 没有可评分的内容：这份提交中没有任何文件可以读取（{reasons}）。",
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


@dataclass
class Job:
    student: str
    assignment: str
    folder: Path
    origins: list[str] = field(default_factory=list)  # where the files came from
    # what collecting found (renamed:, late, duplicate:, claims_other_student:, …): the one
    # way collect's findings reach the row's flags
    flags: list[str] = field(default_factory=list)
    empty: str = ""  # bilingual reason when nothing gradable was submitted
    status: str = "empty"  # the row's status when nothing was graded (empty, too_large)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(M.bilingual("batch_bad_shard", value=text)) from None
    if not 1 <= k <= n:
        raise ValueError(M.bilingual("batch_bad_shard", value=text))
    return k, n


def shard_of(student: str, n: int) -> int:
    """1-based shard of a student: stable across runs, machines and class lists."""
    return int(hashlib.sha1(student.encode()).hexdigest(), 16) % n + 1


def plan(collection: Collection, staging: Path, assignments: list[str] | None) -> list[Job]:
    """A job per (student, assignment); an empty folder's assignment is the only one in
    scope (``assignments``, or the only one submitted), if there is just one."""
    jobs: dict[tuple[str, str], Job] = {}
    for item in collection.submissions:
        job = jobs.setdefault((item.student, item.assignment),
                              Job(item.student, item.assignment, staging / item.student /
                                  item.assignment))
        job.origins.append(item.origin)
        job.flags += [flag for flag in item.flags if flag not in job.flags]
    in_scope = sorted(assignments or {a for _, a in jobs})
    for empty in collection.empty:
        assignment = empty.assignment or (in_scope[0] if len(in_scope) == 1 else "")
        if (empty.student, assignment) not in jobs:
            jobs[(empty.student, assignment)] = Job(
                empty.student, assignment, staging / empty.student / (assignment or "_"),
                [empty.origin], list(empty.flags), _empty_reason(empty, assignment),
                empty.status)
    return sorted(jobs.values(), key=lambda j: (j.assignment, j.student))


def _empty_reason(empty: Empty, assignment: str) -> str:
    """Why a student with nothing collected got nothing: what was there, and why each file
    that could have been their work was not read."""
    if empty.reasons:  # each reason: an English line, then a Chinese line
        english = " | ".join(r.split("\n")[0] for r in empty.reasons)
        chinese = " | ".join(r.split("\n")[-1] for r in empty.reasons)
        reason = "\n".join([M.en("batch_nothing_collected", reasons=english),
                            M.zh("batch_nothing_collected", reasons=chinese)])
    else:
        files = M.bilingual("batch_files", files=", ".join(empty.files[:5])) if empty.files \
            else ""
        reason = M.bilingual("intake_empty_submission", files=_one_line(files))
    if not assignment:
        reason += "\n" + M.bilingual("batch_unknown_assignment")
    return reason


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


# ---------------------------------------------------------------- the run


def _settings_digest(options: Options, db_url: str) -> str:
    seeds = getattr(options.hidden_seeds, "fingerprint", None)
    described = {
        "limits": asdict(options.limits),
        "by_notebook": {k: asdict(v) for k, v in sorted(options.limits_by_notebook.items())},
        "strict": options.strict_gradients,
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
    result = grade_submission(_as_grade_job(job), source, options)
    for book in result.notebooks:
        book.flags += [flag for flag in job.flags if flag not in book.flags]
    return result


def _as_grade_job(job: Job) -> SubmissionFolder:
    """The per-submission grader's view of a job: a folder of one student's notebooks."""
    return SubmissionFolder(job.student, job.assignment, job.folder)


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


def _staging(out: Path, shard: tuple[int, int] | None) -> Path:
    name = STAGING if shard is None else f"{STAGING}.shard-{shard[0]}-of-{shard[1]}"
    return out / name


def _fresh_staging(staging: Path) -> None:
    """Empty the staging folder of a previous run; refuse to touch a folder we did not make."""
    if staging.exists():
        if not (staging / MARKER).is_file():
            raise RuntimeError(M.bilingual("batch_not_ours", path=staging))
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    (staging / MARKER).write_text("copies made by `python -m grader grade`; safe to delete\n",
                                  encoding="utf-8")


def _exclusive(path: Path, out: Path):
    """One run per output folder (per shard) at a time: a second would empty our staging."""
    import fcntl

    handle = open(path, "w")  # closing it (the with block, or death) releases the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RuntimeError(M.bilingual("batch_busy", out=out)) from None
    return handle


def _suffix(name: str, shard: tuple[int, int] | None) -> str:
    if shard is None:
        return name
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.shard-{shard[0]}-of-{shard[1]}{dot}{ext}"


class Progress:
    """``[done/total] … ETA`` lines as results arrive, and a live bar on a terminal."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.quiet, self.done, self.started = total, quiet, 0, time.monotonic()
        self.bar = None
        # tqdm loops forever trimming a bar for a terminal that reports no width (a bare pty)
        # and counts wide characters wrongly: a fixed width, ASCII-only format
        columns = shutil.get_terminal_size(fallback=(0, 0)).columns
        if not quiet and total and sys.stderr.isatty() and columns >= 40:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, unit="nb", ncols=min(columns, 100),
                            bar_format="{n}/{total} |{bar}| {elapsed} < {remaining} ETA")

    def eta(self) -> str:
        if not self.done:
            return "?"
        left = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        minutes, seconds = divmod(round(left), 60)
        return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"

    def finished(self, result: SubmissionResult) -> None:
        self.done += 1
        if self.quiet:
            return
        line = f"{_line(result, self.done, self.total)}  ETA·剩余 {self.eta()}"
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
            self.bar.update(1)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def grade(source: Path, out: Path, *, options: Options | None = None,
          db_url: str | None = None, jobs: int | None = None,
          assignments: list[str] | None = None, quiet: bool = False,
          feedback: bool = True, shard: tuple[int, int] | None = None,
          force: bool = False, students: list[str] | None = None) -> list[SubmissionResult]:
    """Grade a class (see the module docstring); returns its rows, sorted.

    ``students`` limits the run to these ids (e.g. to regrade one with ``force``).
    """
    run = ClassRun(Path(source), Path(out), options or Options(), db_url=db_url, jobs=jobs,
                   quiet=quiet, feedback=feedback, shard=shard)
    with _exclusive(run.out / f".{run.staging.name}.lock", run.out):  # until this run ends
        mine = run.collect(assignments)
        run.prepare(mine)
        wanted = {safe_student_id(s) for s in students or ()}
        chosen = [job for job in mine if (not assignments or job.assignment in assignments
                                          or (job.empty and not job.assignment))
                  and (not wanted or job.student in wanted)]
        reused, todo = run.split(chosen, force)
        # the rest of the class keeps its current rows in the outputs, without grading
        keys = {(job.student, job.assignment) for job in chosen}
        reused += run.stored([job for job in mine if (job.student, job.assignment) not in keys])
        graded = run.grade_all(todo)
        results = sorted(reused + graded, key=lambda r: (r.assignment, r.student))
        run.report(results, graded)
    return results


class ClassRun:
    """The steps of one ``grade`` call, in the order the module docstring gives."""

    def __init__(self, source: Path, out: Path, options: Options, *, db_url: str | None,
                 jobs: int | None, quiet: bool, feedback: bool, shard: tuple[int, int] | None):
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
        self.db_url = db_url or f"sqlite:///{self.out / self.named('gradebook.db')}"
        self.staging = _staging(self.out, shard)
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
        """An output file's name; shards get their own (``grades.shard-1-of-4.csv``)."""
        return _suffix(name, self.shard)

    # 1. collect ---------------------------------------------------------------

    def collect(self, assignments: list[str] | None) -> list[Job]:
        _fresh_staging(self.staging)
        self.collection = collect(self.source, self.staging, self.options.solutions,
                                  self.options.max_notebook_mb)
        _write_collect_report(self.out / self.named("collect.json"), self.collection, self.source)
        unmapped = self.collection.unmapped
        if unmapped:
            self.say(M.bilingual("batch_unmapped", count=len(unmapped)))
            self.listing([f"{printable(item.origin, 120)}: {printable(_one_line(item.reason))}"
                          for item in unmapped])
        told = {item.reason for item in unmapped}
        notes = [note for note in self.collection.notes if note not in told]
        if notes:
            self.say(M.bilingual("batch_collect_notes"))
            self.listing([printable(_one_line(note)) for note in notes])
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
        self.settings = _settings_digest(options, self.db_url)

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
            writer = gradebook.Writer(self.db_url)
            for source in self.sources.values():
                writer.add_assignment(source)
        except Exception as exc:  # unreachable server, wrong password, not a database
            raise RuntimeError(M.bilingual("batch_gradebook", url=_hide_password(self.db_url),
                                           error=_first_line(exc))) from None
        return writer

    def grade_all(self, todo: list[tuple[Job, str]]) -> list[SubmissionResult]:
        """Grade in parallel; record each result as it finishes (see :meth:`finished`)."""
        if not todo:
            return []
        self.open_book().close()  # fail before any grading if the gradebook cannot be opened
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
            import multiprocessing

            context = multiprocessing.get_context("fork" if sys.platform != "win32" else None)
            with ProcessPoolExecutor(max_workers=self.jobs, mp_context=context) as pool:
                futures = {pool.submit(_run_one, item): item[0] for item in work}
                # opened only after the worker processes exist: they never share its connection
                book = self.open_book()
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
        from grader.record import feedback as fb
        from grader.record import gradebook

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
                                            error=_first_line(exc)), lines=True),
                      file=sys.stderr, flush=True)
            if self.feedback:
                fb.write_feedback(self.out, result, source)
                gradebook.write_autograded(self.out, result, job.folder, source)
        if recorded:
            self.store.save(result, print_)

    # 4. report ------------------------------------------------------------------

    def report(self, results: list[SubmissionResult], graded: list[SubmissionResult]) -> None:
        from grader.record.summary import render

        out = self.out
        write_csv(out / self.named("grades.csv"), results, self.sources)
        write_report(out / self.named("report.json"), results, self.mode, graded=len(graded),
                     reused=len(results) - len(graded))
        text = render(results)
        (out / self.named("summary.txt")).write_text(text, encoding="utf-8",
                                                     errors="backslashreplace")
        self.say(text)
        flagged = [r for r in results if any(not f.startswith(INFO_FLAGS) for f in r.flags)]
        if flagged:
            self.say(M.bilingual("grade_flagged", count=len(flagged)))
            for r in flagged:
                self.say(f"  {printable(r.student, 64):<16} {printable(r.assignment, 64):<16} "
                         f"{printable(', '.join(r.flags), 500)}")
        if self.mode != "bwrap":
            warn_unsandboxed(self.options)  # again, under the table, where it will be read
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


# ---------------------------------------------------------------- outputs


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def _line(result: SubmissionResult, done: int, total: int) -> str:
    """One progress line; every part a student could have chosen is made printable."""
    flags = printable(", ".join(result.flags), 500)
    return (f"[{done}/{total}] {printable(result.student, 64):<16} "
            f"{printable(result.assignment, 64):<16} "
            f"{_num(result.score):>5} / {_num(result.max_score):<5} {printable(result.status, 32)}"
            + (f"  flags: {flags}" if flags else ""))


def cell_columns(sources: dict[str, AssignmentSource]) -> list[str]:
    columns: list[str] = []
    for source in sources.values():
        for book in source.notebooks:
            for test in book.tests:
                if test.grade_id not in columns:
                    columns.append(test.grade_id)
    return columns


def _text_cell(value: str) -> str:
    """Student-chosen text (ids, file names in flags and reasons) never runs as a spreadsheet
    formula: a leading = + - @ is escaped the way spreadsheets expect (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _reason(result: SubmissionResult) -> str:
    messages = [nb.message for nb in result.notebooks if nb.message]
    return " | ".join(_one_line(m) for m in messages)[:1000]


def write_csv(path: Path, results: list[SubmissionResult],
              sources: dict[str, AssignmentSource]) -> None:
    """A row per submission: totals, status, flags, the reason, then one column per exercise."""
    columns = cell_columns(sources)
    # backslashreplace: a stray undecodable byte never stops the file (it is shown as \udcff)
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "score", "max_score", "status", "flags",
                         "percent", "reason", *columns])
        for result in results:
            scores = {c.grade_id: c.score for nb in result.notebooks for c in nb.cells}
            percent = 100 * result.score / result.max_score if result.max_score else 0.0
            writer.writerow([_text_cell(result.student), result.assignment, _num(result.score),
                             _num(result.max_score), result.status,
                             _text_cell(";".join(result.flags)), f"{percent:.1f}",
                             _text_cell(_reason(result)),
                             *[_num(scores[c]) if c in scores else "" for c in columns]])


def write_report(path: Path, results: list[SubmissionResult], mode: str,
                 graded: int = 0, reused: int = 0) -> None:
    """Everything, for the instructor (may name hidden seeds): not for students."""
    data = {"sandbox": mode, "graded": graded, "reused": reused, "submissions": [
        {"student": r.student, "assignment": r.assignment, "score": r.score,
         "max_score": r.max_score, "status": r.status, "flags": r.flags,
         "notebooks": [asdict(nb) for nb in r.notebooks]} for r in results]}
    _write_json(path, data)


def _write_collect_report(path: Path, collection: Collection, source: Path) -> None:
    data = {
        "source": str(source),
        "collected": [{"student": s.student, "assignment": s.assignment, "notebook": s.notebook,
                       "origin": s.origin, "renamed_from": s.renamed_from, "flags": s.flags}
                      for s in collection.submissions],
        "empty": [asdict(e) for e in collection.empty],
        "unmapped": [asdict(u) for u in collection.unmapped],
        "notes": collection.notes,
    }
    _write_json(path, data)


def _write_json(path: Path, data: object) -> None:
    """Readable JSON (Chinese as itself); a lone surrogate, which UTF-8 cannot hold, is written
    as its JSON escape, so the file is always valid JSON and always written."""
    text = json.dumps(data, indent=1, ensure_ascii=False)
    path.write_bytes(text.encode("utf-8", errors="backslashreplace"))


# ------------------------------------------------------------------------ CLI


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grader grade",
        description="Trusted, sandboxed grading of a class · 可信的沙箱评分. SOURCE is nbgrader's "
                    "submitted/ folder (<student>/<assignment>/*.ipynb), a folder of student "
                    "folders, or an LMS zip (Canvas, Moodle).",
    )
    p.add_argument("source", type=Path, metavar="SOURCE")
    p.add_argument("--out", type=Path, required=True,
                   help="output folder: grades.csv, summary.txt, feedback/, gradebook.db, "
                        "report.json, results/")
    p.add_argument("--solutions", type=Path, default=SOLUTIONS,
                   help="the instructor's notebooks (default: solutions/)")
    p.add_argument("--db-url", help="gradebook database URL (default: sqlite in --out); "
                                    "postgresql://user:pass@host/db for several machines")
    p.add_argument("--assignment", action="append", help="grade only this assignment")
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel workers (default: cores)")
    p.add_argument("--shard", help="K/N: grade only the K-th of N disjoint parts of the class")
    p.add_argument("--force", action="store_true",
                   help="grade again even submissions whose stored result is up to date")
    p.add_argument("--student", action="append",
                   help="grade only this student (repeatable); with --force, regrade them")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                   help="auto: bubblewrap when it works, else resource limits only (reported)")
    p.add_argument("--config", type=Path, default=None,
                   help="limits per assignment or notebook (default: grading.toml)")
    p.add_argument("--secret-file", type=Path, default=None,
                   help="course secret for per-student hidden inputs (default: "
                        "$NNFS_COURSE_SECRET, $NNFS_COURSE_SECRET_FILE or "
                        "~/.config/nnfs-grader/course-secret, created on first use)")
    p.add_argument("--fixed-seeds", action="store_true",
                   help="hidden tests use the solutions' seeds for everyone (as nbgrader does)")
    p.add_argument("--load-timeout", type=float, default=None)
    p.add_argument("--cell-timeout", type=float, default=None)
    p.add_argument("--notebook-timeout", type=float, default=None)
    p.add_argument("--memory-mb", type=int, default=None)
    p.add_argument("--processes", type=int, default=None)
    p.add_argument("--max-notebook-mb", type=float, default=MAX_NOTEBOOK_MB)
    p.add_argument("--quiet", "-q", action="store_true")
    p.epilog = ("Exit status: 0 when every submission was graded (whatever its score), 1 when "
                "the grader itself failed on some (status error; see report.json), 2 when "
                "nothing could start (bad arguments, source or gradebook).")
    return p


def main(argv: list[str]) -> int:
    from grader.record.config import ConfigError, load_limits
    from grader.record.seeds import SecretError, StudentSeeds, course_secret

    args = parser().parse_args(argv)
    try:
        shard = parse_shard(args.shard)
        limits, by_notebook = load_limits(args.config, {
            "load_seconds": args.load_timeout, "cell_seconds": args.cell_timeout,
            "notebook_seconds": args.notebook_timeout,
            "memory_mb": args.memory_mb, "processes": args.processes})
        seeds = None if args.fixed_seeds else StudentSeeds(course_secret(args.secret_file))
        options = Options(solutions=args.solutions, limits=limits, sandbox=args.sandbox,
                          limits_by_notebook=by_notebook, hidden_seeds=seeds,
                          max_notebook_mb=args.max_notebook_mb)
        results = grade(args.source, args.out, options=options, db_url=args.db_url,
                        jobs=args.jobs, assignments=args.assignment, quiet=args.quiet,
                        shard=shard, force=args.force, students=args.student)
    except (ValueError, RuntimeError, ConfigError, SecretError) as exc:
        print(printable(str(exc), 1000, lines=True), file=sys.stderr)
        return 2
    # 1 tells a scheduler that some rows are the grader's failure, not the student's
    return 1 if any(_grader_failed(r) for r in results) else 0


def _grader_failed(result: SubmissionResult) -> bool:
    return result.status == "error" or "gradebook_failed" in result.flags
