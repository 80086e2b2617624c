"""Generated folders never lose a person's edit · 生成的文件夹不会丢失任何人的修改.

``course/`` (``python -m grader build``) and ``course-zh/``, ``course-en/``
(``python -m grader lang``) are written by the tooling. Each holds a small manifest,
``.nnfs-generated.json``: the SHA-256 of every file the tool wrote there. The manifest
holds only what the build makes (no dates, no paths of the machine), so ``course/``
with its manifest is the same after every build, and it is committed.

Before a command overwrites or deletes a file in a generated folder it compares the
file with the manifest. A file that differs from what was generated (someone's
answer) or that the tool never wrote (someone's own file) is never overwritten or
deleted: the command stops and says, in English and Chinese, which files it would
lose and how to go on. With ``backup=True`` (``--backup``) those files are first moved
to ``backups/<folder>-<time>/`` next to the folder, and the command goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from grader.checks import messages as M

__all__ = [
    "MANIFEST",
    "WouldLoseEdits",
    "digest",
    "read_manifest",
    "changed",
    "replace",
]

MANIFEST = ".nnfs-generated.json"
_CHECKPOINTS = ".ipynb_checkpoints"

M.register(
    {
        "lose_head": (
            "Stopped: `{command}` would overwrite or delete {count} file(s) in {folder} that are "
            "not what it generated (someone changed them, or it never wrote them):",
            "已停止：`{command}` 会覆盖或删除 {folder} 中 {count} 个不是它生成的文件"
            "（有人修改过，或者本来就不是它写的）：",
        ),
        "lose_howto": (
            "Nothing was changed. To go on, move these files somewhere else yourself, or run "
            "`{command} --backup`, which first moves them to {backups}/ and then regenerates "
            "(nothing is deleted). Students: work in your own copy (`make lab` opens work/), "
            "which no command regenerates.",
            "没有改动任何文件。要继续，请先自己把这些文件移到别处，或者运行 `{command} --backup`："
            "它会先把这些文件移到 {backups}/，再重新生成（不删除任何内容）。"
            "学生请在自己的副本中作业（`make lab` 打开 work/），任何命令都不会重新生成它。",
        ),
        "backed_up": (
            "Moved {count} changed file(s) from {folder} to {backup} before regenerating.",
            "重新生成之前，已把 {folder} 中 {count} 个改动过的文件移到 {backup}。",
        ),
        "manifest_about": (
            "Written by `{command}`: the SHA-256 of every file it generated here. A command "
            "regenerates a file only while it still has this digest, so no edit is lost.",
            "由 `{command}` 写入：这里每个生成文件的 SHA-256。只有内容仍与此一致的文件才会被重新生成，"
            "因此任何修改都不会丢失。",
        ),
    }
)


class WouldLoseEdits(Exception):
    """A command stopped before it overwrote or deleted files it did not generate."""

    def __init__(self, folder: Path, files: list[str], command: str):
        self.folder, self.files, self.command = Path(folder), list(files), command
        backups = _backups_root(self.folder)
        listing = "\n".join(f"  - {self.folder / rel}" for rel in self.files)
        super().__init__(
            M.bilingual("lose_head", command=command, count=len(files), folder=self.folder)
            + "\n" + listing + "\n"
            + M.bilingual("lose_howto", command=command, backups=backups)
        )


def digest(data: bytes) -> str:
    """SHA-256 of a file's bytes, line endings normalised (a Windows checkout is not an edit)."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def read_manifest(root: Path) -> dict[str, str]:
    """``relative/posix/path -> digest`` of what was generated in ``root`` (empty when unknown)."""
    try:
        data = json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}


def _write_manifest(root: Path, files: dict[str, str], command: str) -> None:
    about = M.text("manifest_about", command=command)
    data = {"about": f"{about.en} · {about.zh}", "generated_by": command,
            "files": dict(sorted(files.items()))}
    text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    (root / MANIFEST).write_text(text, encoding="utf-8")


