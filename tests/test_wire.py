"""grader.runtime.wire: only plain data crosses the sandbox boundary."""

from __future__ import annotations

import numpy as np
import pytest

from grader.record.sandbox import bwrap_available
from grader.runtime import wire

needs_bwrap = pytest.mark.skipif(not bwrap_available()[0],
                                 reason="bubblewrap cannot run here: " + bwrap_available()[1])


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
    {"a": [",f8", [1], 0, None]},  # numpy parses these as Python (SyntaxError, ValueError)
    {"a": ["i4,(", [1], 0, None]},
    {"a": ["!,", [1], 0, None]},
    {"n": [",f8", 0]},
    {"i": "9" * 5000},
])
def test_wire_rejects_what_is_not_plain_data(bad):
    with pytest.raises(wire.ProtocolError):
        wire.Decoder([bytearray(8)]).decode(bad)


def test_wire_sends_text_of_any_str_type_as_plain_text():
    class Sly(str):  # a student's str whose own __str__ and __eq__ lie
        def __str__(self):
            return "B"

        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    for value, text in ((np.str_("B"), "B"), (np.array(["b"])[0], "b"), (Sly("A"), "A")):
        back = _roundtrip(value)
        assert type(back) is str and back == text


def test_wire_refuses_to_send_other_objects():
    with pytest.raises(TypeError):
        wire.Encoder().encode(object())
