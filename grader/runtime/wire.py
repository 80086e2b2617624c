"""The plain-data wire between the trusted grader and the sandbox · 可信进程与沙箱之间的纯数据通道.

Only plain data crosses: ``None``, booleans, integers, floats, complex numbers,
strings, bytes, tuples, lists, sets, dicts, NumPy arrays of numeric or boolean
dtype (as dtype, shape and raw bytes) and NumPy scalars. Anything else stays on
the side it lives on and crosses as an opaque *handle* (a number). Nothing is
pickled: the trusted side only ever builds builtins and NumPy arrays from bytes,
after checking dtype, shape and sizes.

A message is a frame: ``!II`` (JSON length, buffer count), the JSON text, then
each buffer as ``!Q`` length and bytes. JSON values are plain scalars or a dict
with one tag key:

    {"t": [...]} tuple    {"l": [...]} list      {"s": [...]} set
    {"d": [[k, v], ...]} dict                    {"c": [re, im]} complex
    {"b": i} bytes (buffer i)                    {"n": [dtype, i]} NumPy scalar
    {"a": [dtype, shape, i, aid]} array          {"h": [hid, meta]} handle (sandbox -> grader)
    {"g": [kind, state, aid]} a NumPy Generator or RandomState, by its state
    {"x": hid} a handle sent back (grader -> sandbox)
    {"r": index} what step ``index`` of the same ``steps`` request made (grader -> sandbox)
    {"f": [fid, name]} a grader function the student may call (grader -> sandbox);
                       {"f": fid} the same function sent back
    {"i": text} an int too large for JSON parsers with digit limits

``aid`` may identify an array (or random generator) on both sides (an ``on_array`` hook of
:class:`Encoder` and :class:`Decoder`); the grader and the worker send arrays by value,
with ``aid`` null.
"""

from __future__ import annotations

import functools
import json
import math
import os
import select
import struct
import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "ProtocolError",
    "Closed",
    "Timeout",
    "Encoder",
    "Decoder",
    "write_frame",
    "read_frame",
    "safe_dtype",
    "MAX_JSON",
    "MAX_BYTES",
]

MAX_JSON = 32 * 2**20  # bytes of JSON text in one frame
MAX_BYTES = 512 * 2**20  # bytes of all buffers in one frame
MAX_DEPTH = 64  # nesting of containers
MAX_ITEMS = 1_000_000  # elements of all containers in one message
MAX_NDIM = 32

_HEADER = struct.Struct("!II")
_LENGTH = struct.Struct("!Q")


class ProtocolError(Exception):
    """The other side sent something that is not a valid frame or value."""


class Closed(ProtocolError):
    """The other side closed the channel (the sandbox process ended)."""


class Timeout(Exception):
    """No complete frame arrived before the deadline."""


# ------------------------------------------------------------------------ framing


def write_frame(fd: int, payload: Any, buffers: list[bytes | memoryview]) -> None:
    text = json.dumps(payload, separators=(",", ":"), allow_nan=True).encode("utf-8")
    parts: list[bytes | memoryview] = [_HEADER.pack(len(text), len(buffers)), text]
    for buf in buffers:
        view = memoryview(buf).cast("B") if not isinstance(buf, bytes) else buf
        parts.append(_LENGTH.pack(len(view)))
        parts.append(view)
    if sum(len(p) for p in parts) <= 1 << 16:  # one write, one wake-up on the other side
        parts = [b"".join(parts)]
    for part in parts:
        view = memoryview(part)
        while view:
            written = os.write(fd, view)
            view = view[written:]


_PENDING: dict[int, bytearray] = {}


def _read_exact(fd: int, size: int, deadline: float | None) -> bytearray:
    """``size`` bytes from ``fd``; reads ahead into a per-fd buffer to save system calls."""
    buffer = _PENDING.setdefault(fd, bytearray())
    while len(buffer) < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout()
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise Timeout()
        chunk = os.read(fd, max(size - len(buffer), 1 << 16))
        if not chunk:
            _PENDING.pop(fd, None)
            raise Closed("channel closed")
        buffer += chunk
    out = buffer[:size]
    del buffer[:size]
    return out


