"""Scores into nbgrader's gradebook · 把分数写入 nbgrader 成绩册.

The trusted grader writes the same rows nbgrader's own ``generate_assignment``
(assignment, notebooks, grade and solution cells) and ``autograde`` (student,
submission, one auto score per grade cell) would, through ``nbgrader.api``, so
``formgrader``, ``generate_feedback`` and ``export`` keep working; the notebook those
show is written by :mod:`grader.record.autograded`.

Any database nbgrader accepts works (``sqlite:///...`` by default,
``postgresql://...`` for a class graded by several machines).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from grader.record.results import NotebookResult, SubmissionResult
    from grader.record.source import AssignmentSource

__all__ = ["Writer", "put_back", "recorded_totals", "recorded_submissions", "with_driver"]

# pg_advisory_lock key (any 64-bit number every grader agrees on): "nnfsgb" in ASCII
_LOCK_KEY = 0x6E6E_6673_6762
_ATTEMPTS = 5  # record() tries; a race resolves on the second


def open_gradebook(db_url: str):
    """``nbgrader.api.Gradebook(db_url)``, which makes the database when it is new, with the
    schema revision it stamps a new one with read in this process.

    nbgrader finds that revision by running its environment's ``alembic heads`` in a
    subprocess each time it makes a gradebook: three seconds, a sixth of a small class's run
    and the price of every test that grades into a fresh folder. The revision is the head of
    the same migration scripts, read with alembic's own ``ScriptDirectory``
    (tests/test_gradebook.py compares the two)."""
    from unittest import mock

    import nbgrader.api

    with _OPENING, mock.patch.object(nbgrader.api, "get_alembic_version", schema_revision):
        return nbgrader.api.Gradebook(db_url)


_OPENING = threading.Lock()  # the patch is process-wide: one open at a time while it holds


@functools.cache
def schema_revision() -> str:
    """The newest revision of nbgrader's gradebook schema (what ``alembic heads`` prints)."""
    import nbgrader
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic")).get_current_head()


