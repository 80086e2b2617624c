"""Full-width punctuation for Chinese prose · 中文标点使用全角.

Chinese text uses full-width ，：；？！（）; keyboards and some tools produce ASCII. This
fixes the zh cells of a text-form notebook or the CJK string literals of a Python module;
code spans, math and ``{placeholders}`` are left alone. ``tests/test_punctuation.py`` uses
:func:`convert_prose` to check every zh cell and every Chinese message.

    python -m grader.course.punctuation nb /tmp/perceptron.py     # text form of a notebook
    python -m grader.course.punctuation py grader/messages.py     # a module's string literals
"""

import io
import re
import sys
import tokenize

FW = {",": "\uff0c", ":": "\uff1a", ";": "\uff1b", "?": "\uff1f", "!": "\uff01",
      "(": "\uff08", ")": "\uff09"}


def is_cjk(ch: str) -> bool:
    if not ch:
        return False
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF
            or ch in "\u201c\u201d")


SPLIT = re.compile(r"(`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\{[A-Za-z_][A-Za-z_0-9!:.]*\})")
END = ("", '"', "'")


def convert_prose(line: str) -> str:
    """Convert one line; code spans, math and {placeholders} are kept as they are."""
    chars, protected = [], []
    for k, part in enumerate(SPLIT.split(line)):
        chars.extend(part)
        protected.extend([k % 2 == 1] * len(part))
    out = list(chars)
    n = len(chars)

    def prev_of(i):
        j = i - 1
        while j >= 0 and out[j] == "*" and not protected[j]:
            j -= 1
        return out[j] if j >= 0 else ""

    def next_of(i):
        j = i + 1
        while j < n and chars[j] == "*" and not protected[j]:
            j += 1
        return chars[j] if j < n else ""

    stack = []
    for i, ch in enumerate(chars):
        if protected[i]:
            continue
        prev, nxt = prev_of(i), next_of(i)
        raw_next = chars[i + 1] if i + 1 < n else ""
        if ch == ",":
            between_digits = prev.isdigit() and nxt.isdigit()
            if (is_cjk(prev) or is_cjk(nxt) or nxt in END
                    or (raw_next != " " and not between_digits and prev not in ("", " "))):
                out[i] = FW[ch]
        elif ch in ":;":
            if is_cjk(prev) or is_cjk(nxt) or nxt in END:
                out[i] = FW[ch]
        elif ch in "?!":
            if is_cjk(prev):
                out[i] = FW[ch]
        elif ch == "(":
            convert = is_cjk(prev) or is_cjk(nxt)
            stack.append(convert)
            if convert:
                out[i] = FW[ch]
        elif ch == ")":
            if stack and stack.pop():
                out[i] = FW[ch]
    return "".join(out)


def convert_text_notebook(text: str) -> str:
    blocks = re.split(r"(?m)^(?=# %%)", text)
    out = []
    for block in blocks:
        if block.startswith("# %% [markdown] zh"):
            lines = block.split("\n")
            block = "\n".join([lines[0]] + [convert_prose(ln) for ln in lines[1:]])
        out.append(block)
    return "".join(out)


def convert_module(source: str) -> str:
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    lines = source.splitlines(keepends=True)
    edits = []
    for tok in tokens:
        if tok.type == tokenize.STRING and not tok.string.startswith('"""') \
                and any(is_cjk(c) for c in tok.string):
            edits.append((tok.start, tok.end, convert_prose(tok.string)))
    for (srow, scol), (erow, ecol), new in reversed(edits):
        assert srow == erow, "multi-line string literal"
        line = lines[srow - 1]
        lines[srow - 1] = line[:scol] + new + line[ecol:]
    return "".join(lines)


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    text = open(path, encoding="utf-8").read()
    new = convert_text_notebook(text) if kind == "nb" else convert_module(text)
    open(path, "w", encoding="utf-8").write(new)