def forget(fd: int) -> None:
    """Drop read-ahead data of a closed descriptor."""
    _PENDING.pop(fd, None)


def read_frame(fd: int, deadline: float | None = None) -> tuple[Any, list[bytearray]]:
    """One frame from ``fd``; raises Timeout, Closed or ProtocolError."""
    header = _read_exact(fd, _HEADER.size, deadline)
    length, count = _HEADER.unpack(header)
    if length > MAX_JSON or count > MAX_ITEMS:
        raise ProtocolError(f"frame too large ({length} bytes of JSON, {count} buffers)")
    text = _read_exact(fd, length, deadline)
    buffers = []
    total = 0
    for _ in range(count):
        (size,) = _LENGTH.unpack(_read_exact(fd, _LENGTH.size, deadline))
        total += size
        if total > MAX_BYTES:
            raise ProtocolError("frame too large (buffers)")
        buffers.append(_read_exact(fd, size, deadline))
    try:
        payload = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"invalid JSON: {str(exc)[:200]}") from None
    return payload, buffers


# ---------------------------------------------------------------------- encoding


def safe_dtype(text: Any) -> np.dtype:
    """A plain numeric or boolean dtype from its string form, or ProtocolError."""
    if type(text) is not str or len(text) > 8:
        raise ProtocolError("bad dtype")
    return _plain_dtype(text)


@functools.lru_cache(maxsize=256)  # a message names a few dtypes thousands of times
def _plain_dtype(text: str) -> np.dtype:
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError, SyntaxError):  # numpy parses ",f8" and "i4,(" as Python
        raise ProtocolError(f"bad dtype {text!r}") from None
    if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"dtype {text!r} is not plain data")
    return dtype


class _Bounded:
    """Counts a value's parts while it is walked: one nested too deeply or too large is
    refused (``error``: the encoder's ValueError, the decoder's ProtocolError)."""

    error: type[Exception] = ValueError
    items = 0

    def _count(self, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self.error("value nested too deeply")
        self.items += 1
        if self.items > MAX_ITEMS:
            raise self.error("value too large")


class Encoder(_Bounded):
    """Turns a value into JSON-able data plus buffers.

    ``on_array(array) -> aid or None`` registers arrays; ``on_other(obj) -> tag``
    decides what to do with anything that is not plain data (a handle, or an error).
    """

    def __init__(self, on_array: Callable[[np.ndarray], Any] | None = None,
                 on_other: Callable[[Any], Any] | None = None,
                 coerce: Callable[[Any], np.ndarray | None] | None = None):
        self.buffers: list[bytes | memoryview] = []
        self.on_array = on_array
        self.on_other = on_other
        self.coerce = coerce  # array-likes to send as their values (sandbox side)
        self.items = 0

    def encode(self, value: Any, depth: int = 0) -> Any:
        self._count(depth)
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return value
        if kind is int:
            return value if -(2**53) <= value <= 2**53 else {"i": str(value)}
        if kind is float:
            return value
        if kind is complex:
            return {"c": [value.real, value.imag]}
        if kind is bytes:
            self.buffers.append(value)
            return {"b": len(self.buffers) - 1}
        if kind is tuple:
            return {"t": [self.encode(v, depth + 1) for v in value]}
        if kind is list:
            return {"l": [self.encode(v, depth + 1) for v in value]}
        if kind is dict:
            return {"d": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                          for k, v in value.items()]}
        if kind in (set, frozenset):
            return {"s": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, str):  # np.str_, or any other subclass: as the text it holds
            return str.__str__(value)  # an exact str (a subclass's own __str__ never runs)
        if isinstance(value, np.ndarray) and value.dtype.kind in "biufc" \
                and value.dtype.fields is None:
            return self._array(value)
        if isinstance(value, (np.random.Generator, np.random.RandomState)):
            aid = self.on_array(value) if self.on_array is not None else None
            kind, state = rng_state(value)
            return {"g": [kind, state, aid]}
        if isinstance(value, np.generic) and value.dtype.kind in "biufc":
            array = np.asarray(value)
            self.buffers.append(array.tobytes())
            return {"n": [array.dtype.str, len(self.buffers) - 1]}
        if self.coerce is not None:
            array = self.coerce(value)
            if array is not None:
                return self._array(array)
        if self.on_other is not None:
            return self.on_other(value)
        raise TypeError(f"cannot send a {kind.__name__}")

    def _array(self, value: np.ndarray) -> Any:
        if value.ndim > MAX_NDIM:
            raise ValueError("too many dimensions")
        aid = self.on_array(value) if self.on_array is not None else None
        data = value if value.flags.c_contiguous else value.copy(order="C")  # keeps 0-d
        self.buffers.append(memoryview(data).cast("B") if data.size else b"")
        return {"a": [data.dtype.str, list(data.shape), len(self.buffers) - 1, aid]}


