"""One worker of many grading a class from a shared gradebook · 多个评分进程共同评阅一个班级.

With a PostgreSQL ``--db-url`` (and no ``--shard``, or with one: then only the shard's
submissions), ``python -m grader grade`` does not grade a fixed share of the class: it
claims submissions from the pool (:mod:`grader.record.queue`) one at a time, as its
``--jobs`` processes free up, until none is left. Start it on as many machines as you
like, at any time, from a batch engine or by hand:

1. every worker collects the same SOURCE and computes every submission's fingerprint;
   it registers them (the first to register a key adds it; the rest find it there);
2. it claims, grades (in its process pool) and records each result in this order: lock
   the claim and check it is still ours, gradebook row, claim done with the result, then
   feedback and the local result file; it renews the leases of what it is grading;
3. when nothing is left to claim, a worker that writes the class's outputs (alone, the
   first task of an array, or a shard) waits until every claim of the class is done —
   taking over any whose lease runs out — then gathers every result from the gradebook
   (feedback for what others graded is written into its own ``--out``) and writes the
   class's files; any other task of an array leaves, with its own files
   (``grades.task-K-of-N.csv`` …) listing what it graded.

SIGTERM or Ctrl-C (``scancel``, a pre-empted pod) gives this worker's claims back to the
pool at once; SIGKILL, a crash or a frozen node gives them back when their lease runs out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from grader.checks import messages as M
from grader.record.plan import Job, Task
from grader.record.pool import grading_pool
from grader.record.progress import Progress
from grader.record.queue import MAX_ATTEMPTS, Claim, Key
from grader.record.results import NotebookResult, SubmissionResult
from grader.record.terminal import error_line, printable

if TYPE_CHECKING:  # pragma: no cover
    from grader.record.batch import ClassRun

__all__ = ["Stopped", "claim_class", "note_in_report", "open_queue", "place", "worker_name"]

M.register(
    {
        "claim_bad_lease": (
            "--lease is in seconds and at least 1 (got {value}).",
            "--lease 以秒为单位，至少为 1（收到的是 {value}）。",
        ),
        "claim_array_needs_postgres": (
            "This is task {index} of {count} of a {engine} array: the tasks of an array share "
            "one PostgreSQL gradebook (--db-url postgresql://…), or each grades its own part "
            "(--shard auto).",
            "这是 {engine} 数组中 {count} 个任务里的第 {index} 个：同一数组的任务要共用一个 "
            "PostgreSQL 成绩册（--db-url postgresql://…），或者各自评分自己的那一部分（--shard auto）。",
        ),
        "claim_worker": (
            "Worker {worker}: task {index} of {count} of a {engine} array ({told}).",
            "评分进程 {worker}：{engine} 数组中 {count} 个任务里的第 {index} 个（{told}）。",
        ),
        "claim_worker_alone": (
            "Worker {worker}: not started by a batch engine's array (Slurm, Kubernetes, AWS "
            "Batch).",
            "评分进程 {worker}：不是由批处理系统的数组（Slurm、Kubernetes、AWS Batch）启动的。",
        ),
        "claim_role_reporter": (
            "It claims submissions from the shared gradebook; when none is left, it waits for "
            "the other workers' and writes the class's files.",
            "它从共享成绩册中认领提交；没有可认领的提交后，它会等待其他进程完成，然后写出全班的文件。",
        ),
        "claim_role_worker": (
            "It claims submissions from the shared gradebook and leaves when none is left; "
            "task 1 writes the class's files.",
            "它从共享成绩册中认领提交，没有可认领的提交时退出；全班的文件由任务 1 写出。",
        ),
        "claim_pool": (
            "{open} of these {total} submissions are not graded yet; this worker claims them "
            "one at a time, next to any other worker (grading processes: {jobs}).",
            "这 {total} 份提交中有 {open} 份尚未评分；本进程逐份认领，可与其他评分进程同时进行"
            "（评分子进程：{jobs} 个）。",
        ),
        "claim_forced": (
            "--force: {count} submissions already graded are back in the pool.",
            "--force：{count} 份已评分的提交重新放回待评分队列。",
        ),
        "claim_waiting": (
            "Nothing left to claim; waiting for {held} submissions other workers are grading.",
            "已没有可认领的提交；正在等待其他评分进程完成其余 {held} 份。",
        ),
        "claim_taken_over": (
            "{student}/{assignment}: taken over from {worker}, whose lease ran out (attempt "
            "{attempt}).",
            "{student}/{assignment}：{worker} 的租约已过期，由本进程接手（第 {attempt} 次尝试）。",
        ),
        "claim_lost": (
            "{student}/{assignment}: this worker's lease ran out and another worker took the "
            "submission over; its result stands, this one is dropped.",
            "{student}/{assignment}：本进程的租约已过期，另一个评分进程接手了这份提交；"
            "以它的结果为准，本进程的结果被丢弃。",
        ),
        "claim_retry": (
            "{student}/{assignment}: the grading process stopped ({error}); the submission is "
            "back in the pool (attempt {attempt} of {most}).",
            "{student}/{assignment}：评分子进程停止了（{error}）；这份提交已放回待评分队列"
            "（第 {attempt} 次尝试，最多 {most} 次）。",
        ),
        "claim_gave_up": (
            "✗ The grader took this submission {count} times without recording a result "
            "(each time its worker died or stopped). Grade it again alone: "
            "--student {student} --force.",
            "✗ 评分程序已 {count} 次领取这份提交，但都没有记录结果（每次评分进程都中止或停止了）。"
            "请单独重新评分：--student {student} --force。",
        ),
        "claim_failed": (
            "✗ This submission could not be recorded in the gradebook; grade it again: "
            "--student {student} --force.",
            "✗ 这份提交无法写入成绩册；请重新评分：--student {student} --force。",
        ),
        "claim_done": (
            "Worker {worker} graded {graded} submissions; {taken} taken over from workers "
            "whose lease ran out; {lost} dropped because another worker had taken them over.",
            "评分进程 {worker} 评阅了 {graded} 份提交；其中 {taken} 份接手自租约已过期的进程；"
            "{lost} 份因已被其他进程接手而丢弃。",
        ),
        "claim_stopped": (
            "Stopped by {signal}: {count} submissions this worker was grading are back in the "
            "pool for the other workers.",
            "收到 {signal}，已停止：本进程正在评阅的 {count} 份提交已放回队列，由其他评分进程继续。",
        ),
    }
)


class Stopped(Exception):
    """SIGTERM (or SIGINT) reached a claiming worker: its claims went back to the pool."""

    def __init__(self, signum: int, returned: int = 0):
        super().__init__(signum)
        self.signum, self.returned = signum, returned

    def message(self) -> str:
        return M.bilingual("claim_stopped", signal=signal.Signals(self.signum).name,
                           count=self.returned)

    @property
    def status(self) -> int:
        return 128 + self.signum


def worker_name(task: Task | None) -> str:
    """``task-2-of-4@node07:41327``: the task (if any), the machine and the process."""
    host = socket.gethostname().split(".")[0] or "localhost"
    return f"{task.name if task else 'worker'}@{host}:{os.getpid()}"


def place(run: ClassRun, db_url: str | None, shard: tuple[int, int] | None,
          task: Task | None, lease: float | None) -> None:
    """Who this worker is among several, set on ``run``: its task, whether it writes the
    class's files (alone, a shard, or an array's first task), the tag its own files carry
    (``shard-1-of-4``, ``task-2-of-4``), the array's id, and the lease."""
    from grader.record.queue import LEASE_SECONDS, is_postgres

    if lease is not None and not lease >= 1:
        raise ValueError(M.bilingual("claim_bad_lease", value=lease))
    run.postgres = bool(db_url) and is_postgres(db_url)
    if task is not None and task.count > 1 and shard is None and not run.postgres:
        raise RuntimeError(M.bilingual("claim_array_needs_postgres", index=task.index,
                                       count=task.count, engine=task.engine))
    run.task, run.lease = task, lease or LEASE_SECONDS
    run.reports = shard is not None or task is None or task.first
    run.tag = (f"shard-{shard[0]}-of-{shard[1]}" if shard is not None
               else "" if run.reports else task.name)
    run.run_id = (task.run if task else "") or os.environ.get("NNFS_RUN_ID", "")
    run.queue = None  # grader.record.queue.Claims, opened by open_queue()
    run.worker = ""
    run.taken_over = run.lost = 0


