"""Punctuation of Chinese prose, with code and shapes left as code · 中文标点检查.

Chinese prose uses full-width ，：；？！（）“”; code, shapes and math keep ASCII, because
a reader copies them. :func:`problems` reads a Chinese text (a zh cell, a Chinese message,
a Chinese string of a figure) and names every place where the two are mixed up:

* ``half-width``: ASCII ``, : ; ? ! ( .`` or ``"`` written against Chinese text
  (``反向传播(backpropagation)``, ``如下:``, ``"放电"``);
* ``unbalanced``: a bracket or quote closed by the other kind or never closed
  (``（见下文)``, ``“放电"``);
* ``code``: full-width punctuation inside code or a shape (``(M，)``, ```np.where(a，b)```,
  ``def _backward()：``), which a reader cannot copy.

What counts as code: inline code in backticks, fenced code blocks, a line with no Chinese
character on it, a call written ``name(...)`` and a tuple of names or numbers such as
``(N, C)``; math (``$...$``), HTML tags, links and ``{placeholders}`` are left alone.
String literals inside code (``label("epoch", "轮次")``) are Chinese text of their own.

:func:`convert_prose` fixes what can be fixed without judgement (the half-width
punctuation of prose) and never touches code or shapes; :func:`problems` is what the
tests use (``tests/test_punctuation.py``)::

    python -m grader.course.punctuation check solutions course     # list the problems
    python -m grader.course.punctuation nb /tmp/perceptron.py      # fix a text-form notebook
    python -m grader.course.punctuation py grader/checks/messages.py   # fix a module's strings
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Problem", "problems", "convert_prose", "convert_text_notebook", "convert_module",
           "is_cjk", "notebook_texts", "module_texts"]

FW = {",": "\uff0c", ":": "\uff1a", ";": "\uff1b", "?": "\uff1f", "!": "\uff01",
      "(": "\uff08", ")": "\uff09", ".": "\u3002"}
#: full-width punctuation that has no place in code
FULL_WIDTH = "\uff0c\uff1a\uff1b\uff1f\uff01\uff08\uff09\u3002\u3001\u201c\u201d\u2018\u2019\u3010\u3011"
OPEN = {"(": ")", "\uff08": "\uff09", "[": "]", "\u3010": "\u3011", "\u300c": "\u300d",
        "\u300e": "\u300f", "\u300a": "\u300b", "\u201c": "\u201d"}
CLOSE = {v: k for k, v in OPEN.items()}


def is_cjk(ch: str) -> bool:
    """A Chinese (or Japanese) character or a CJK punctuation mark."""
    if not ch:
        return False
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3000 <= o <= 0x303F
            or 0xFF00 <= o <= 0xFFEF or ch in "\u201c\u201d\u2018\u2019")


def is_han(ch: str) -> bool:
    """A Chinese character (not punctuation)."""
    return bool(ch) and (0x4E00 <= ord(ch) <= 0x9FFF or 0x3400 <= ord(ch) <= 0x4DBF)


@dataclass(frozen=True)
class Problem:
    kind: str  # half-width | unbalanced | code
    what: str  # one sentence: what is wrong and how to write it
    excerpt: str  # the text around it

    def __str__(self) -> str:
        return f"[{self.kind}] {self.what}: …{self.excerpt}…"


# ------------------------------------------------------------------------ segments

# Protected spans, in the order tried: fenced code, inline code, display and inline math,
# HTML tags, links, {placeholders}.
_SPANS = re.compile(
    r"(?P<fence>^[ \t]*```.*?^[ \t]*```[ \t]*$)"
    r"|(?P<code>`[^`\n]+`)"
    r"|(?P<math>\$\$.*?\$\$|\$[^$\n]+\$)"
    r"|(?P<html></?[A-Za-z][^<>\n]*>)"
    r"|(?P<link>\]\([^)\s]+\)|https?://\S+)"
    r"|(?P<placeholder>\{[A-Za-z_][A-Za-z_0-9!:.]*\})",
    re.M | re.S,
)
# A call written in prose: name(...) with ASCII brackets and no Chinese inside.
_CALL = re.compile(r"[A-Za-z_][A-Za-z_0-9.]*\((?:[^()\u4e00-\u9fff]|\([^()\u4e00-\u9fff]*\))*\)")
# A shape or tuple: (N, C), (M,), （N，C）, (2, 3, 4): names or numbers and commas only.
_SHAPE = re.compile(r"[(\uff08]\s*(?:[A-Za-z0-9_][A-Za-z0-9_+\-*/.]*\s*[,\uff0c]\s*)+"
                    r"(?:[A-Za-z0-9_][A-Za-z0-9_+\-*/.]*\s*)?[)\uff09]")
# A Python statement written in prose: def f():, for x in y:, class A:
_STATEMENT = re.compile(r"\b(?:def|class|for|while|if|elif|else|with|try|except)\b[^\n\u4e00-\u9fff]*"
                        r"[\uff1a:]\s*$", re.M)


def _mask(text: str) -> list[str]:
    """Each character's role: 'p' prose, 'c' code (checked for full-width), 'x' left alone."""
    role = ["p"] * len(text)
    for m in _SPANS.finditer(text):
        kind = m.lastgroup
        mark = "c" if kind in ("fence", "code") else "x"
        for i in range(m.start(), m.end()):
            role[i] = mark
    # An indented code block: a line indented by four spaces or more, after a blank line
    # or another such line, with no Chinese character on it.
    start, previous_blank, in_block = 0, True, False
    for line in text.split("\n"):
        end = start + len(line)
        indented = line.startswith(("    ", "\t")) and line.strip()
        in_block = bool(indented and (previous_blank or in_block)
                        and not any(is_han(c) for c in line))
        if in_block:
            for i in range(start, end):
                if role[i] == "p":
                    role[i] = "c"
        previous_blank = not line.strip()
        start = end + 1
    for pattern in (_CALL, _SHAPE, _STATEMENT):
        for m in pattern.finditer(text):
            if all(role[i] != "x" for i in range(m.start(), m.end())):
                # a shape's brackets follow the sentence (（N, C）is fine); what is inside
                # is code
                first, last = ((m.start() + 1, m.end() - 1) if pattern is _SHAPE
                               else (m.start(), m.end()))
                for i in range(first, last):
                    role[i] = "c"
    return role