class Decoder(_Bounded):
    """Builds values from JSON data and buffers; only builtins and NumPy arrays.

    ``on_array(aid, array) -> array`` may return an existing array (updated in place)
    instead of the new one; ``on_handle(payload) -> object`` turns handle tags into
    whatever the receiving side uses for them.
    """

    error = ProtocolError

    def __init__(self, buffers: list[bytearray],
                 on_array: Callable[[Any, np.ndarray], np.ndarray] | None = None,
                 on_handle: Callable[[str, Any], Any] | None = None):
        self.buffers = buffers
        self.on_array = on_array
        self.on_handle = on_handle
        self.items = 0

    def _buffer(self, index: Any) -> bytearray:
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise ProtocolError("bad buffer index")
        return self.buffers[index]

    def decode(self, data: Any, depth: int = 0) -> Any:
        self._count(depth)
        kind = type(data)
        if data is None or kind in (bool, int, float, str):
            return data
        if kind is not dict or len(data) != 1:
            raise ProtocolError("bad value")
        ((tag, body),) = data.items()
        if tag == "t":
            return tuple(self.decode(v, depth + 1) for v in _list(body))
        if tag == "l":
            return [self.decode(v, depth + 1) for v in _list(body)]
        if tag == "s":
            try:
                return {self.decode(v, depth + 1) for v in _list(body)}
            except TypeError:
                raise ProtocolError("unhashable set element") from None
        if tag == "d":
            out = {}
            for pair in _list(body):
                if type(pair) is not list or len(pair) != 2:
                    raise ProtocolError("bad dict item")
                key = self.decode(pair[0], depth + 1)
                try:
                    out[key] = self.decode(pair[1], depth + 1)
                except TypeError:
                    raise ProtocolError("unhashable dict key") from None
            return out
        if tag == "c":
            if type(body) is not list or len(body) != 2:
                raise ProtocolError("bad complex")
            return complex(_float(body[0]), _float(body[1]))
        if tag == "i":
            if type(body) is not str or len(body) > 4000 or not body.lstrip("-").isdigit():
                raise ProtocolError("bad int")
            return int(body)
        if tag == "b":
            return bytes(self._buffer(body))
        if tag == "n":
            if type(body) is not list or len(body) != 2:
                raise ProtocolError("bad scalar")
            dtype = safe_dtype(body[0])
            raw = self._buffer(body[1])
            if len(raw) != dtype.itemsize:
                raise ProtocolError("bad scalar size")
            return np.frombuffer(bytes(raw), dtype=dtype)[0]
        if tag == "a":
            return self._array(body)
        if tag == "g":
            if type(body) is not list or len(body) != 3 or \
                    (body[2] is not None and type(body[2]) is not int):
                raise ProtocolError("bad random generator")
            rng = make_rng(body[0], body[1])
            return self.on_array(body[2], rng) if self.on_array is not None else rng
        if tag in ("h", "x", "f", "r"):
            if self.on_handle is None:
                raise ProtocolError("unexpected handle")
            return self.on_handle(tag, body)
        raise ProtocolError(f"unknown tag {tag!r}")

    def _array(self, body: Any) -> np.ndarray:
        if type(body) is not list or len(body) != 4:
            raise ProtocolError("bad array")
        dtype = safe_dtype(body[0])
        shape = body[1]
        if type(shape) is not list or len(shape) > MAX_NDIM or \
                any(type(n) is not int or n < 0 for n in shape):
            raise ProtocolError("bad shape")
        raw = self._buffer(body[2])
        if math.prod(shape) * dtype.itemsize != len(raw):
            raise ProtocolError("array size does not match its shape")
        array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        aid = body[3]
        if aid is not None and type(aid) is not int:
            raise ProtocolError("bad array id")
        if self.on_array is not None:
            return self.on_array(aid, array)
        return array


