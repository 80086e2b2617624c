"""grader.record.session: the trusted side of the wire (handles, steps, callbacks, timeouts)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from support import run_in

from grader.checks.steps import Steps
from grader.record.sandbox import Limits, Sandbox, SandboxError, bwrap_available
from grader.record.session import Remote, Session

needs_bwrap = pytest.mark.skipif(not bwrap_available()[0],
                                 reason="bubblewrap cannot run here: " + bwrap_available()[1])
pytestmark = pytest.mark.slow  # real sandboxes: not in the fast lane


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
def test_steps_on_handles_behave_like_the_students_objects(session):
    report = session.load([{"source": SOURCE, "label": "sol"}, {"checkpoint": "t"}], {}, 60)
    assert report["cells"][0]["error"] is None
    fwd, bwd, todo, broken, numgrad, value = (
        session.resolve("t", n) for n in ("fwd", "bwd", "todo", "broken", "numgrad", "Value"))
    assert isinstance(fwd, Remote) and callable(fwd) and fwd.__name__ == "fwd"
    assert isinstance(value, Remote) and callable(value)  # a class: called through steps
    with pytest.raises(TypeError):
        fwd(1)  # a handle answers nothing itself: no call reaches the sandbox from here
    x, w = np.ones((2, 3)), np.arange(12.0).reshape(3, 4)
    steps = Steps()
    forward = steps.call(fwd, x, w, name="fwd")
    cache = steps.item(forward, 1)  # stays in the sandbox, passed on as itself
    steps.call(bwd, np.ones((2, 4)), cache, name="bwd", unchanged=[forward])
    done = session.run_steps(steps)
    out, _ = done[forward].value
    np.testing.assert_array_equal(out, x @ w)
    assert x[0, 0] == 1.0  # the check's arrays are sent by value, never changed here
    # the backward changed what its forward kept in the cache: argument 0 (x) of step 0
    assert done.outcomes[2].status == "ok" and done.outcomes[2].mutated_earlier == [(0, 0)]
    not_done = run_in(session, todo, 1)
    assert not_done.status == "error" and not_done.error["not_done"]
    oops = run_in(session, broken, 3)
    assert oops.error["type"] == "Oops" and "ValueError" in oops.error["bases"]
    assert "bad 3" in oops.error["msg"] and "raise Oops" in oops.error["frames"]
    assert run_in(session, numgrad, lambda v: v ** 3, 2.0).value == pytest.approx(12.0, rel=1e-6)
    steps = Steps()  # a graph of the student's objects, built where they live
    a, b = steps.call(value, 1.5, name="Value"), steps.call(value, -2.0, name="Value")
    c = steps.op("add", steps.op("add", steps.op("add", steps.op("mul", a, b, name="mul"),
                                                 steps.op("pow", a, 3, name="pow"), name="add"),
                                 steps.op("mul", 2.0, a, name="rmul"), name="add"),
                 steps.op("neg", b, name="neg"), name="add")
    data = steps.attr(c, "data")
    done = session.run_steps(steps)
    assert isinstance(done[c].value, Remote)
    assert done[data].value == pytest.approx(1.5 * -2 + 1.5**3 + 3 + 2)
    with pytest.raises(NameError):
        session.resolve("t", "missing")


@needs_bwrap
def test_a_timeout_kills_the_sandbox_not_the_grader(session):
    session.load([{"source": "def spin():\n    while True:\n        pass\n", "label": "s"},
                  {"checkpoint": "t"}], {}, 60)
    spin = session.resolve("t", "spin")
    session.deadline = time.monotonic() + 1.5
    with pytest.raises(SandboxError) as info:
        run_in(session, spin)
    assert info.value.reason == "timeout" and session.sandbox.dead is not None


@needs_bwrap
def test_generators_warnings_and_iterators_cross_like_in_the_kernel(session):
    source = ("import numpy as np\nimport warnings\n"
              "def draw(rng, n):\n    return rng.standard_normal(n)\n"
              "def loud(x):\n    return np.exp(np.asarray(x) * 1000.0)\n"
              "def batches(n):\n    for i in range(n):\n        yield i * i\n")
    session.load([{"source": source, "label": "s"}, {"checkpoint": "t"}], {}, 60)
    draw, loud, batches = (session.resolve("t", n) for n in ("draw", "loud", "batches"))
    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(run_in(session, draw, rng, 3).value, twin.standard_normal(3))
    warned = run_in(session, loud, [1.0]).warnings
    assert any(issubclass(w.category, RuntimeWarning) for w in warned)
    steps = Steps()
    listed = steps.op("list", steps.call(batches, 4, name="batches", fetch=False), name="list")
    assert session.run_steps(steps)[listed].value == [0, 1, 4, 9]