def _excerpt(text: str, i: int, width: int = 14) -> str:
    return text[max(0, i - width):i + width + 1].replace("\n", " ")


def _in_string(code: str, position: int) -> bool:
    """Whether ``position`` of a code span sits inside a string literal or a comment (both
    may hold Chinese prose)."""
    quote = None
    for ch in code[:position]:
        if quote:
            if ch == quote or (quote == "#" and ch == "\n"):
                quote = None
        elif ch in "\"'#":
            quote = ch
    return quote is not None


def _neighbour(text: str, role: list[str], i: int, step: int) -> str:
    """The nearest character in direction ``step``; emphasis marks (``**``, ``_``) of prose
    are skipped, a space is a character like any other."""
    j = i + step
    while 0 <= j < len(text) and text[j] in "*_" and role[j] == "p":
        j += step
    return text[j] if 0 <= j < len(text) else ""


# ------------------------------------------------------------------------ checking


def problems(text: str) -> list[Problem]:
    """Every punctuation problem of a Chinese text (see the module docstring)."""
    role = _mask(text)
    found: list[Problem] = []
    found += _code_problems(text, role)
    found += _half_width_problems(text, role)
    found += _bracket_problems(text, role)
    return found


def _code_problems(text: str, role: list[str]) -> list[Problem]:
    found = []
    i = 0
    while i < len(text):
        if role[i] != "c":
            i += 1
            continue
        j = i
        while j < len(text) and role[j] == "c":
            j += 1
        span = text[i:j]
        for k, ch in enumerate(span):
            if ch in FULL_WIDTH and not _in_string(span, k):
                found.append(Problem("code", f"full-width {ch} inside code or a shape "
                                     f"(write it in ASCII, a reader copies it)",
                                     _excerpt(text, i + k)))
                break
        i = j
    return found


