# The instructor's JupyterLab (`make lab-instructor`) · 教师的 JupyterLab
# This folder is JUPYTER_CONFIG_DIR while the instructor's lab runs (see grader/course/lab.py).
# Every nbgrader extension is on: Formgrader, Create Assignment, the course and assignment
# lists, Validate. Formgrader's gradebook is the one nbgrader_config.py names (grading/,
# ignored by git).
import os

c = get_config()  # noqa: F821 - provided by Jupyter
here = os.path.dirname(os.path.abspath(__file__))

c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": True,
    "nbgrader.server_extensions.course_list": True,
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
