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
