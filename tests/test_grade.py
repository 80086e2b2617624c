"""The trusted grader's parts: wire, test-cell parser, sandbox, proxies, policy, outputs.

Fast tests (a few sandboxes); the hostile corpus is in test_grade_hostile.py and the
comparison with nbgrader's own autograde in test_grade_nbgrader.py.
"""

from __future__ import annotations

import csv
import os
import time

import nbformat
import numpy as np
import pytest

from grader import notebooks
from grader.checks.compare import Case, CheckFailure, Tolerance
from grader.checks.messages import Text
from grader.checks.policy import strict_gradients
from grader.course.samples import samples_for
from grader.paths import SOLUTIONS
from grader.record.batch import grade
from grader.record.evaluate import redact
from grader.record.notebook import Options
from grader.record.sandbox import Limits, Sandbox, SandboxError, bwrap_available
from grader.record.session import Remote, Session
from grader.record.testcells import NotDeclarative, parse_test_cell, visible_source
from grader.runtime import wire

needs_bwrap = pytest.mark.skipif(not bwrap_available()[0],
                                 reason="bubblewrap cannot run here: " + bwrap_available()[1])

# ------------------------------------------------------------------------- wire


def _roundtrip(value):
    encoder = wire.Encoder()
    data = encoder.encode(value)
    frame = wire.json.dumps(data)
    return wire.Decoder([bytearray(b) for b in encoder.buffers]).decode(wire.json.loads(frame))


def test_wire_plain_values_round_trip():
    value = {"a": (1, 2.5, None, True), "b": [np.arange(6.0).reshape(2, 3), np.float32(1.5)],
             3: {1, 2}, "c": complex(1, 2), "d": b"xy", "big": 2**80, "nan": float("nan")}
    back = _roundtrip(value)
    assert back["a"] == (1, 2.5, None, True)
    np.testing.assert_array_equal(back["b"][0], value["b"][0])
    assert back["b"][0].flags.writeable and back["b"][1].dtype == np.float32
    assert back[3] == {1, 2} and back["c"] == complex(1, 2) and back["d"] == b"xy"
    assert back["big"] == 2**80 and np.isnan(back["nan"])


def test_wire_keeps_zero_dimensional_arrays():
    assert _roundtrip(np.array(3.0)).shape == ()


@pytest.mark.parametrize("bad", [
    {"a": ["O", [1], 0, None]},  # object dtype
    {"a": ["<f8", [3], 0, None]},  # size does not match the buffer
    {"a": ["<f8", [-1], 0, None]},
    {"q": 1},  # unknown tag
    {"a": ["V8", [1], 0, None]},  # structured / void
    {"i": "9" * 5000},
])
def test_wire_rejects_what_is_not_plain_data(bad):
    with pytest.raises(wire.ProtocolError):
        wire.Decoder([bytearray(8)]).decode(bad)


def test_wire_refuses_to_send_other_objects():
    with pytest.raises(TypeError):
        wire.Encoder().encode(object())


# ------------------------------------------------------------------- test cells


def _cell(source: str, points=2):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_x",
                                 "points": points}
    return cell


def test_test_cell_is_parsed_with_hidden_calls_marked():
    cell = _cell('from grader import check_layer\n'
                 'check_layer("affine", f, b, seeds=[1], shapes=[(1, 2, 3)])\n'
                 '### BEGIN HIDDEN TESTS\n'
                 'grader.check("affine", f, b, seeds=[-2], shapes=[(4, 5, 6)], p=None)\n'
                 '### END HIDDEN TESTS\n')
    test = parse_test_cell(cell)
    assert [c.hidden for c in test.calls] == [False, True]
    assert test.calls[0].student_names() == ["f", "b"]
    assert test.calls[1].kwargs["seeds"].value == [-2]
    assert "BEGIN HIDDEN" not in test.visible and "seeds=[-2]" not in test.visible


@pytest.mark.parametrize("source", [
    "assert f(1) == 2",
    "check_layer('affine', f, b, seeds=[1], shapes=[(1, 2)])\nx = 1",
    "check_layer('affine', f(1), b, seeds=[1], shapes=[(1, 2)])",
    "check_layer(*args)",
    "import os\ncheck('affine', f)",
    "print_it('affine', f)",
    "check(f, 'affine')",
])
def test_free_form_test_cells_are_refused(source):
    with pytest.raises(NotDeclarative):
        parse_test_cell(_cell(source))


def test_every_instructor_test_cell_is_declarative():
    for path in sorted(SOLUTIONS.glob("*/*.ipynb")):
        for cell in notebooks.read(path).cells:
            if notebooks.is_test_cell(cell):
                parse_test_cell(cell)  # raises NotDeclarative with the reason