class Writer:
    """One gradebook connection; ``record`` is idempotent (a re-run updates the same rows).

    Several processes, on several machines, may open one PostgreSQL gradebook at once
    (``--shard K/N``). nbgrader's ``update_or_create_*`` are find-then-insert, so two
    of them racing on the same row make one fail with a unique-key violation, and two
    first opens both try to create the tables. So on PostgreSQL, opening (schema
    creation) and ``add_assignment`` (the same rows from every shard) run one at a time
    under an advisory lock, and ``record`` retries after a rollback.
    """

    def __init__(self, db_url: str, session_timeout: float | None = None):
        """``session_timeout`` (seconds, PostgreSQL): the server ends a connection of ours
        that sits inside a transaction for longer, so a worker stopped mid-write (SIGSTOP, a
        frozen node) cannot hold gradebook rows for ever (grader.record.claiming)."""
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        url = make_url(db_url)
        db_url = with_driver(db_url)
        self._lock_engine = None
        if url.get_backend_name() == "postgresql":
            # the lock lives on its own connection: nbgrader's session uses pooled
            # connections of its own, and commits in between must not release it
            self._lock_engine = create_engine(db_url, poolclass=NullPool,
                                              isolation_level="AUTOCOMMIT")
        with self._serialised():
            self.gradebook = open_gradebook(db_url)
            _create_answer_table(self.gradebook)
        self._session_timeout = session_timeout
        if self._lock_engine is not None and session_timeout:
            from sqlalchemy import event

            milliseconds = max(1000, int(session_timeout * 1000))

            def _limit(connection, _record) -> None:
                with contextlib.closing(connection.cursor()) as cursor:
                    cursor.execute(f"SET idle_in_transaction_session_timeout = {milliseconds}")
                connection.commit()

            event.listen(self.gradebook.engine, "connect", _limit)
            self.gradebook.db.close()
            self.gradebook.engine.dispose()  # the connections opened so far had no limit

    def close(self) -> None:
        self.gradebook.close()
        if self._lock_engine is not None:
            self._lock_engine.dispose()

    @contextlib.contextmanager
    def _serialised(self):
        """Hold the gradebook-wide advisory lock (PostgreSQL); nothing for sqlite.

        sqlite serialises writers itself (one file, one writer), and the sqlite
        gradebook is one machine's anyway.
        """
        if self._lock_engine is None:
            yield
            return
        from sqlalchemy import text

        # a session-level lock, released by the unlock or, if this process dies, by
        # the server when the connection drops: a killed shard never blocks the rest
        with self._lock_engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})

    def add_assignment(self, source: AssignmentSource) -> None:
        with self._serialised():
            self._add_assignment(source)

    def _add_assignment(self, source: AssignmentSource) -> None:
        gb = self.gradebook
        gb.update_or_create_assignment(source.name)
        for book in source.notebooks:
            name = Path(book.name).stem
            gb.update_or_create_notebook(name, source.name)
            for cell in book.cells:
                if cell["grade"]:
                    gb.update_or_create_grade_cell(
                        cell["grade_id"], name, source.name, max_score=cell["points"],
                        cell_type=cell["cell_type"])
                if cell["solution"]:
                    gb.update_or_create_solution_cell(cell["grade_id"], name, source.name)
                if cell["grade"] and not cell["solution"]:
                    gb.update_or_create_source_cell(
                        cell["grade_id"], name, source.name, cell_type=cell["cell_type"],
                        locked=True, source=cell["source"])

    def record(self, result: SubmissionResult, source: AssignmentSource) -> None:
        from nbgrader.api import InvalidEntry
        from sqlalchemy.exc import DBAPIError

        for attempt in range(_ATTEMPTS):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # SQLAlchemy autoflush notes from nbgrader.api
                    self._record(result, source)
                return
            # A row another process inserted between our find and our insert (nbgrader
            # turns the IntegrityError into InvalidEntry), a deadlock, or sqlite's
            # "database is locked": roll back, and the next find sees the other row.
            except (InvalidEntry, DBAPIError) as exc:
                self.gradebook.db.rollback()
                lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
                # with a session timeout (claiming) a connection the server ended means this
                # worker was stopped mid-write: its claim may be another's now, so no retry
                if attempt == _ATTEMPTS - 1 or (lost and self._session_timeout):
                    raise
                time.sleep(0.05 * 2 ** attempt)

    def _record(self, result: SubmissionResult, source: AssignmentSource) -> None:
        gb = self.gradebook
        if source.error:
            return
        gb.update_or_create_student(result.student)
        kwargs = {}
        if result.timestamp:
            with contextlib.suppress(Exception):
                from nbgrader.utils import parse_utc

                parse_utc(result.timestamp)
                kwargs["timestamp"] = result.timestamp
        submission = gb.update_or_create_submission(result.assignment, result.student, **kwargs)
        for nb_result in result.notebooks:
            name = Path(nb_result.notebook).stem
            for cell in nb_result.cells:
                try:
                    grade = gb.find_grade(cell.grade_id, name, result.assignment, result.student)
                except Exception:  # a cell the gradebook does not know (should not happen)
                    continue
                changed = grade.auto_score is not None and grade.auto_score != cell.score
                grade.auto_score = cell.score
                if grade.manual_score is None:
                    grade.needs_manual_grade = False
                elif changed:  # an override of the instructor's, given to another submission:
                    grade.needs_manual_grade = True  # kept, and listed for review again
                if grade.manual_score is not None and grade.needs_manual_grade:
                    _flag(nb_result, f"autograde_changed:{cell.grade_id}")
            self._manual_cells(result, nb_result, source)
            for notebook in submission.notebooks:
                if notebook.name == name:
                    notebook.flagged = bool(nb_result.flags)
        gb.db.commit()

    def _manual_cells(self, result: SubmissionResult, nb_result: NotebookResult,
                      source: AssignmentSource) -> None:
        """Answers graded by hand (nbgrader's manually graded answer cells) reach formgrader
        as nbgrader's own autograde leaves them: an answer waits for a grade, an answer left
        blank scores 0 and waits for nothing, their points stay apart from the autograded
        total, and a grade an instructor already gave is kept (reviewed again if the answer
        changed since)."""
        name = Path(nb_result.notebook).stem
        book = next((b for b in source.notebooks if Path(b.name).stem == name), None)
        answers = {a.grade_id: a for a in nb_result.written}
        for cell in book.cells if book is not None else []:
            if not (cell["grade"] and cell["solution"]):
                continue
            try:
                grade = self.gradebook.find_grade(cell["grade_id"], name, result.assignment,
                                                  result.student)
            except Exception:  # a cell the gradebook does not know (should not happen)
                continue
            answer = answers.get(cell["grade_id"])
            before = self._answer_seen(result, name, cell["grade_id"], answer)
            if grade.manual_score is not None:
                # graded by hand already: kept; but if the answer is not the text that was
                # graded (a resubmission; or no text on record, a gradebook from before the
                # fingerprints), formgrader lists it for review again, as nbgrader's own
                # autograde does on every regrade; the row says so until it is reviewed
                if answer is not None and answer.digest and answer.digest != before:
                    grade.needs_manual_grade = True
                if grade.needs_manual_grade:
                    _flag(nb_result, f"answer_changed:{cell['grade_id']}")
                continue
            blank = answer is not None and not answer.answered  # unknown: let the instructor look
            grade.auto_score = 0.0 if blank else None
            grade.needs_manual_grade = not blank

    def _answer_seen(self, result: SubmissionResult, name: str, grade_id: str,
                     answer) -> str:
        """The fingerprint of the answer the gradebook last showed for this cell ("" if
        none), replaced by ``answer``'s."""
        from sqlalchemy import text

        key = {"student": result.student, "assignment": result.assignment,
               "notebook": name, "grade_id": grade_id}
        db = self.gradebook.db
        before = db.execute(text(f"SELECT digest FROM {_ANSWERS} WHERE student = :student AND "
                                 "assignment = :assignment AND notebook = :notebook AND "
                                 "grade_id = :grade_id"), key).scalar()
        if answer is not None and answer.digest:
            db.execute(text(f"INSERT INTO {_ANSWERS} (student, assignment, notebook, grade_id, "
                            "digest) VALUES (:student, :assignment, :notebook, :grade_id, "
                            ":digest) ON CONFLICT (student, assignment, notebook, grade_id) "
                            "DO UPDATE SET digest = excluded.digest"),
                       {**key, "digest": answer.digest})
        return before or ""


