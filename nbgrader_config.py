# nbgrader configuration for this course · 本课程的 nbgrader 配置
# Paths are relative to the repository root; `python -m grader` passes absolute
# ones when it works in a grading folder of its own.
import os

c = get_config()  # noqa: F821 - provided by nbgrader

here = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()

# The grading folder: grading/, or the OUT of a class run (`make lab-instructor
# GRADING=grading/fall26` sets NNFS_GRADING), whose gradebook.db and autograded/ Formgrader
# then opens to grade the written answers by hand.
grading = os.environ.get("NNFS_GRADING") or "grading"

c.CourseDirectory.root = here
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.submitted_directory = os.path.join(grading, "submitted")
c.CourseDirectory.autograded_directory = os.path.join(grading, "autograded")
c.CourseDirectory.feedback_directory = os.path.join(grading, "feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, grading, "gradebook.db")

# What students see where they write code (both languages).
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE · 在这里写你的代码\nraise NotImplementedError()"
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE · 在这里写你的答案"

# A warning on stderr from a correct answer must not cost the cell its points:
# nbgrader scores a test cell 0 when anything reaches stderr, so drop stderr
# chunks that are Python warnings. Exceptions are error outputs, not stderr, and
# still fail the cell.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"Warning"

# A student who deletes or edits a test cell gets the instructor's version back.
c.OverwriteCells.add_missing_cells = True

# Long training is shortened when NBGRADER_EXECUTION is set; this is the ceiling.
c.Execute.timeout = 300
