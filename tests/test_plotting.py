"""Chinese in figures only when a CJK font can draw it — never empty boxes."""

import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest

from grader.runtime import plotting

needs_cjk = pytest.mark.skipif(
    not plotting.cjk_font_available(),
    reason="no CJK font installed (Debian: apt-get install fonts-noto-cjk; "
    "conda: font-ttf-noto-cjk); the English-only branch is tested without one",
)


def _draw(title, xlabel, ylabel):
    """Render a small figure and return the warnings matplotlib raised (missing glyphs among them)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [1, -1], label=title)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.legend()
        fig.canvas.draw()
        plt.close(fig)
    return [str(w.message) for w in caught]


def test_label_is_english_only_without_a_cjk_font(monkeypatch):
    monkeypatch.setattr(plotting, "cjk_font", lambda: None)
    assert not plotting.cjk_font_available()
    assert plotting.label("epoch", "轮次") == "epoch"
    missing = [w for w in _draw(plotting.label("Loss", "损失"), plotting.label("epoch", "轮次"), "y")
               if "missing from font" in w]
    assert missing == []


def test_label_is_english_when_the_text_has_math():
    assert plotting.label("bound $(R/\\gamma)^2$", "上界 $(R/\\gamma)^2$") == "bound $(R/\\gamma)^2$"


def test_label_follows_the_figure_language_setting(monkeypatch):
    monkeypatch.setenv("NNFS_FIGURE_LANG", "en")
    assert plotting.label("epoch", "轮次") == "epoch"


def test_a_latin_font_does_not_count_as_cjk():
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    assert not plotting._draws(str(dejavu))


def test_label_is_english_after_the_font_settings_are_reset(monkeypatch):
    monkeypatch.setitem(matplotlib.rcParams, "font.family", ["sans-serif"])
    assert plotting.label("epoch", "轮次") == "epoch"


@needs_cjk
def test_label_is_bilingual_with_a_cjk_font():
    plotting.use_cjk_font()
    assert plotting.cjk_font_in_use()
    assert plotting.label("epoch", "轮次") == "epoch · 轮次"


@needs_cjk
def test_label_can_be_chinese_only(monkeypatch):
    plotting.use_cjk_font()
    monkeypatch.setenv("NNFS_FIGURE_LANG", "zh")
    assert plotting.label("epoch", "轮次") == "轮次"


@needs_cjk
def test_a_bilingual_figure_draws_every_glyph():
    plotting.use_cjk_font()
    caught = _draw(
        plotting.label("Training loss (mean)", "训练损失(平均)"),
        plotting.label("epoch", "轮次"),
        plotting.label("loss", "损失"),
    )
    assert [w for w in caught if "missing from font" in w] == []
    assert plotting.cjk_font() in matplotlib.rcParams["font.family"]
