"""grader.record.session: the trusted side of the wire (proxies, timeouts, generators)."""

from __future__ import annotations

import time

import numpy as np
import pytest

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
def test_a_timeout_kills_the_sandbox_not_the_grader(session):
    session.load([{"source": "def spin():\n    while True:\n        pass\n", "label": "s"},
                  {"checkpoint": "t"}], {}, 60)
    spin = session.resolve("t", "spin")
    session.deadline = time.monotonic() + 1.5
    with pytest.raises(SandboxError) as info:
        spin()
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
    np.testing.assert_array_equal(draw(rng, 3), twin.standard_normal(3))
    assert rng.random() == twin.random()  # the student's draws advanced the grader's rng
    with __import__("warnings").catch_warnings(record=True) as caught:
        __import__("warnings").simplefilter("always")
        loud([1.0])
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)
    it = iter(batches(4))
    assert next(it) == 0 and list(it) == [1, 4, 9]
