"""``make lab``: the student's working copy and the labs' configuration (no browser here;
tests/test_browser.py drives both labs in Chromium)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader import notebooks
from grader.course import lab
from grader.course.build import release_files
from grader.course.generated import MANIFEST, digest
from grader.paths import COURSE, REPO, SOLUTIONS

RELEASE = sorted(p.relative_to(COURSE).as_posix() for p in COURSE.glob("*/*.ipynb"))
FIRST = RELEASE[0]  # 01_perceptron/perceptron.ipynb


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".nnfs-work.json"}


def _answer(path: Path, text: str = "# my answer\nx = 42\n") -> None:
    nb = notebooks.read(path)
    next(c for c in nb.cells if notebooks.is_solution_cell(c)).source = text
    path.write_text(nbformat.writes(nb), encoding="utf-8")


# --- the working copy ------------------------------------------------------------------------------

def test_working_copy_is_the_release_and_is_never_overwritten(tmp_path, capsys):
    work = tmp_path / "work"
    lab.prepare_work(work)
    assert _files(work) == {rel: (COURSE / rel).read_bytes() for rel in RELEASE}
    out = capsys.readouterr().out
    assert "Created your working copy" in out and "已由发布版创建你的工作副本" in out

    _answer(work / FIRST)
    (work / "01_perceptron" / "notes.txt").write_text("mine")
    mine = _files(work)
    assert lab.prepare_work(work) == []  # second start: nothing written
    assert _files(work) == mine
    out = capsys.readouterr().out
    assert "left exactly as they are" in out and "保持原样" in out


def test_an_assignment_new_in_the_release_is_added_and_the_rest_left_alone(tmp_path, capsys):
    work = tmp_path / "work"
    lab.prepare_work(work)
    _answer(work / FIRST)
    shutil.rmtree(work / "06_autoencoders")  # as if the release had just gained it
    capsys.readouterr()
    written = lab.prepare_work(work)
    assert [p.relative_to(work).parts[0] for p in written] == ["06_autoencoders"]
    assert "# my answer" in (work / FIRST).read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert "new in the release: 06_autoencoders" in out and "新增的作业：06_autoencoders" in out
    assert "5 assignment folder(s) already there" in out


def test_a_changed_release_is_mentioned_and_the_copy_left_as_it_is(tmp_path, capsys):
    work = tmp_path / "work"
    lab.prepare_work(work)
    record = json.loads((work / ".nnfs-work.json").read_text())
    assert record[FIRST] == digest((COURSE / FIRST).read_bytes())
    record[FIRST] = digest(b"an older release")
    (work / ".nnfs-work.json").write_text(json.dumps(record))
    before = _files(work)
    capsys.readouterr()
    lab.prepare_work(work)
    assert _files(work) == before
    out = capsys.readouterr().out
    assert "The release of 01_perceptron changed" in out and "有了更新" in out


@pytest.mark.parametrize("language", ["zh", "en"])
def test_one_language_working_copy(tmp_path, language):
    work = tmp_path / f"work-{language}"
    lab.prepare_work(work, language)
    other = "en" if language == "zh" else "zh"
    for rel in RELEASE:
        nb = notebooks.read(work / rel)
        assert nb.metadata["nnfs"]["language"] == language
        assert other not in {notebooks.language_tag(c) for c in nb.cells}
        assert [c for c in nb.cells if c.cell_type == "code"] == [
            c for c in notebooks.read(COURSE / rel).cells if c.cell_type == "code"]


def test_default_folders_are_git_ignored():
    assert lab.default_work_folder() == REPO / "work"
    assert lab.default_work_folder("zh") == REPO / "work-zh"
    ignored = (REPO / ".gitignore").read_text().split()
    for name in ("/work/", "/work-zh/", "/work-en/", "/.lab/", "/backups/"):
        assert name in ignored


def test_answers_written_in_course_before_move_into_the_working_copy(tmp_path, capsys):
    """A student who followed the old advice (fill in course/) keeps those answers; course/ and
    what other commands make from the release stay as they are."""
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    _answer(course / FIRST)
    theirs = (course / FIRST).read_bytes()
    work = tmp_path / "work"
    lab.prepare_work(work, course=course)
    assert (work / FIRST).read_bytes() == theirs
    assert (course / FIRST).read_bytes() == theirs
    out = capsys.readouterr().out
    assert "starts from your changed copy" in out and "改动过的版本" in out
    # the release itself is unchanged: built afresh for the changed assignment
    release, changed = release_files(course, SOLUTIONS, ["01_perceptron"])
    assert changed == [FIRST]
    assert release[FIRST] == (COURSE / FIRST).read_bytes()


@pytest.mark.parametrize("folder", ["course", "course/01_perceptron", "course-zh", "course-en",
                                    "solutions", "."])
def test_a_folder_a_command_regenerates_is_no_working_folder(folder, capsys):
    from grader.cli import main as cli_main

    with pytest.raises(ValueError) as refused:
        lab.check_work_folder(REPO / folder)
    message = str(refused.value)
    assert "Not a working folder" in message and "不能作为工作文件夹" in message
    assert cli_main(["lab", "--dir", str(REPO / folder)]) == 2
    assert "LANGUAGE=zh" in capsys.readouterr().err


# --- starting the labs -------------------------------------------------------------------------

def test_lab_environment_keeps_everything_it_writes_in_its_state_folder(tmp_path):
    env = lab.lab_environment("student", state=tmp_path, base={"HOME": "/home/someone", "PATH": "/bin"})
    assert env["JUPYTER_CONFIG_DIR"] == str(REPO / "lab" / "student")
    assert env["JUPYTER_CONFIG_PATH"] == str(REPO)  # nbgrader_config.py: Validate's policy
    for key in ("JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTER_RUNTIME_DIR",
                "JUPYTER_DATA_DIR", "IPYTHONDIR"):
        assert Path(env[key]).is_relative_to(tmp_path), key
    assert env["PATH"].split(os.pathsep)[-1] == "/bin"
    assert lab.lab_environment("instructor")["JUPYTER_CONFIG_DIR"] == str(REPO / "lab" / "instructor")
    with pytest.raises(ValueError):
        lab.lab_environment("teacher")


def test_lab_command_takes_port_token_and_folder(tmp_path):
    command = lab.lab_command(tmp_path, port=8899, token="t0k", open_browser=False)
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in command
    assert "--ServerApp.port=8899" in command and "--ServerApp.port_retries=0" in command
    assert "--IdentityProvider.token=t0k" in command and "--no-browser" in command
    assert not any(a.startswith("--ServerApp.port") for a in lab.lab_command(tmp_path))


def _make(*args: str, env: dict[str, str] | None = None) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(["make", "-n", "-o", ".venv/.installed", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, check=True).stdout


def test_make_lab_passes_language_port_folder_and_token():
    out = _make("lab", "LANGUAGE=zh", "PORT=8899", "DIR=/tmp/my work", "TOKEN=abc")
    assert '-m grader lab --language zh --port 8899 --dir "/tmp/my work" --token "abc"' in out
    assert "-m grader lab --instructor --port 9000" in _make("lab-instructor", "PORT=9000")


def test_make_lab_ignores_the_locale_variable_language():
    """GNU gettext's LANGUAGE (en_US:en) in the environment is not a course language."""
    env = dict(os.environ, LANGUAGE="en_US:en")
    out = _make("lab", env=env)
    assert "--language" not in out