def _flag(nb_result: NotebookResult, flag: str) -> None:
    if flag not in nb_result.flags:  # once, however often a record is retried
        nb_result.flags.append(flag)


#: The project's one table in nbgrader's gradebook: which text of each written answer the
#: gradebook last showed, so that a grade given by hand to an older text is reviewed again.
#: nbgrader's own tables have no place for it, and its migrations leave other tables alone.
_ANSWERS = "nnfs_written_answer"


def _create_answer_table(gradebook) -> None:
    from sqlalchemy import text

    with gradebook.engine.begin() as conn:
        conn.execute(text(
            f"CREATE TABLE IF NOT EXISTS {_ANSWERS} (student VARCHAR(128) NOT NULL, "
            "assignment VARCHAR(128) NOT NULL, notebook VARCHAR(128) NOT NULL, "
            "grade_id VARCHAR(128) NOT NULL, digest VARCHAR(64) NOT NULL, "
            "PRIMARY KEY (student, assignment, notebook, grade_id))"))


def with_driver(db_url: str) -> str:
    """``db_url`` with the PostgreSQL driver this environment has: SQLAlchemy 2.1 reads a
    bare postgresql:// as psycopg 3; the project installs psycopg2."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg") is None:
        return url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    return db_url


def recorded_submissions(db_url: str) -> set[tuple[str, str]] | None:
    """{(student, assignment)} the gradebook holds, read with one query (nbgrader's own
    opening checks its schema with alembic, seconds a run); an empty set for a gradebook
    not made yet (an sqlite file that does not exist is not created); None if it cannot be
    read (the run says so when it opens the gradebook for real)."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and (not url.database
                                               or not Path(url.database).is_file()):
        return set()
    engine = create_engine(with_driver(db_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("submitted_assignment"):
                return set()  # an empty database: nbgrader makes its tables on opening
            rows = conn.execute(text(
                "SELECT s.student_id, a.name FROM submitted_assignment s "
                "JOIN assignment a ON a.id = s.assignment_id")).all()
        return {(student, assignment) for student, assignment in rows}
    except Exception:  # a server not reached, not a database: the real opening tells
        return None
    finally:
        engine.dispose()


def put_back(results: list[SubmissionResult], sources: dict[str, AssignmentSource],
             db_url: str, open_book) -> int:
    """Record the ``results`` (stored, not graded again) that the gradebook does not hold: a
    gradebook deleted, or a new --db-url. A run must leave every result it reports in the
    gradebook, or formgrader and the LMS export would miss them without a word. Returns how
    many; ``open_book`` opens the run's Writer (only when one is missing)."""
    if not results:
        return 0
    held = recorded_submissions(db_url)
    missing = [r for r in results if held is not None and r.assignment in sources
               and not sources[r.assignment].error and (r.student, r.assignment) not in held]
    if missing:
        book = open_book()
        try:
            for result in missing:
                book.record(result, sources[result.assignment])
        finally:
            book.close()
    return len(missing)


def recorded_totals(db_url: str, wanted: dict[tuple[str, str], list[tuple[str, str, float]]]
                    ) -> dict[tuple[str, str], tuple[float, int, float, int]]:
    """{(student, assignment): (score, written answers still waiting, their points, grades
    given by hand that wait for review)} as the gradebook formgrader writes has them, for
    each submission of ``wanted`` (its written answers as (notebook, answer cell, points))
    that the gradebook holds.

    The score is nbgrader's own sum over the submission's cells: the grade given by hand
    where there is one (a written answer, or an instructor's override of an autograded
    cell), the autograded score otherwise, each plus its extra credit; an answer still
    waiting counts 0. An answer left blank is 0 and waits for nothing (as nbgrader's
    autograde leaves it); an answer cell the gradebook does not have waits."""
    from nbgrader.api import MissingEntry

    found = {}
    with warnings.catch_warnings(), open_gradebook(with_driver(db_url)) as gb:
        warnings.simplefilter("ignore")
        for (student, assignment), cells in wanted.items():
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            score = float(submission.score or 0.0)
            review = sum(1 for nb in submission.notebooks for grade in nb.grades
                         if grade.manual_score is not None and grade.needs_manual_grade)
            waiting, points = 0, 0.0
            for notebook, grade_id, most in cells:
                try:
                    grade = gb.find_grade(grade_id, notebook, assignment, student)
                except MissingEntry:
                    waiting, points = waiting + 1, points + most
                    continue
                if grade.manual_score is None and grade.needs_manual_grade:
                    waiting, points = waiting + 1, points + most
            found[(student, assignment)] = (score, waiting, points, review)
    return found