def _files_under(path: Path):
    """Every file (and symlink) at or under ``path``, hidden ones included; directories not followed
    through symlinks."""
    if path.is_symlink() or path.is_file():
        yield path
        return
    if not path.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(path):
        base = Path(dirpath)
        for name in dirnames:
            if (base / name).is_symlink():
                yield base / name
        for name in filenames:
            yield base / name


def _content(path: Path) -> bytes | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def _was_generated(rel: str, data: bytes | None, manifest: dict[str, str],
                   new: dict[str, bytes]) -> bool:
    """True when losing this file loses nothing: it is what was (or is about to be) generated."""
    if data is None:
        return False
    mine = digest(data)
    if manifest.get(rel) == mine or (rel in new and digest(new[rel]) == mine):
        return True
    # JupyterLab's checkpoint of a generated notebook that was never changed
    parts = rel.split("/")
    if len(parts) >= 2 and parts[-2] == _CHECKPOINTS and parts[-1].endswith("-checkpoint.ipynb"):
        original = "/".join(parts[:-2] + [parts[-1][: -len("-checkpoint.ipynb")] + ".ipynb"])
        return manifest.get(original) == mine or (
            original in new and digest(new[original]) == mine)
    return False


def changed(root: Path, folders: list[str] | None = None) -> list[str]:
    """Files under ``root`` (or under its ``folders``) that are not what was generated there."""
    root = Path(root)
    manifest = read_manifest(root)
    if folders is None:
        folders = sorted(p.name for p in root.iterdir() if p.name != MANIFEST) if root.is_dir() else []
    out = []
    for folder in folders:
        for path in _files_under(root / folder):
            rel = path.relative_to(root).as_posix()
            if not _was_generated(rel, _content(path), manifest, {}):
                out.append(rel)
    return sorted(out)


def _backups_root(root: Path) -> Path:
    return Path(root).resolve().parent / "backups"


def _backup(root: Path, files: list[str]) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = _backups_root(root) / f"{root.name}-{stamp}"
    n = 1
    while target.exists():
        n += 1
        target = _backups_root(root) / f"{root.name}-{stamp}-{n}"
    for rel in files:
        destination = target / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(root / rel), str(destination))
    return target


def replace(root: Path, files: dict[str, bytes], folders: list[str], command: str,
            backup: bool = False) -> Path | None:
    """Make ``root/<folder>`` hold exactly ``files`` (``relative/path -> bytes``) for each folder.

    Files of other folders are left alone. Raises :class:`WouldLoseEdits`, having changed
    nothing, when a file to overwrite or delete is not what was generated; with ``backup``
    those files are moved to a backup folder first, which is returned.
    """
    root = Path(root)
    manifest = read_manifest(root)
    folders = sorted(set(folders))
    stray = sorted(rel for rel in files if rel.split("/", 1)[0] not in folders)
    if stray:
        raise ValueError(f"files outside the folders to replace: {stray}")
    existing: dict[str, Path] = {}
    for folder in folders:
        for path in _files_under(root / folder):
            existing[path.relative_to(root).as_posix()] = path
    losing = sorted(rel for rel, path in existing.items()
                    if not _was_generated(rel, _content(path), manifest, files))
    backed_up = None
    if losing:
        if not backup:
            raise WouldLoseEdits(root, losing, command)
        backed_up = _backup(root, losing)
        print(M.bilingual("backed_up", count=len(losing), folder=root, backup=backed_up), flush=True)
    # Only files proven to be generated remain: remove them one by one, then empty folders.
    for rel, path in existing.items():
        if rel not in losing:
            path.unlink()
    for folder in folders:
        top = root / folder
        if top.is_dir() and not top.is_symlink():
            for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass  # not empty: something appeared meanwhile, and it stays
    for rel, data in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    kept = {rel: d for rel, d in manifest.items() if rel.split("/", 1)[0] not in folders}
    kept.update({rel: digest(data) for rel, data in files.items()})
    root.mkdir(parents=True, exist_ok=True)
    _write_manifest(root, kept, command)
    return backed_up