def test_student_lab_configuration_switches_the_instructor_tools_off():
    page = json.loads((REPO / "lab/student/labconfig/page_config.json").read_text())
    assert set(page["disabledExtensions"]) == {
        "@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
        "@jupyter/nbgrader:course-list"}
    server = (REPO / "lab/student/jupyter_server_config.py").read_text()
    assert '"nbgrader.server_extensions.formgrader": False' in server
    assert '"nbgrader.server_extensions.course_list": False' in server
    assert not (REPO / "lab/instructor/labconfig").exists()
    for role in lab.ROLES:
        overrides = json.loads((REPO / f"lab/{role}/settings/overrides.json").read_text())
        assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
        assert (REPO / f"lab/{role}/migrated").is_file()  # Jupyter writes none into the folder


def test_contents_manager_fills_in_the_kernels_python_version_only(tmp_path):
    import sys

    nb = notebooks.read(COURSE / FIRST)
    notebooks.write_clean(nb, tmp_path / "clean.ipynb")
    other = notebooks.read(COURSE / FIRST)
    other.metadata["language_info"] = {"name": "python"}
    (tmp_path / "other.ipynb").write_text(nbformat.writes(other), encoding="utf-8")
    manager = lab.ContentsManager(root_dir=str(tmp_path))
    model = asyncio.run(manager.get("clean.ipynb"))
    assert model["content"]["metadata"]["language_info"] == dict(
        notebooks.LANGUAGE_INFO, version=sys.version.split()[0])
    assert asyncio.run(manager.get("other.ipynb"))["content"]["metadata"]["language_info"] == {
        "name": "python"}
    assert asyncio.run(manager.get("clean.ipynb", content=False))["content"] is None
    assert (tmp_path / "clean.ipynb").read_text(encoding="utf-8") == notebooks.dumps_clean(nb)


def test_course_has_a_manifest():
    assert (COURSE / MANIFEST).is_file()


@pytest.mark.parametrize("grading, where", [(None, REPO / "grading"), ("/srv/fall26", Path("/srv/fall26"))])
def test_formgrader_opens_the_grading_folder_it_is_given(grading, where):
    """`make lab-instructor GRADING=OUT`: nbgrader (so Formgrader) reads the gradebook and the
    graded notebooks of a class run's OUT, to grade its written answers by hand."""
    env = {k: v for k, v in os.environ.items() if k != "NNFS_GRADING"}
    if grading:
        env["NNFS_GRADING"] = grading
    probe = ("from nbgrader.apps.nbgraderapp import NbGraderApp\n"
             "from nbgrader.coursedir import CourseDirectory\n"
             "app = NbGraderApp(); app.load_config_file()\n"
             "c = CourseDirectory(config=app.config)\n"
             "print(c.db_url); print(c.format_path(c.autograded_directory, 'ann', '01_perceptron'))")
    found = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, text=True,
                           capture_output=True, check=True).stdout.split()
    assert found == [f"sqlite:///{where / 'gradebook.db'}",
                     str(where / "autograded" / "ann" / "01_perceptron")]


def test_make_lab_instructor_passes_the_grading_folder():
    out = _make("lab-instructor", "GRADING=grading/fall26", "PORT=9")
    assert '-m grader lab --instructor --port 9 --grading "grading/fall26"' in out
