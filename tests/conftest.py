import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

# In CI every system package is installed by .ci/run, so a test that skips for want of
# one (bubblewrap, chromium, postgresql) is a broken set-up, not a pass: fail it.
NO_SKIPS = os.environ.get("NNFS_NO_SKIPS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but NNFS_NO_SKIPS=1 (CI installs every dependency): {reason}"


# `make test` runs the suite on every core (pytest-xdist, `--dist loadfile`): each test file
# runs whole on one worker, so its module fixtures (a graded class, a started server) run
# once. (`--dist loadgroup` with xdist_group marks does not group anything under pytest 9:
# xdist renames `item._nodeid`, which pytest 9 no longer reads, and every big file's first
# two tests each paid its module fixture, four minutes twice for nbgrader's run.) Workers
# take files in the order below, the longest first, so that no long file starts last and
# holds up the end (a scheduling hint measured from CI's --durations; correctness never
# depends on it).
# test_grade_nbgrader.py reads the nbgrader run test_demo.py starts (nbgrader_graded): it
# goes after the other long files, so that no worker waits for that run with nothing to do.
LONGEST_FIRST = ["test_demo.py", "test_variants.py", "test_browser.py", "test_notebooks.py",
                 "test_release.py", "test_grade_hostile.py", "test_grade_class.py",
                 "test_grade_postgres.py", "test_slurm.py", "test_training.py",
                 "test_grade_nbgrader.py"]


def pytest_collection_modifyitems(config, items):
    if not hasattr(config, "workerinput"):  # not an xdist worker: the usual order
        return
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files keep their order


@pytest.fixture(scope="session")
def nbgrader_graded(tmp_path_factory):
    """Every sample of every assignment, autograded once by nbgrader itself (slow).

    Returns (course root, samples, {(student, assignment): (score, max_score)}); the root
    holds nbgrader's gradebook, autograded notebooks, feedback and grades.csv. Shared by
    the demo test and the trusted-versus-nbgrader test so nbgrader runs only once.
    """
    import fcntl

    from grader.course.demo import autograde_all, gradebook_scores, prepare_course_root
    from grader.course.samples import samples_for, write_submissions
    from grader.paths import assignments

    # test_demo.py and test_grade_nbgrader.py may run on two workers: the first to get here
    # runs nbgrader in a folder every worker of this session shares, the other waits and
    # reads the same run (a worker's basetemp is <session>/popen-gwN).
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root, done = shared / "nbgrader-graded", shared / "nbgrader-graded.done"
    ids = assignments()
    with open(shared / "nbgrader-graded.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held until the run is done (released on close)
        if not done.is_file():
            if root.exists():
                import shutil

                shutil.rmtree(root)  # a run that stopped half-way
            root.mkdir()
            prepare_course_root(root)
            write_submissions(root / "submitted", ids)
            autograde_all(root, ids)
            done.write_text("ok", encoding="utf-8")
    samples = [sample for ident in ids for sample in samples_for(ident)]
    return root, samples, gradebook_scores(root)