def test_visible_source_drops_hidden_block():
    text = "a()\n### BEGIN HIDDEN TESTS\nb()\n### END HIDDEN TESTS\nc()"
    assert visible_source(text) == "a()\nc()"


# ----------------------------------------------------------------------- policy


def _case():
    return Case("affine", Text("Exercise · affine", "练习 · 仿射"), seed=7,
                inputs={"x": np.zeros((2, 3))})


def test_policy_accepts_analytic_gradients_in_any_order():
    rng = np.random.default_rng(0)
    w, dout = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    expected = dout @ w.T
    looped = np.array([[sum(dout[n, m] * w[d, m] for m in range(4)) for d in range(3)]
                       for n in range(5)])
    strict_gradients(_case(), "dx", expected, looped, Tolerance())
    strict_gradients(_case(), "dx", expected, np.einsum("nm,dm->nd", dout, w), Tolerance())


def test_policy_rejects_central_differences():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((5, 4))
    h, fd = 1e-5, np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        fd[i] = np.sum(((plus @ w + b) - (minus @ w + b)) * dout) / (2 * h)
    assert np.allclose(fd, dout @ w.T, rtol=1e-6, atol=1e-8)  # the plain tolerance accepts it
    with pytest.raises(CheckFailure) as info:
        strict_gradients(_case(), "dx", dout @ w.T, fd, Tolerance())
    assert info.value.kind == "numerical" and "finite differences" in info.value.args[0]


def test_policy_leaves_values_and_own_tolerances_alone():
    noisy = np.ones(3) + 1e-9
    strict_gradients(_case(), "out", np.ones(3), noisy, Tolerance())
    strict_gradients(_case(), "dx", np.ones(3), noisy, Tolerance(rtol=1e-6, atol=1e-7))


# ------------------------------------------------------------------------ redact


def test_redact_keeps_header_and_hint_only():
    message = ("✗ Exercise 1 · affine: `dx` does not match\n✗ 练习 1 · 仿射:`dx` 不一致\n"
               "  Worst element at (0, 1): expected 0.5, got 0.7.\n"
               "  Likely mistake: the sign is flipped (you got exactly minus the expected value).\n"
               "  Reproduce with: seed=11, x.shape=(7, 5).")
    text = redact(message)
    assert "seed=11" not in text and "0.7" not in text and "(7, 5)" not in text
    assert "sign is flipped" in text and "hidden test" in text


# ---------------------------------------------------------------------- sandbox


@pytest.fixture
def session():
    sandbox = Sandbox(Limits(cell_seconds=10), mode="bwrap")
    sandbox.start()
    yield Session(sandbox)
    sandbox.close()


SOURCE = '''
import numpy as np

def fwd(x, w):
    return x @ w, (x, w)

def bwd(dout, cache):
    x, w = cache
    x *= 2  # a classic bug: changes the cached input in place
    return dout @ w.T, x.T @ dout

def todo(x):
    raise NotImplementedError()

class Oops(ValueError):
    pass

def broken(x):
    raise Oops("bad %s" % x)

def numgrad(f, x):
    return (f(x + 1e-3) - f(x - 1e-3)) / 2e-3

class Value:
    def __init__(self, data):
        self.data, self.grad = data, 0.0
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data)
    __radd__ = __add__
    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data)
    __rmul__ = __mul__
    def __neg__(self):
        return self * -1
    def __pow__(self, k):
        return Value(self.data ** k)
'''


@needs_bwrap
def test_proxies_behave_like_the_students_objects(session):
    report = session.load([{"source": SOURCE, "label": "sol"}, {"checkpoint": "t"}], {}, 60)
    assert report["cells"][0]["error"] is None
    fwd, bwd, todo, broken, numgrad, value = (
        session.resolve("t", n) for n in ("fwd", "bwd", "todo", "broken", "numgrad", "Value"))
    assert isinstance(fwd, Remote) and callable(fwd) and fwd.__name__ == "fwd"
    x, w = np.ones((2, 3)), np.arange(12.0).reshape(3, 4)
    out, cache = fwd(x, w)
    np.testing.assert_array_equal(out, x @ w)
    assert cache[0] is x and cache[1] is w  # the same arrays come back
    bwd(np.ones((2, 4)), cache)
    assert x[0, 0] == 2.0  # the in-place change reached the grader's array
    with pytest.raises(NotImplementedError):
        todo(1)
    with pytest.raises(ValueError) as info:
        broken(3)
    assert type(info.value).__name__ == "Oops" and "bad 3" in str(info.value)
    assert "raise Oops" in "".join(info.value.__notes__)
    assert numgrad(lambda v: v ** 3, 2.0) == pytest.approx(12.0, rel=1e-6)  # a callback
    a, b = value(1.5), value(-2.0)
    c = a * b + a ** 3 + 2.0 * a + (-b)
    assert isinstance(c, Remote) and c.data == pytest.approx(1.5 * -2 + 1.5**3 + 3 + 2)
    with pytest.raises(NameError):
        session.resolve("t", "missing")


