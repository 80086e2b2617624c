"""Text a student chose, made safe to print · 学生可控文本的安全显示.

A file name, a folder name, a flag or a message quoting them is chosen by a student. Printed
as it is, ``ESC [ …`` sequences recolour or clear the instructor's terminal, rewrite the title
or hide lines, ``\\r`` and ``\\b`` overwrite what was printed before (a score, a flag), a
right-to-left override (U+202E) shows ``exe.ipynb`` for ``bnypi.exe``, and a name of 100,000
characters buries the rest of the output. :func:`printable` is the one place that turns
such text into something that shows what it is: every character that moves the cursor or
changes how the rest is shown becomes a visible escape (``\\x1b``, ``\\u202e``), and long text
is cut. Everything the grader prints that a student could have influenced goes through it.
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable", "error_line"]

# control (Cc), format (Cf: bidi overrides, zero-width characters), surrogates left by
# undecodable bytes (Cs), line and paragraph separators (Zl, Zp)
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object, limit: int = 300, *, lines: bool = False,
              max_lines: int = 40) -> str:
    """``text`` with every control, format and separator character shown as an escape, cut
    to ``limit`` characters (``…`` marks the cut). ``lines=True`` keeps line breaks (``\\n``),
    for messages of several lines: each line is cut to ``limit``, and only the first
    ``max_lines`` are kept."""
    text = str(text)
    if lines:
        kept = text.split("\n", max_lines)
        shown = [printable(line, limit) for line in kept[:max_lines]]
        return "\n".join(shown + (["…"] if len(kept) > max_lines else []))
    shown = []
    length = 0
    for char in text:
        piece = _escape(char) if unicodedata.category(char) in _UNSAFE_CATEGORIES else char
        if length + len(piece) > limit:
            shown.append("…")
            break
        shown.append(piece)
        length += len(piece)
    return "".join(shown)


def error_line(exc: BaseException, limit: int = 300) -> str:
    """``ValueError: the first line of its message`` (cut at ``limit``): how a message names
    an error that is not the student's, in one line whatever the exception holds."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:limit] if text else ''}"


def short_number(x: float, places: int = 1) -> str:
    """A score or count as people write it: ``17``, not ``17.0``; ``2.5`` with one place."""
    return str(int(x)) if float(x).is_integer() else f"{x:.{places}f}"
