# The student's JupyterLab (`make lab`) · 学生的 JupyterLab
# This folder is JUPYTER_CONFIG_DIR while the student's lab runs (see grader/course/lab.py).
# Students see nbgrader's Validate button and the assignment list; the instructor's tools
# (Formgrader, Create Assignment, the course list) are off, so no gradebook is written.
import os

c = get_config()  # noqa: F821 - provided by Jupyter
here = os.path.dirname(os.path.abspath(__file__))

# nbgrader's server extensions: Validate and the assignment list only.
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.validate_assignment": True,
    "nbgrader.server_extensions.assignment_list": True,
}
# Notebooks open without an "unsaved changes" mark (the kernel's Python version is filled in).
c.ServerApp.contents_manager_class = "grader.course.lab.ContentsManager"
# No news feed, no update check, and JupyterLab's settings defaults from settings/overrides.json.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.app_settings_dir = os.path.join(here, "settings")
# No language-server search: it runs `npm prefix -g`, which writes logs into the home folder,
# and the course installs no language server.
c.LanguageServerManager.autodetect = False