@needs_bwrap
def test_sandbox_sees_no_solutions_no_network_and_a_read_only_system(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("answer")
    sandbox = Sandbox(Limits(), mode="bwrap")
    sandbox.start()
    try:
        s = Session(sandbox)
        s.load([{"source": "import os, socket\n"
                 "def probe(paths):\n"
                 "    out = {}\n"
                 "    for p in paths:\n"
                 "        try:\n"
                 "            open(p).read(); out[p] = 'read'\n"
                 "        except OSError as e:\n"
                 "            out[p] = type(e).__name__\n"
                 "    try:\n"
                 "        open('/usr/owned', 'w'); out['write'] = 'ok'\n"
                 "    except OSError as e:\n"
                 "        out['write'] = type(e).__name__\n"
                 "    try:\n"
                 "        socket.create_connection(('127.0.0.1', 22), timeout=1); out['net'] = 'ok'\n"
                 "    except OSError as e:\n"
                 "        out['net'] = type(e).__name__\n"
                 "    open('/tmp/scratch', 'w').write('x')\n"
                 "    out['uid'] = os.getuid()\n"
                 "    return out\n", "label": "sol"}, {"checkpoint": "t"}], {}, 60)
        seen = s.resolve("t", "probe")([str(secret), str(SOLUTIONS / "01_perceptron")])
    finally:
        sandbox.close()
    assert seen[str(secret)] != "read" and seen[str(SOLUTIONS / "01_perceptron")] != "read"
    assert seen["write"] != "ok" and seen["net"] != "ok" and seen["uid"] != 0
    assert any(f.startswith("file:") for f in s.flags)


@needs_bwrap
def test_a_timeout_kills_the_sandbox_not_the_grader(session):
    session.load([{"source": "def spin():\n    while True:\n        pass\n", "label": "s"},
                  {"checkpoint": "t"}], {}, 60)
    spin = session.resolve("t", "spin")
    session.deadline = time.monotonic() + 1.5
    with pytest.raises(SandboxError) as info:
        spin()
    assert info.value.reason == "timeout" and session.sandbox.dead is not None


# ----------------------------------------------------------------------- grading


@pytest.fixture(scope="module")
def graded_samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("grade")
    samples = samples_for("01_perceptron")
    for sample in samples:
        notebooks.write_clean(sample.notebook, root / "submitted" / sample.student /
                              "01_perceptron" / sample.notebook_name)
    results = grade(root / "submitted", root / "out", jobs=2, quiet=True,
                    options=Options(sandbox="auto"))
    return root, samples, {r.student: r for r in results}


def test_samples_get_what_they_deserve(graded_samples):
    _, samples, results = graded_samples
    for sample in samples:
        result = results[sample.student]
        failed = {c.grade_id for nb in result.notebooks for c in nb.cells if c.score < c.points}
        assert failed == set(sample.fails), sample.student
        assert result.status == ("blank" if sample.student == "blank" else "ok")


def test_csv_has_a_row_per_submission_and_one_per_exercise(graded_samples):
    root, samples, results = graded_samples
    with open(root / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(samples)
    assert list(rows[0]) == ["student", "assignment", "score", "max_score", "percent", "status",
                             "flags", "reason"]
    perfect = next(r for r in rows if r["student"] == "perfect")
    assert perfect["score"] == perfect["max_score"]
    with open(root / "out" / "exercises.csv", newline="", encoding="utf-8") as handle:
        exercises = list(csv.DictReader(handle))
    mine = [e for e in exercises if e["student"] == "perfect"]
    assert {e["test_cell"] for e in mine} >= {"test_add_bias"}
    assert sum(float(e["score"]) for e in mine) == float(perfect["score"])


def test_gradebook_and_feedback_are_written(graded_samples):
    from nbgrader.api import Gradebook

    root, samples, results = graded_samples
    with Gradebook(f"sqlite:///{root / 'out' / 'gradebook.db'}") as gb:
        for sample in samples:
            submission = gb.find_submission("01_perceptron", sample.student)
            assert submission.score == results[sample.student].score
    for sample in samples:
        pages = list((root / "out" / "feedback" / sample.student / "01_perceptron").glob("*.html"))
        assert pages
        text = pages[0].read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text and "seeds=[11, 12]" not in text
        assert (root / "out" / "autograded" / sample.student / "01_perceptron" /
                sample.notebook_name).is_file()


def test_without_bubblewrap_the_report_says_so(tmp_path):
    sample = next(s for s in samples_for("01_perceptron") if s.student == "perfect")
    notebooks.write_clean(sample.notebook, tmp_path / "in" / "ann" / "01_perceptron" /
                          sample.notebook_name)
    results = grade(tmp_path / "in", tmp_path / "out", jobs=1, quiet=True,
                    options=Options(sandbox="none"))
    assert results[0].score == results[0].max_score
    assert "unsandboxed" in results[0].flags
    assert os.path.exists(tmp_path / "out" / "grades.csv")


def _shifted(student: str, grade_id: str, seeds: list[int]) -> list[int]:
    return [1000 + len(student) + s for s in seeds]


def test_hidden_seeds_can_differ_per_student(tmp_path):
    samples = {s.student: s for s in samples_for("01_perceptron")}
    for name in ("perfect", "partly_wrong"):
        notebooks.write_clean(samples[name].notebook, tmp_path / "in" / name / "01_perceptron" /
                              samples[name].notebook_name)
    results = grade(tmp_path / "in", tmp_path / "out", jobs=1, quiet=True,
                    options=Options(hidden_seeds=_shifted))
    by = {r.student: r for r in results}
    assert by["perfect"].score == by["perfect"].max_score
    failed = {c.grade_id for nb in by["partly_wrong"].notebooks for c in nb.cells
              if c.score < c.points}
    assert failed == set(samples["partly_wrong"].fails)


@needs_bwrap
def test_generators_warnings_and_iterators_cross_like_in_the_kernel(session):
    source = ("import numpy as np\nimport warnings\n"
              "def draw(rng, n):\n    return rng.standard_normal(n)\n"
              "def loud(x):\n    return np.exp(np.asarray(x) * 1000.0)\n"
              "def batches(n):\n    for i in range(n):\n        yield i * i\n")
    session.load([{"source": source, "label": "s"}, {"checkpoint": "t"}], {}, 60)
    draw, loud, batches = (session.resolve("t", n) for n in ("draw", "loud", "batches"))
    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(draw(rng, 3), twin.standard_normal(3))
    assert rng.random() == twin.random()  # the student's draws advanced the grader's rng
    with __import__("warnings").catch_warnings(record=True) as caught:
        __import__("warnings").simplefilter("always")
        loud([1.0])
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)
    it = iter(batches(4))
    assert next(it) == 0 and list(it) == [1, 4, 9]


@needs_bwrap
def test_a_sandbox_that_cannot_start_is_the_graders_problem(tmp_path, monkeypatch):
    from grader.record import sandbox as sandbox_module

    real = sandbox_module.bwrap_args
    monkeypatch.setattr(sandbox_module, "bwrap_args",
                        lambda *a, **k: [*real(*a, **k), "--no-such-option"])
    sample = next(s for s in samples_for("01_perceptron") if s.student == "perfect")
    notebooks.write_clean(sample.notebook, tmp_path / "in" / "ann" / "01_perceptron" /
                          sample.notebook_name)
    result = grade(tmp_path / "in", tmp_path / "out", jobs=1, quiet=True)[0]
    assert result.status == "error" and result.score == 0
    assert "not the student" in result.notebooks[0].message


def test_the_grader_package_imports_without_torch():
    """Setup cells run `from grader import ...` in the sandbox, where torch is blocked."""
    import subprocess
    import sys

    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.partition('.')[0] in ('torch', 'sympy'):\n"
            "            raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "from grader import check, check_function, check_layer, check_loss\n"
            "import grader.runtime.worker\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_nbgrader_feedback_and_export_work_on_the_output(graded_samples):
    from grader.course.build import run_nbgrader

    root, samples, results = graded_samples
    out = root / "out"
    common = [f"--CourseDirectory.root={out}", f"--CourseDirectory.db_url=sqlite:///{out}/gradebook.db"]
    run_nbgrader(["generate_feedback", "01_perceptron", "--force",
                  "--CourseDirectory.feedback_directory=nbgrader_feedback", *common], cwd=out)
    run_nbgrader(["export", f"--to={out / 'export.csv'}", *common], cwd=out)
    with open(out / "export.csv", newline="", encoding="utf-8") as handle:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert exported == {s.student: results[s.student].score for s in samples}
    for sample in samples:
        page = (out / "nbgrader_feedback" / sample.student / "01_perceptron" /
                sample.notebook_name.replace(".ipynb", ".html"))
        assert "HIDDEN TESTS" not in page.read_text(encoding="utf-8")
