"""The students' and the instructor's JupyterLab, tested in a real browser · 在真实浏览器中测试 JupyterLab.

JupyterLab (with nbgrader's extensions, from this environment) is started the way ``make lab``
starts it (``grader.course.lab``: the committed configuration in ``lab/student/``, the student's
working copy made from the release) and served on 127.0.0.1 with a token; Debian's headless
Chromium, driven by Playwright, opens every notebook of the working copy the way a student does
and checks:

- the page raises no JavaScript error (console errors and uncaught exceptions; the few benign
  ones are listed in ``BENIGN`` with the reason);
- markdown renders (every markdown cell), math renders (MathJax output, no TeX error boxes);
- a notebook just opened shows no unsaved change once its kernel is up (and, as a control, a
  notebook with the old, incomplete kernel metadata does);
- no question about Jupyter news on first start;
- "Run All Cells" on a filled-in notebook (the perfect sample) runs every cell without an
  error or stderr output, every figure appears as an image, progress-bar widgets render;
- on the notebook as handed out, the first check says "not written yet" in both languages;
- nbgrader's *Validate* button passes a filled-in notebook and, for a wrong answer, shows the
  bilingual failure message (which "Run All" shows too);
- the Nbgrader menu offers the Assignment List and none of the instructor's tools (Formgrader,
  Create Assignment, the course list), whose server side is off too, and no gradebook is
  written; the Assignment List lists the course when nbgrader_config.py configures an exchange
  (``c.Exchange.root``), and says plainly that there is none when not;
- the instructor's lab (``make lab-instructor``, ``lab/instructor/``) offers Formgrader, which
  lists the course's assignments, and Create Assignment.

Everything runs in a scratch folder: the working copy, a copy of ``lab/`` (the test fails if
JupyterLab wrote into it), the state JupyterLab writes, and ``HOME`` (the test fails if a lab
wrote Jupyter or IPython files there). The samples go to ``samples/`` in the working copy.
Notebooks are opened with File > Open from Path in one JupyterLab tab, as a student would.

Screenshots go to ``artifacts/screenshots/`` (git-ignored; ``NNFS_ARTIFACTS`` moves them).
The repository is never written to.

Needs Chromium (Debian: ``apt-get install chromium``; or set ``NNFS_CHROMIUM``) and the
``playwright`` Python package; never ``playwright install``, which downloads browsers. Without
them the tests skip and say why; with ``NNFS_REQUIRE_BROWSER=1`` (CI) they fail instead.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from grader import notebooks
from grader.course.build import run_nbgrader_steps
from grader.course.lab import (
    LAB_CONFIG,
    lab_command,
    lab_environment,
    prepare_instructor,
    prepare_work,
)
from grader.course.samples import samples_for
from grader.paths import COURSE, REPO, SOLUTIONS

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("NNFS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("NNFS_ARTIFACTS", REPO / "artifacts")) / "screenshots"
ASSIGNMENTS = sorted(p.parent.name for p in COURSE.glob("*/*.ipynb"))
VALIDATE_ON = "01_perceptron"  # Validate runs the whole notebook again: one assignment is enough
RUN_TIMEOUT_S = 240  # Run All on one notebook (the slowest allow 60 s on a laptop)

# Browser messages that are not the course's fault, each with the reason it is harmless.
BENIGN: list[tuple[re.Pattern, str]] = [
    (re.compile(r"Failed to load resource: the server responded with a status of 404 .*favicon"),
     "browsers ask for /favicon.ico; JupyterLab serves its own icon elsewhere"),
    (re.compile(r"is taking too long to activate|took \d+(\.\d+)?ms to activate"),
     "JupyterLab's start-up timing notice (a warning, listed in case a build logs it as error)"),
    (re.compile(r"^Could not restore the debugger state: Canceled future for debug_request message"),
     "the debugger panel asks a kernel that is still starting for its state; the test closes the "
     "notebook (and the kernel) before the answer comes, which cancels the request"),
]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("the playwright package is not installed (pip install playwright==1.65.2; "
                "do not run `playwright install`: the test uses Debian's chromium)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set NNFS_CHROMIUM)"
    return None


_reason = _missing()
if _reason:
    if os.environ.get("NNFS_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser test required but {_reason}")
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

# --- the lab server ------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_settings(folder: Path) -> None:
    """User settings of the test only: every cell in the page. (No news question is the lab's
    own configuration, lab/*/settings/overrides.json, and is tested as such.)"""
    settings = {
        # JupyterLab draws only the cells near the viewport by default; "none" puts every cell
        # in the page so that the test can read all of them. Each cell renders the same way.
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    }
    for plugin, values in settings.items():
        package, name = plugin.rsplit("/", 1)
        path = folder / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class Lab:
    """JupyterLab on loopback, started like ``make lab`` (``role="student"``) or ``make
    lab-instructor``: ``grader.course.lab``'s environment and command, with the configuration
    copied from ``lab/`` and everything it writes inside ``root``; the server runs in ``root``,
    which holds nbgrader's configuration ``nbgrader_config.py`` (as the repository does)."""

    def __init__(self, root: Path, notebooks: Path, role: str = "student"):
        self.root, self.notebooks, self.role = root, notebooks, role
        config = (root / "nbgrader_config.py").read_text(encoding="utf-8")
        self.exchange = bool(re.search(r"^c\.Exchange\.root\s*=", config, re.MULTILINE))
        self.config = root / "lab-config"
        self.home = root / "home"
        self.state = root / ".lab"
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        shutil.copytree(LAB_CONFIG, self.config, dirs_exist_ok=True)
        self.config_before = _tree(self.config)
        self.home.mkdir(exist_ok=True)
        base = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        base["HOME"] = str(self.home)
        env = lab_environment(self.role, state=self.state, policy=self.root, base=base,
                              config=self.config)
        _lab_settings(self.state / self.role / "settings")
        command = lab_command(self.notebooks, port=self.port, token=self.token, open_browser=False,
                              extra=["--ip=127.0.0.1"])
        self.log = open(self.root / "server.log", "w", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("JupyterLab did not start:\n" + self.server_log()) from None
                time.sleep(0.5)

    def url(self, path: str) -> str:
        return f"{self.base}/{path}?token={self.token}"

    def status(self, path: str) -> int:
        """The HTTP status of a GET (200, 404, ...)."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for session in self.api("GET", "api/sessions"):
            self.api("DELETE", f"api/sessions/{session['id']}")

    def server_log(self) -> str:
        try:
            return (self.root / "server.log").read_text(encoding="utf-8")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:  # the server and the kernels it started share one process group: ours
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.log.close()
        self.process = None

    def written_outside(self) -> list[str]:
        """What the lab wrote where it must not: its configuration folder, or Jupyter/IPython
        files in HOME (font caches of matplotlib and fontconfig are not the lab's)."""
        problems = [f"lab configuration changed: {name}" for name in
                    sorted(set(_tree(self.config).items()) ^ set(self.config_before.items()))]
        for path in sorted(self.home.rglob("*")):
            rel = path.relative_to(self.home).as_posix()
            if path.is_file() and not rel.startswith((".cache/", ".config/matplotlib/")):
                problems.append(f"written to HOME: {rel}")
        return problems


def _notebook_name(assignment: str) -> str:
    return sorted((COURSE / assignment).glob("*.ipynb"))[0].name


@pytest.fixture(scope="module", autouse=True)
def _fresh_screenshots():
    for old in ARTIFACTS.glob("*.png"):  # screenshots of this run only
        old.unlink()


OLD_METADATA = "samples/old_metadata"  # the control: kernel metadata as committed before
HALF_DONE = "samples/half_done"  # every other solution cell answered, the rest as handed out


def _half_done(assignment: str):
    """The perfect sample with every other solution cell put back to the release's stub."""
    samples = {s.student: s for s in samples_for(assignment)}
    nb = nbformat.from_dict(samples["perfect"].notebook)
    stubs = {notebooks.grade_id(c): c.source for c in samples["blank"].notebook.cells
             if notebooks.is_solution_cell(c)}
    solutions = [c for c in nb.cells if notebooks.is_solution_cell(c)]
    for cell in solutions[1::2]:
        cell.source = stubs[notebooks.grade_id(cell)]
    return nb


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The student's lab on a working copy made as ``make lab`` makes it, plus filled-in (perfect)
    and partly-wrong samples in ``samples/``."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    work = root / "work"
    prepare_work(work)  # what `make lab` does first
    for assignment in ASSIGNMENTS:
        for sample in samples_for(assignment):
            if sample.student in ("perfect", "partly_wrong"):
                path = work / "samples" / sample.student / assignment / sample.notebook_name
                notebooks.write_clean(sample.notebook, path)
    half = _half_done(VALIDATE_ON)
    notebooks.write_clean(half, work / HALF_DONE / VALIDATE_ON / _notebook_name(VALIDATE_ON))
    old = notebooks.read(work / VALIDATE_ON / _notebook_name(VALIDATE_ON))
    old.metadata["language_info"] = {"name": "python"}
    path = work / OLD_METADATA / _notebook_name(VALIDATE_ON)
    path.parent.mkdir(parents=True)
    path.write_text(nbformat.writes(old), encoding="utf-8")
    server = Lab(root, work)
    if server.exchange:  # put the course in the exchange, as an instructor would
        shutil.copytree(COURSE, root / "course", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        run_nbgrader_steps([["release_assignment", a, "--force"] for a in ASSIGNMENTS], cwd=root)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def instructor_lab(tmp_path_factory):
    """The instructor's lab on a copy of the nbgrader course root (the repository's solutions/,
    course/ and nbgrader_config.py), so that Formgrader's gradebook lands in the copy."""
    root = tmp_path_factory.mktemp("instructor")
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    for folder in (SOLUTIONS, COURSE):
        shutil.copytree(folder, root / folder.name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    prepare_instructor(root)  # what `make lab-instructor` does first
    server = Lab(root, root, role="instructor")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """One browser profile for the module: JupyterLab's scripts come from its cache after the first tab."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        yield context
        context.close()
        chromium.close()


class App:
    """One browser tab with JupyterLab loaded once; tests open and close notebooks in it, as a
    student does (a page load costs seconds on a busy machine)."""

    def __init__(self, tab: Page, lab: Lab):
        self.tab, self.lab = tab, lab
        self.problems: list[str] = []
        tab.set_default_timeout(60_000)
        tab.on("console", self._on_console)
        tab.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        self.load()

    def _on_console(self, message) -> None:
        if message.type == "error" and not any(p.search(message.text) for p, _ in BENIGN):
            self.problems.append(f"console error: {message.text}")

    def load(self) -> None:
        """(Re)load JupyterLab in a fresh workspace (``reset``: no tabs restored from before)."""
        self.tab.goto(self.lab.url("lab") + "&reset")
        self.tab.wait_for_selector(".lm-MenuBar-itemLabel:text-is('File')", timeout=90_000)

    def close_all(self) -> None:
        """Close every tab, discarding changes (the files are scratch copies)."""
        page = self.tab
        page.keyboard.press("Escape")
        for _ in range(3):
            if page.locator(".jp-Dialog").count():
                buttons = page.locator(".jp-Dialog .jp-Dialog-button", has_text=re.compile("^(Ok|Cancel)$"))
                buttons.first.click()
        _menu(page, "File", "Close All Tabs")
        for _ in range(20):  # one "Save your work" question per changed notebook
            discard = page.locator(".jp-Dialog .jp-Dialog-button", has_text=re.compile("^Discard$"))
            try:
                discard.first.wait_for(timeout=1500)
            except Exception:
                break
            discard.first.click()
        expect(page.locator(".jp-NotebookPanel")).to_have_count(0, timeout=10_000)


@pytest.fixture(scope="module")
def app(browser, lab):
    tab = browser.new_page()
    yield App(tab, lab)
    tab.close()


@pytest.fixture
def page(app, lab):
    """The JupyterLab tab; fails the test on any JavaScript error that is not listed in BENIGN."""
    seen = len(app.problems)
    yield app.tab
    try:
        app.close_all()
    except Exception:  # a test left the page in a state we cannot undo: start afresh
        app.load()
    lab.shut_down_kernels()
    problems = app.problems[seen:]
    assert not problems, "JavaScript errors in JupyterLab:\n" + "\n".join(problems)


# --- driving JupyterLab ----------------------------------------------------------------------

# The notebook in the tab on show (JupyterLab keeps other tabs in the page, hidden).
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"


def _open(page: Page, lab: Lab, path: str, cells: int, kernel: bool = True) -> None:
    """File > Open from Path…; wait for every cell and, with ``kernel``, for the kernel to be idle."""
    _menu(page, "File", "Open from Path…")
    page.locator(".jp-Dialog input").fill(path)
    page.keyboard.press("Enter")
    tab = page.locator(f".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current[title*='Path: {path}']")
    expect(tab).to_have_count(1, timeout=60_000)
    expect(page.locator(f"{NOTEBOOK} .jp-Cell")).to_have_count(cells, timeout=90_000)
    if kernel:
        page.wait_for_selector("text=/Python 3 \\(ipykernel\\) \\| Idle/", timeout=90_000)


def _menu(page: Page, menu: str, item: str) -> None:
    """Open ``menu`` in the menu bar and click ``item``.

    A click on a menu-bar title toggles its menu, so a click that lands while an earlier menu
    is still closing (a busy machine) closes it instead of opening it: close whatever is open
    and try again, a few times, before giving up.
    """
    title = page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$"))
    entry = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))
    for _attempt in range(3):
        _close_menus(page)
        title.click()
        try:
            entry.wait_for(state="visible", timeout=20_000)
            break
        except PlaywrightTimeoutError:
            continue
    entry.click()


def _close_menus(page: Page) -> None:
    """Close any open menu and wait until it is gone."""
    if page.locator(".lm-Menu").count():
        page.keyboard.press("Escape")
        expect(page.locator(".lm-Menu")).to_have_count(0, timeout=10_000)


_PROMPTS = (  # per cell of the notebook on show: its prompt text for code cells, null otherwise
    "[...document.querySelectorAll('" + NOTEBOOK + " .jp-Cell')].map(c => c.classList.contains('jp-CodeCell')"
    " ? (c.querySelector('.jp-InputPrompt') || {}).textContent || '' : null)"
)


def _run_all(page: Page, until_cell: int | None = None, timeout_s: float = RUN_TIMEOUT_S) -> float:
    """Run All Cells; wait until every code cell (or cell ``until_cell``) ran and none is queued."""
    start = time.monotonic()
    _menu(page, "Run", "Run All Cells")
    condition = (
        f"() => {{ const p = {_PROMPTS}; if (p.some(t => t && t.includes('*'))) return false;"
        + (f" return /\\[\\d+\\]/.test(p[{until_cell}] || ''); }}" if until_cell is not None
           else " return p.every(t => t === null || /\\[\\d+\\]/.test(t)); }")
    )
    try:
        page.wait_for_function(condition, timeout=timeout_s * 1000, polling=500)
    except Exception as exc:
        _shot(page, "failure-run-all")
        prompts = page.evaluate(_PROMPTS)
        raise AssertionError(f"Run All did not finish in {timeout_s} s; prompts: {prompts}") from exc
    page.wait_for_selector("text=/Python 3 \\(ipykernel\\) \\| Idle/")
    return time.monotonic() - start


def _cell(page: Page, index: int):
    return page.locator(f"{NOTEBOOK} .jp-Cell").nth(index)


def _shot(target, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    target.screenshot(path=str(path))
    return path


def _validate(page: Page, timeout_s: float = RUN_TIMEOUT_S) -> str:
    """Press nbgrader's Validate button; return the text of the result dialog."""
    button = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button")
    expect(button).to_be_visible()
    button.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=timeout_s * 1000)
    expect(dialog).not_to_contain_text("Validating", timeout=timeout_s * 1000)
    return dialog.inner_text()


def _close_dialog(page: Page) -> None:
    page.locator(".jp-Dialog .jp-Dialog-button", has_text="Ok").first.click()


_STDERR = f"{NOTEBOOK} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
_CJK = re.compile(r"[\u4e00-\u9fff]")


# --- the tests -------------------------------------------------------------------------------

def test_there_are_course_notebooks():
    assert VALIDATE_ON in ASSIGNMENTS


INSTRUCTOR_TOOLS = ("Formgrader", "Formgrader (local)", "Course List", "Create assignment")


def _nbgrader_menu(page: Page) -> list[str]:
    """The visible items of the Nbgrader menu (left open)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()
    items = page.locator(".lm-Menu-item:not(.lm-mod-hidden) .lm-Menu-itemLabel")
    expect(items.first).to_be_visible()
    return [t.strip() for t in items.all_inner_texts() if t.strip()]


def test_student_lab_has_no_news_question(page, lab):
    page.wait_for_timeout(2000)  # the question would come as a toast right after start
    assert page.get_by_text("official Jupyter news").count() == 0
    assert lab.status("lab/api/news") in (200, 404)  # reachable or not, never asked for by the page


def test_student_lab_offers_the_assignment_list_and_no_instructor_tools(page, lab):
    items = _nbgrader_menu(page)
    _shot(page, "lab-nbgrader-menu")
    assert "Assignment List" in items, items
    assert not set(items) & set(INSTRUCTOR_TOOLS), items
    page.keyboard.press("Escape")
    # no Create Assignment sidebar, and the server side of the instructor's tools is off
    assert page.locator("#nbgrader-create_assignemnt").count() == 0  # nbgrader's id, misspelt
    assert page.locator(".lm-TabBar-tab[title*='Create Assignment']").count() == 0
    assert lab.status("formgrader") == 404
    assert lab.status("formgrader/api/assignments") == 404
    assert lab.status("formgraders") == 404  # the course list

    _menu(page, "Nbgrader", "Assignment List")
    panel = page.locator(".lm-DockPanel-widget:not(.lm-mod-hidden)", has_text="Released assignments")
    expect(panel).to_be_visible()
    page.wait_for_timeout(3000)  # the list asks the server for the exchange's contents
    _shot(page, "lab-assignment-list")
    if not lab.exchange:
        # The course ships no exchange (self-learners use Validate and `grader check`): the
        # panel is reachable and says so plainly instead of listing assignments.
        expect(panel).to_contain_text("exchange directory does not exist")
        return
    for assignment in ASSIGNMENTS:
        expect(panel).to_contain_text(assignment)


_DIRTY = ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current.jp-mod-dirty"


def _wait_until_settled(page: Page) -> None:
    """The kernel is up and has answered (JupyterLab writes its metadata then)."""
    page.wait_for_selector("text=/Python 3 \\(ipykernel\\) \\| Idle/", timeout=90_000)
    page.wait_for_timeout(2000)


def test_notebook_with_the_old_kernel_metadata_opens_with_an_unsaved_change(page, lab):
    """The control for the check below: it sees the dot where JupyterLab draws one."""
    name = _notebook_name(VALIDATE_ON)
    nb = notebooks.read(lab.notebooks / OLD_METADATA / name)
    _open(page, lab, f"{OLD_METADATA}/{name}", len(nb.cells), kernel=False)
    _wait_until_settled(page)
    expect(page.locator(_DIRTY)).to_have_count(1)


def _renders_its_markdown_and_math_and_opens_clean(page: Page, nb, assignment: str) -> None:
    """The notebook on show (just opened, kernel starting): every markdown cell rendered, the
    bilingual title a heading, every formula typeset by MathJax; and once the kernel is up, no
    unsaved-change dot (JupyterLab writes its kernel metadata then; the notebook holds it)."""
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    expect(page.locator(f"{NOTEBOOK} .jp-MarkdownCell .jp-RenderedMarkdown")).to_have_count(len(markdown))
    title = page.locator(f"{NOTEBOOK} .jp-RenderedMarkdown h1").first
    expect(title).to_contain_text("·")  # the bilingual title, rendered as a heading
    if any("$" in c.source for c in markdown):
        math = page.locator(f"{NOTEBOOK} .jp-RenderedMarkdown mjx-container")
        expect(math.first).to_be_attached(timeout=30_000)
        page.wait_for_timeout(1000)  # let MathJax finish the page
        assert page.locator(f"{NOTEBOOK} mjx-merror").count() == 0, "MathJax could not typeset some formula"
        raw = page.evaluate(
            f"[...document.querySelectorAll('{NOTEBOOK} .jp-RenderedMarkdown')].map(e => e.innerText)"
            ".filter(t => /\\$\\$|\\\\frac|\\\\mathbf/.test(t))"
        )
        assert not raw, f"math left as raw TeX: {raw[:2]}"
    _wait_until_settled(page)
    assert page.locator(_DIRTY).count() == 0, "the notebook shows an unsaved change after opening"
    _shot(page, f"{assignment}-opened")


def test_first_check_of_the_notebook_as_handed_out_asks_for_code(page, lab):
    """Run All on the blank notebook stops at the first check, which says in both languages that
    the code is missing (the same for every assignment: one is enough)."""
    assignment = VALIDATE_ON
    name = _notebook_name(assignment)
    nb = notebooks.read(lab.notebooks / assignment / name)
    _open(page, lab, f"{assignment}/{name}", len(nb.cells))
    first_test = next(i for i, c in enumerate(nb.cells) if notebooks.is_test_cell(c))
    _run_all(page, until_cell=first_test)
    output = _cell(page, first_test).locator(".jp-OutputArea").inner_text()
    assert "NotImplementedError" in output and _CJK.search(output), output
    _cell(page, first_test).scroll_into_view_if_needed()
    _shot(page, f"{assignment}-first-check")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_filled_in_notebook_renders_runs_every_cell_shows_its_figures_and_validates(page, lab, assignment):
    """The reference answers typed into the notebook as handed out: it opens as the handed-out
    one does (its markdown and metadata are the working copy's, checked here), then Run All."""
    name = _notebook_name(assignment)
    nb = notebooks.read(lab.notebooks / "samples" / "perfect" / assignment / name)
    handed_out = notebooks.read(lab.notebooks / assignment / name)
    assert nb.metadata == handed_out.metadata
    prose = [[c.source for c in book.cells if c.cell_type == "markdown"
              and not notebooks.is_solution_cell(c)] for book in (nb, handed_out)]
    assert prose[0] == prose[1]  # all but the written answers
    _open(page, lab, f"samples/perfect/{assignment}/{name}", len(nb.cells), kernel=False)
    _renders_its_markdown_and_math_and_opens_clean(page, nb, assignment)
    seconds = _run_all(page)
    print(f"{assignment}: Run All took {seconds:.1f} s in the browser")

    errors = page.locator(_STDERR)
    assert errors.count() == 0, "error or stderr output:\n" + "\n---\n".join(errors.all_inner_texts())[:4000]

    figures = [i for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and re.search(r"plt\.show\(\)|\.show\(\)\s*$", c.source, re.M)]
    for index in figures:
        images = _cell(page, index).locator(".jp-OutputArea-output img")
        expect(images.first).to_be_visible()
        widths = images.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert all(w > 0 for w in widths), f"cell {index}: an image did not load"
    if figures:
        first = _cell(page, figures[0]).locator(".jp-OutputArea-output img").first
        first.scroll_into_view_if_needed()
        _shot(page, f"{assignment}-figure")

    widgets = page.locator(f"{NOTEBOOK} .jp-OutputArea-output .jupyter-widgets")
    if any("tqdm" in c.source for c in nb.cells if c.cell_type == "code"):
        assert widgets.count() > 0, "tqdm is used but no progress-bar widget was drawn"
        bar = page.locator(f"{NOTEBOOK} .jp-OutputArea-output .widget-hprogress").first
        expect(bar).to_be_visible()
        bar.scroll_into_view_if_needed()
        _shot(page, f"{assignment}-progress-bar")
    body = page.locator(NOTEBOOK).inner_text()
    assert "Error displaying widget" not in body and "Loading widget..." not in body

    if assignment == VALIDATE_ON:  # nbgrader's Validate runs it all again: one assignment is enough
        text = _validate(page)
        _shot(page, f"{assignment}-validate-passed")
        assert "Success! Your notebook passes all the tests." in text, text
        _close_dialog(page)


def test_wrong_answer_shows_the_bilingual_message(page, lab):
    samples = {s.student: s for s in samples_for(VALIDATE_ON)}
    wrong = samples["partly_wrong"]
    name = wrong.notebook_name
    nb = wrong.notebook
    _open(page, lab, f"samples/partly_wrong/{VALIDATE_ON}/{name}", len(nb.cells))

    failing = [i for i, c in enumerate(nb.cells) if notebooks.grade_id(c) in wrong.fails]
    assert failing, "the sample names no failing test cell"
    _run_all(page, until_cell=failing[0])
    output = _cell(page, failing[0]).locator(".jp-OutputArea").inner_text()
    assert "CheckFailure" in output or "✗" in output, output
    assert re.search(r"Exercise \d", output) and re.search(r"练习 ?\d", output), output
    _cell(page, failing[0]).scroll_into_view_if_needed()
    _shot(page, f"{VALIDATE_ON}-wrong-answer")

    text = _validate(page)
    _shot(page, f"{VALIDATE_ON}-validate-failed")
    assert "Success!" not in text, text
    assert re.search(r"Exercise \d", text) and re.search(r"练习 ?\d", text), text
    _close_dialog(page)


def test_validate_on_a_half_done_notebook_counts_names_and_wraps(page, lab):
    """nbgrader's dialog repeats "The following cell failed:" once per failing cell and has no
    count at the top (README says so, and points to `grader check`); what we control, the
    failure text, starts with this kernel's count and the exercise, and no line is clipped."""
    name = _notebook_name(VALIDATE_ON)
    nb = notebooks.read(lab.notebooks / HALF_DONE / VALIDATE_ON / name)
    _open(page, lab, f"{HALF_DONE}/{VALIDATE_ON}/{name}", len(nb.cells))
    text = _validate(page)
    _shot(page, f"{VALIDATE_ON}-validate-half-done")
    failed = text.count("The following cell failed:")
    assert failed >= 3, text
    errors = page.locator(".jp-Dialog .validation-failed .jp-RenderedText pre")
    # [source, error, source, error, …]; nbgrader also lists a written answer left empty
    # ("You did not provide a response."): the checks' own failures are the others
    outputs = [errors.nth(2 * i + 1).inner_text().splitlines() for i in range(failed)]
    checks = [lines for lines in outputs if lines and lines[0].startswith("CheckFailure")]
    assert all("did not provide a response" in " ".join(lines)
               for lines in outputs if lines not in checks), outputs
    assert len(checks) >= 3, outputs
    first_error = checks[0]
    assert re.match(r"CheckFailure · checks in this kernel so far: \d+ passed, 1 failed",
                    first_error[0]), first_error[:3]
    assert "本内核到目前为止的检查" in first_error[1]
    assert re.match(r"✗ Exercise 1\.\d", first_error[2])
    assert any(line.startswith("✗ 练习 1.") for line in first_error[3:6]), first_error[:6]
    last_error = checks[-1]
    assert f", {len(checks)} failed" in last_error[0], last_error[0]  # the count grows cell by cell
    clipped = page.evaluate("""() => [...document.querySelectorAll('.jp-Dialog pre')]
        .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.innerText.slice(0, 80))""")
    assert not clipped, clipped
    _close_dialog(page)


def test_student_lab_wrote_no_gradebook_and_nothing_outside_its_folders(lab):
    """Run last of the student's tests: after everything above, no gradebook anywhere in the
    lab's folders, nothing in its configuration or in HOME."""
    gradebooks = [p for p in lab.root.rglob("gradebook.db")]
    assert not gradebooks, gradebooks
    assert not lab.written_outside(), lab.written_outside()


# --- the class report and a feedback page, as a browser shows them -------------------------------

def test_the_class_report_and_a_feedback_page_read_well(browser, tmp_path):
    """The pages of a graded class (report.html, a student's feedback with a figure) render
    without a horizontal scroll bar; screenshots in artifacts/."""
    sys.path.insert(0, str(REPO / "tests"))
    from test_outputs import CLASS, NAMES, SOURCES, _png

    from grader.record.feedback import render as feedback_page
    from grader.record.report_page import write_report_page

    report = write_report_page(tmp_path / "report.html", CLASS, NAMES)
    feedback = tmp_path / "feedback.html"
    feedback.write_text(feedback_page(CLASS[1], 0, SOURCES["01_perceptron"],
                                      ([("My decision boundary", _png())], 0)), encoding="utf-8")
    tab = browser.new_page()
    try:
        for path, name in ((report, "class-report"), (feedback, "feedback-page")):
            tab.goto(path.as_uri())
            if name == "class-report":  # its charts are inline SVG, drawn with their bars
                expect(tab.locator("svg").first).to_be_visible()
                drawn = tab.locator("svg").evaluate_all(
                    "svgs => svgs.every(s => s.getBoundingClientRect().width > 200"
                    " && s.querySelectorAll('rect').length > 0)")
            else:
                expect(tab.locator("img").first).to_be_visible()
                drawn = tab.locator("img").evaluate_all("imgs => imgs.every(i => i.naturalWidth > 0)")
            assert drawn, name
            wide = tab.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
            assert not wide, f"{name} scrolls sideways"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        tab.close()


# --- the instructor's lab ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def instructor_page(browser, instructor_lab):
    tab = browser.new_page()
    app = App(tab, instructor_lab)
    yield tab
    tab.close()
    assert not app.problems, "JavaScript errors in JupyterLab:\n" + "\n".join(app.problems)


def test_instructor_lab_offers_formgrader_and_create_assignment(instructor_page, instructor_lab):
    page = instructor_page
    items = _nbgrader_menu(page)
    _shot(page, "lab-instructor-nbgrader-menu")
    assert {"Assignment List", "Formgrader", "Create assignment"} <= set(items), items
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Formgrader$")).first.click()
    frame = page.frame_locator("#formgrader-iframe iframe")  # Formgrader: a page in an iframe
    for assignment in ASSIGNMENTS:
        expect(frame.get_by_text(assignment, exact=True).first).to_be_visible(timeout=60_000)
    _shot(page, "lab-instructor-formgrader")
    assert page.locator("#nbgrader-create_assignemnt").count() == 1  # the sidebar is there
    assert instructor_lab.status("formgrader") == 200
    assert not instructor_lab.written_outside(), instructor_lab.written_outside()
