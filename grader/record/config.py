"""Grading limits from ``grading.toml`` · 从 grading.toml 读取评分限制.

``[limits]`` sets every notebook's limits; ``[limits."05_training"]`` or
``[limits."05_training/training.ipynb"]`` override them for one assignment or one
notebook. Command-line options (``--cell-timeout`` ...) override the file for all.
Keys are the fields of :class:`grader.record.sandbox.Limits`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from grader.checks import messages as M
from grader.paths import REPO
from grader.record.sandbox import Limits

__all__ = ["load_limits", "DEFAULT_CONFIG", "ConfigError"]

DEFAULT_CONFIG = REPO / "grading.toml"

M.register(
    {
        "config_invalid": (
            "{path} is not valid TOML: {error}",
            "{path} 不是有效的 TOML 文件：{error}",
        ),
        "config_unknown_key": (
            "unknown limit `{name}` in [{section}] (known: {known})",
            "[{section}] 中有未知的限制 `{name}`（可用的有：{known}）",
        ),
    }
)


class ConfigError(RuntimeError):
    pass


def load_limits(path: Path | None = None, overrides: dict | None = None
                ) -> tuple[Limits, dict[str, Limits]]:
    """(limits for every notebook, {assignment or assignment/notebook: limits})."""
    path = path or DEFAULT_CONFIG
    data: dict = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(M.bilingual("config_invalid", path=path, error=exc)) from None
    section = data.get("limits", {})
    known = {f.name: f.type for f in dataclasses.fields(Limits)}
    plain = {k: v for k, v in section.items() if not isinstance(v, dict)}
    base = _apply(Limits(), plain, "limits", known)
    specific = {}
    for name, values in section.items():
        if isinstance(values, dict):
            specific[name] = _apply(base, values, f'limits."{name}"', known)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    base = dataclasses.replace(base, **overrides)
    specific = {name: dataclasses.replace(limits, **overrides) for name, limits in specific.items()}
    return base, specific


def _apply(limits: Limits, values: dict, section: str, known: dict) -> Limits:
    for key in values:
        if key not in known:
            raise ConfigError(M.bilingual("config_unknown_key", name=key, section=section,
                                          known=", ".join(known)))
    return dataclasses.replace(limits, **values)