# ------------------------------------------------------------- random generators

_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _plain_state(value: Any, depth: int = 0) -> Any:
    if depth > 4:
        raise ValueError("state nested too deeply")
    if isinstance(value, dict):
        return {str(k): _plain_state(v, depth + 1) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [int(v) for v in value.ravel()[:1000]]
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return str(int(value))  # 128-bit states do not fit JSON numbers
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value[:32]
    raise ValueError(f"unexpected state value {type(value).__name__}")


def rng_state(rng: Any) -> tuple[str, Any]:
    """(kind, JSON-able state) of a NumPy Generator or RandomState."""
    if isinstance(rng, np.random.Generator):
        return "Generator", _plain_state(rng.bit_generator.state)
    name, keys, pos, has_gauss, cached = rng.get_state()
    return "RandomState", {"keys": [int(k) for k in keys], "pos": int(pos),
                           "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def _typed_state(value: Any, depth: int = 0) -> Any:
    if depth > 4:
        raise ProtocolError("bad generator state")
    if type(value) is dict:
        return {k: _typed_state(v, depth + 1) for k, v in value.items() if type(k) is str}
    if type(value) is str and value.lstrip("-").isdigit() and len(value) < 60:
        return int(value)
    if type(value) in (str, float, int):
        return value
    if type(value) is list and len(value) <= 1000 and all(type(v) is int for v in value):
        return np.array(value, dtype=np.uint32)
    raise ProtocolError("bad generator state")


def make_rng(kind: Any, state: Any) -> Any:
    """A new Generator or RandomState in ``state``, or ProtocolError."""
    try:
        if kind == "Generator":
            typed = _typed_state(state)
            name = typed.get("bit_generator") if isinstance(typed, dict) else None
            if name not in _BIT_GENERATORS:
                raise ProtocolError("unknown bit generator")
            bit_generator = getattr(np.random, name)()
            bit_generator.state = typed
            return np.random.Generator(bit_generator)
        if kind == "RandomState" and type(state) is dict:
            keys = state.get("keys")
            if type(keys) is not list or len(keys) != 624 or \
                    not all(type(k) is int and 0 <= k < 2**32 for k in keys):
                raise ProtocolError("bad RandomState")
            rng = np.random.RandomState()
            rng.set_state(("MT19937", np.array(keys, dtype=np.uint32), int(state["pos"]),
                           int(state["has_gauss"]), float(state["cached_gaussian"])))
            return rng
    except (TypeError, ValueError, KeyError, OverflowError):
        raise ProtocolError("bad generator state") from None
    raise ProtocolError("bad random generator")


def set_rng(target: Any, source: Any) -> None:
    """Give ``target`` the state of ``source`` (same kind)."""
    if isinstance(target, np.random.Generator):
        target.bit_generator.state = source.bit_generator.state
    else:
        target.set_state(source.get_state())


def is_rng(value: Any) -> bool:
    return isinstance(value, (np.random.Generator, np.random.RandomState))


def _list(body: Any) -> list:
    if type(body) is not list:
        raise ProtocolError("bad container")
    return body


def _float(value: Any) -> float:
    if type(value) not in (int, float):
        raise ProtocolError("bad number")
    return float(value)
