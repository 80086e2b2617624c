"""Where things live · 目录位置."""

from __future__ import annotations

import os
from pathlib import Path

# The repository this package was installed from (editable install) or runs in.
REPO = Path(os.environ.get("NNFS_ROOT", Path(__file__).resolve().parents[1]))
SOLUTIONS = REPO / "solutions"
COURSE = REPO / "course"
SAMPLES = REPO / "samples"
GRADING = REPO / "grading"


def assignments(root: Path = SOLUTIONS) -> list[str]:
    """Assignment ids in course order: the folders of ``solutions/`` that hold a notebook."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