def open_queue(run: ClassRun) -> str:
    """Connect ``run`` to the pool of claims (grader.record.queue); the gradebook's id."""
    from grader.record.batch import _hide_password
    from grader.record.queue import Claims

    run.worker = worker_name(run.task)
    try:
        run.queue = Claims(run.db_url, run.worker, run.lease)
        identity = run.queue.gradebook_id()
    except Exception as exc:  # unreachable server, wrong password, not a database
        raise RuntimeError(M.bilingual("batch_gradebook", url=_hide_password(run.db_url),
                                       error=error_line(exc))) from None
    introduce(run)
    return identity


def introduce(run: ClassRun) -> None:
    """Say which worker this is and where its index came from (also in report.json)."""
    task = run.task
    if task is not None:
        run.say(M.bilingual("claim_worker", worker=run.worker, index=task.index,
                            count=task.count, engine=task.engine, told=task.told))
    else:
        run.say(M.bilingual("claim_worker_alone", worker=run.worker))
    run.say(M.bilingual("claim_role_reporter" if run.reports else "claim_role_worker"))


def note_in_report(run: ClassRun) -> None:
    """``report.json`` says which worker wrote it, and where its index came from."""
    import json

    from grader.record.outputs import write_json

    path = run.out / run.named("report.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    task = run.task
    data["worker"] = {
        "name": run.worker, "writes_class_files": run.reports,
        "engine": task.engine if task else None, "index": task.index if task else None,
        "count": task.count if task else None, "from": task.told if task else None,
        "run": run.run_id or None, "lease_seconds": run.lease,
        "taken_over": run.taken_over, "dropped": run.lost,
    }
    write_json(path, data)


def _cost(run: ClassRun, job: Job) -> float:
    """A notebook's time budget: claiming the costliest first shortens the class's tail."""
    limits = run.options.limits_by_notebook.get(job.assignment) or run.options.limits
    return float(limits.notebook_seconds or 0)


def claim_class(run: ClassRun, chosen: list[Job], rest: list[Job], force: bool
                ) -> tuple[list[SubmissionResult], list[SubmissionResult]]:
    """(the rows of this worker's files, what it graded itself); see the module docstring.

    ``chosen`` is what this run may grade (``--student``, ``--assignment``, the shard);
    ``rest`` keeps its current rows in the class's files, as in a one-machine run.
    """
    from grader.record.batch import fingerprint

    queue = run.queue
    jobs: dict[Key, Job] = {
        (j.student, j.assignment, fingerprint(j, run.settings, run.options.solutions)): j
        for j in chosen}
    queue.register(list(jobs), [-int(_cost(run, job)) for job in jobs.values()])
    if force:
        count = queue.reset(run.run_id or None)
        if count:
            run.say(M.bilingual("claim_forced", count=count))
    pending = queue.pending()
    if pending.claimable or pending.held:
        run.say(M.bilingual("claim_pool", open=pending.claimable + pending.held,
                            total=len(jobs), jobs=run.jobs))
    graded = _Worker(run, jobs).work()
    run.say(M.bilingual("claim_done", worker=run.worker, graded=len(graded),
                        taken=run.taken_over, lost=run.lost))
    if not run.reports:
        return sorted(graded, key=lambda r: (r.assignment, r.student)), graded
    results = gather(run, jobs)
    if rest:
        results += gather(run, {(j.student, j.assignment,
                                 fingerprint(j, run.settings, run.options.solutions)): j
                                for j in rest})
    return sorted(results, key=lambda r: (r.assignment, r.student)), graded


def gather(run: ClassRun, jobs: dict[Key, Job]) -> list[SubmissionResult]:
    """Every result of these keys in the gradebook (the truth), with its feedback and local
    result file written into this worker's ``--out`` where they are missing or differ."""
    from grader.record import autograded

    found = []
    recorded = run.queue.results(list(jobs))
    for key, job in jobs.items():
        if key not in recorded:  # never graded (outside this run's keys): no row, as today
            continue
        result = recorded[key]
        if result is None:  # failed: told on its row
            result = _error_row(job, M.bilingual("claim_failed", student=job.student))
        elif run.store.load(job.student, job.assignment, key[2]) != result:
            source = run.sources.get(result.assignment)
            if source is not None and run.feedback:
                autograded.write_pages(run.out, result, job.folder, source)
            run.store.save(result, key[2])
        found.append(result)
    return found


def _error_row(job: Job, message: str) -> SubmissionResult:
    return SubmissionResult(job.student, job.assignment, [NotebookResult(
        job.student, job.assignment, "", status="error", message=message)])


class _Worker:
    """The claim loop: keep ``run.jobs`` claims in the process pool, renew their leases,
    record each result as it finishes."""

    def __init__(self, run: ClassRun, jobs: dict[Key, Job]):
        self.run, self.jobs, self.queue = run, jobs, run.queue
        self.in_flight: dict = {}  # future -> Claim
        self.graded: list[SubmissionResult] = []
        self.pool: ProcessPoolExecutor | None = None
        self.book = None
        self.progress: Progress | None = None
        self.parent = os.getpid()

    def work(self) -> list[SubmissionResult]:
        run, queue = self.run, self.queue
        pending = queue.pending()
        if not pending.claimable and not (pending.held and run.reports):
            return []
        run.open_book().close()  # fail before any claim if the gradebook cannot be opened
        run.started = time.monotonic()
        self.progress = Progress(pending.claimable + pending.held, run.quiet)
        previous = {}
        finished = False
        try:
            self.new_pool()
            for signum in (signal.SIGTERM, signal.SIGINT):  # after the fork: ours only
                previous[signum] = signal.signal(signum, self.stop)
            self.book = run.open_book()
            self.loop()
            finished = True
        except Stopped as stopped:
            stopped.returned = len(self.in_flight)
            raise
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            claims = list(self.in_flight.values())
            self.in_flight.clear()
            with contextlib.suppress(Exception):
                queue.release(claims)  # back to the pool now, not when the lease runs out
            self.progress.close()
            if self.book is not None:
                with contextlib.suppress(Exception):
                    self.book.close()
            self.shut_pool(kill=not finished)
        return self.graded

    def stop(self, signum, _frame) -> None:
        if os.getpid() == self.parent:
            raise Stopped(signum)

    def new_pool(self) -> None:
        """A fresh process pool; its processes are forked before our connection is reopened,
        so no process but this one ever holds it."""
        self.shut_pool()
        self.queue.close()
        self.pool = grading_pool(self.run.jobs)
        self.pool.submit(int).result()  # with fork, every process starts now
        self.queue.connect()

    def shut_pool(self, kill: bool = True) -> None:
        """Idle at the end of the class: joined. Stopped, or failed: a notebook still being
        graded is abandoned (its sandbox goes with its process)."""
        if self.pool is None:
            return
        if not kill:
            self.pool.shutdown(wait=True)
            self.pool = None
            return
        processes = list(getattr(self.pool, "_processes", {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=10)
        self.pool = None

    def loop(self) -> None:
        run, queue = self.run, self.queue
        renew_every = max(0.2, queue.lease / 4)
        renew_at = time.monotonic() + renew_every
        waiting_said = False
        while True:
            self.fill()
            if not self.in_flight:
                if not run.reports:
                    return
                pending = queue.pending()
                if pending.claimable:
                    continue
                if not pending.held:
                    return
                if not waiting_said:
                    run.say(M.bilingual("claim_waiting", held=pending.held))
                    waiting_said = True
                time.sleep(min(2.0, renew_every))
                continue
            done, _ = wait(list(self.in_flight), timeout=max(0.0, renew_at - time.monotonic()),
                           return_when=FIRST_COMPLETED)
            for future in done:
                claim = self.in_flight[future]
                job = self.jobs[claim.key]
                try:
                    result, died = future.result(), None
                except Exception as exc:  # the grading process died: not the submission's doing
                    from grader.record.batch import _worker_died

                    result, died = _worker_died(job, exc), exc
                self.record(claim, job, result, died)
                del self.in_flight[future]
            if time.monotonic() >= renew_at:
                queue.renew(list(self.in_flight.values()))
                renew_at = time.monotonic() + renew_every

    def fill(self) -> None:
        """Claim until every process of the pool has a submission, or none is left."""
        run = self.run
        while len(self.in_flight) < run.jobs:
            claim = self.queue.claim()
            if claim is None:
                return
            job = self.jobs[claim.key]
            if claim.previous:
                run.taken_over += 1
                run.say(printable(M.bilingual(
                    "claim_taken_over", student=job.student, assignment=job.assignment,
                    worker=claim.previous, attempt=claim.attempts), lines=True))
            if claim.attempts > MAX_ATTEMPTS:  # it killed every worker that took it
                self.record(claim, job, _error_row(job, M.bilingual(
                    "claim_gave_up", count=claim.attempts - 1, student=job.student)), None)
                continue
            from grader.record.batch import _run_one

            item = (job, run.sources.get(job.assignment), run.options)
            try:
                future = self.pool.submit(_run_one, item)
            except BrokenProcessPool:  # a grading process died and took the pool with it
                self.new_pool()
                future = self.pool.submit(_run_one, item)
            self.in_flight[future] = claim

    def record(self, claim: Claim, job: Job, result: SubmissionResult,
               died: BaseException | None) -> None:
        """The claim's result: recorded (gradebook, claim done, feedback, local file), given
        back (its process died: another attempt), or dropped (another worker took it)."""
        from grader.record import autograded

        run, queue = self.run, self.queue
        if died is not None and claim.attempts < MAX_ATTEMPTS:
            queue.release([claim], attempt_counts=True)
            run.say(printable(M.bilingual(
                "claim_retry", student=job.student, assignment=job.assignment,
                error=error_line(died), attempt=claim.attempts, most=MAX_ATTEMPTS), lines=True))
            return
        source = run.sources.get(result.assignment)
        try:
            with queue.completing(claim, result) as ours:
                if not ours:
                    run.lost += 1
                    run.say(printable(M.bilingual("claim_lost", student=job.student,
                                                  assignment=job.assignment), lines=True))
                    return
                if source is not None:
                    self.book.record(result, source)
        except Stopped:
            raise
        except Exception as exc:  # the gradebook refused the row: back to the pool, or out
            import sys

            if not queue.owns(claim):  # stopped mid-write, and taken over meanwhile
                run.lost += 1
                run.say(printable(M.bilingual("claim_lost", student=job.student,
                                              assignment=job.assignment), lines=True))
                return
            result.notebooks[0].flags.append("gradebook_failed")
            print(printable(M.bilingual("batch_record_failed", student=result.student,
                                        assignment=result.assignment,
                                        error=error_line(exc)), lines=True),
                  file=sys.stderr, flush=True)
            with contextlib.suppress(Exception):
                if claim.attempts >= MAX_ATTEMPTS:
                    queue.fail(claim)
                else:
                    queue.release([claim], attempt_counts=True)
            self.graded.append(result)
            return
        if source is not None and run.feedback:
            autograded.write_pages(run.out, result, job.folder, source)
        run.store.save(result, claim.key[2])
        self.graded.append(result)
        self.progress.finished(result)