def _half_width_problems(text: str, role: list[str]) -> list[Problem]:
    found = []
    for i, ch in enumerate(text):
        if role[i] != "p" or ch not in ',:;?!(."':
            continue
        prev, nxt = _neighbour(text, role, i, -1), _neighbour(text, role, i, 1)
        after_chinese = is_cjk(prev) and prev not in "\u201c\u2018"
        before_chinese = is_han(nxt) or (nxt in FULL_WIDTH and nxt not in "\u201c\u2018")
        if ch == "." and not (is_han(prev) and (nxt in ("", "\n") or is_cjk(nxt))):
            continue
        if ch in "?!" and not after_chinese:
            continue
        if ch == '"':
            if after_chinese or before_chinese:
                found.append(Problem("half-width", 'ASCII " in Chinese prose (use “ and ”)',
                                     _excerpt(text, i)))
            continue
        if ch == "(":
            if after_chinese or is_han(nxt):
                found.append(Problem("half-width", "half-width ( against Chinese text (use （ "
                                     "for prose; put a space before a shape or a call)",
                                     _excerpt(text, i)))
            continue
        if after_chinese or (ch in ",;:" and before_chinese):
            found.append(Problem("half-width", f"half-width {ch} against Chinese text "
                                 f"(use {FW[ch]})", _excerpt(text, i)))
    return found


def _interval(text: str, i: int, j: int) -> bool:
    """``[0, 1)`` and friends: a range whose brackets differ on purpose."""
    return bool(re.fullmatch(r"[\[(]\s*[-+]?[\w.∞]+\s*,\s*[-+]?[\w.∞]+\s*[\])]", text[i:j + 1]))


def _bracket_problems(text: str, role: list[str]) -> list[Problem]:
    found = []
    stack: list[int] = []
    for i, ch in enumerate(text):
        if role[i] == "x":
            continue
        if ch in OPEN:
            stack.append(i)
        elif ch in CLOSE:
            if stack and text[stack[-1]] == CLOSE[ch]:
                stack.pop()
            elif stack and _interval(text, stack[-1], i):
                stack.pop()
            elif stack and text[stack[-1]] in OPEN and role[stack[-1]] == role[i] == "c" \
                    and OPEN[text[stack[-1]]] != ch and ch in "])" and text[stack[-1]] in "[(":
                stack.pop()  # code such as x[0) is not prose's business
            elif stack:
                opener = text[stack.pop()]
                found.append(Problem("unbalanced", f"{opener} closed by {ch} (close it with "
                                     f"{OPEN[opener]})", _excerpt(text, i)))
            elif role[i] == "p":
                found.append(Problem("unbalanced", f"{ch} closes nothing", _excerpt(text, i)))
    for i in stack:
        if role[i] == "p":
            found.append(Problem("unbalanced", f"{text[i]} is never closed", _excerpt(text, i)))
    return found


# ------------------------------------------------------------------------ fixing


def convert_prose(line: str) -> str:
    """The text with the half-width punctuation of its prose made full-width; code, shapes,
    calls, math and placeholders are kept exactly as they are."""
    role = _mask(line)
    out = list(line)
    opened: list[tuple[int, bool]] = []  # (position, converted) of prose "("
    quotes = 0
    for i, ch in enumerate(line):
        if role[i] != "p":
            continue
        prev, nxt = _neighbour(line, role, i, -1), _neighbour(line, role, i, 1)
        after_chinese = is_cjk(prev) and prev not in "\u201c\u2018"
        before_chinese = is_han(nxt) or nxt in "\uff08\u201c"
        if ch in ",;:" and (after_chinese or before_chinese):
            out[i] = FW[ch]
        elif ch in "?!" and after_chinese:
            out[i] = FW[ch]
        elif ch == "." and is_han(prev) and (nxt in ("", "\n") or is_cjk(nxt)):
            out[i] = FW[ch]
        elif ch == "(":
            convert = after_chinese or is_han(nxt)
            opened.append((i, convert))
            if convert:
                out[i] = FW[ch]
        elif ch == ")":
            if opened:
                _, convert = opened.pop()
                if convert:
                    out[i] = FW[ch]
        elif ch == '"' and (after_chinese or before_chinese or quotes % 2 == 1):
            out[i] = "\u201c" if quotes % 2 == 0 else "\u201d"
            quotes += 1
    return "".join(out)


