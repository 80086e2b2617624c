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


# `make test` runs the suite on every core (pytest-xdist, `--dist loadgroup`). Each test file
# runs whole on one worker, so its module fixtures (a graded class, a started server) run
# once; the files that share the session's nbgrader run go together. Workers take files in
# the order below, the longest first, so that no long file starts last and holds up the end
# (a scheduling hint measured from CI's --durations; correctness never depends on it).
SHARED = {"test_demo.py": "nbgrader", "test_grade_nbgrader.py": "nbgrader"}
LONGEST_FIRST = ["nbgrader", "test_variants.py", "test_browser.py", "test_notebooks.py",
                 "test_release.py", "test_grade_hostile.py", "test_grade_class.py",
                 "test_grade_postgres.py", "test_slurm.py", "test_training.py"]


def _group(item) -> str:
    return SHARED.get(item.path.name, item.path.name)


def pytest_collection_modifyitems(config, items):
    if not hasattr(config, "workerinput"):  # not an xdist worker: the usual order
        return
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
    rank = {group: i for i, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_group(item), len(rank)))  # stable: files keep their order


@pytest.fixture(scope="session")
def nbgrader_graded(tmp_path_factory):
    """Every sample of every assignment, autograded once by nbgrader itself (slow).

    Returns (course root, samples, {(student, assignment): (score, max_score)}); the root
    holds nbgrader's gradebook, autograded notebooks, feedback and grades.csv. Shared by
    the demo test and the trusted-versus-nbgrader test so nbgrader runs only once.
    """
    from grader.course.demo import autograde_all, gradebook_scores, prepare_course_root
    from grader.course.samples import write_submissions
    from grader.paths import assignments

    root = tmp_path_factory.mktemp("nbgrader")
    ids = assignments()
    prepare_course_root(root)
    samples = write_submissions(root / "submitted", ids)
    autograde_all(root, ids)
    return root, samples, gradebook_scores(root)