def convert_text_notebook(text: str) -> str:
    """Fix the zh cells of a notebook in text form (``python -m grader unpack``)."""
    blocks = re.split(r"(?m)^(?=# %%)", text)
    out = []
    for block in blocks:
        if block.startswith("# %% [markdown] zh"):
            head, _, body = block.partition("\n")
            lines = [ln[2:] if ln.startswith("# ") else ln for ln in body.split("\n")]
            fixed = convert_prose("\n".join(lines)).split("\n")
            body = "\n".join(("# " + f if orig.startswith("# ") else f)
                             for f, orig in zip(fixed, body.split("\n"), strict=True))
            block = head + "\n" + body
        out.append(block)
    return "".join(out)


def _string_literals(source: str):
    """(start, end, text) of every one-line string literal with Chinese in it."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return
    for tok in tokens:
        if tok.type == tokenize.STRING and any(is_han(c) for c in tok.string) \
                and not tok.string.lstrip("rbuRBU").startswith(('"""', "'''")):
            yield tok


def convert_module(source: str) -> str:
    """Fix the Chinese string literals of a Python module (docstrings are left alone)."""
    lines = source.splitlines(keepends=True)
    edits = []
    for tok in _string_literals(source):
        start = len(tok.string) - len(tok.string.lstrip("rbuRBUfF")) + 1  # prefix, quote
        body = tok.string[start:-1]
        edits.append((tok.start, tok.end, tok.string[:start] + convert_prose(body) + tok.string[-1]))
    for (srow, scol), (erow, ecol), new in reversed(edits):
        if srow != erow:
            continue
        line = lines[srow - 1]
        lines[srow - 1] = line[:scol] + new + line[ecol:]
    return "".join(lines)


# ------------------------------------------------------------------------ what to check


def _literal_text(token: str) -> str:
    body = token.lstrip("rbuRBUfF")
    return body[1:-1]


def notebook_texts(nb) -> list[tuple[str, str]]:
    """(where, Chinese text) for every place of a notebook that holds Chinese prose: the zh
    cells, the cells shared by both languages (headings, tables) and the Chinese strings of
    code cells (figure labels)."""
    from grader import notebooks

    found = []
    for index, cell in enumerate(nb.cells):
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type == "markdown":
            tag = notebooks.language_tag(cell)
            if tag in ("zh", "both", None) and any(is_han(c) for c in source):
                found.append((f"cell {index}", source))
        elif cell.cell_type == "code":
            for tok in _string_literals(source):
                found.append((f"cell {index} line {tok.start[0]}", _literal_text(tok.string)))
    return found


def module_texts(path: Path) -> list[tuple[str, str]]:
    return [(f"{path}:{tok.start[0]}", _literal_text(tok.string))
            for tok in _string_literals(path.read_text(encoding="utf-8"))]


def _check(paths: list[str]) -> int:
    from grader import notebooks

    count = 0
    for root in paths:
        root_path = Path(root)
        files = sorted(root_path.rglob("*.ipynb")) if root_path.is_dir() else [root_path]
        for path in files:
            if ".ipynb_checkpoints" in path.parts:
                continue
            for where, text in notebook_texts(notebooks.read(path)):
                for problem in problems(text):
                    print(f"{path} {where}: {problem}")
                    count += 1
    print(f"{count} problem(s)")
    return 1 if count else 0


if __name__ == "__main__":
    kind, rest = sys.argv[1], sys.argv[2:]
    if kind == "check":
        sys.exit(_check(rest))
    text = open(rest[0], encoding="utf-8").read()
    new = convert_text_notebook(text) if kind == "nb" else convert_module(text)
    open(rest[0], "w", encoding="utf-8").write(new)
