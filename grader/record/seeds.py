"""Per-student hidden inputs · 每位学生不同的隐藏输入.

The hidden calls in the instructor's test cells carry fixed seeds (``seeds=[11, 12]``).
For the grade of record each seed is replaced by one derived from the student id and a
course secret with HMAC-SHA256: a student's inputs are the same every time they are
graded (the grade is reproducible), differ from every other student's, and cannot be
computed without the secret, so an answer hard-coded for someone else's inputs fails.

The secret lives outside the repository (students can read the repository): in
``$NNFS_COURSE_SECRET``, in the file ``--secret-file`` or ``$NNFS_COURSE_SECRET_FILE``
names, or in ``~/.config/nnfs-grader/course-secret``, created on first use. Every machine
that grades one class (``--shard``) must use the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from grader.checks import messages as M
from grader.paths import REPO

__all__ = ["StudentSeeds", "course_secret", "DEFAULT_SECRET_FILE", "SecretError"]

DEFAULT_SECRET_FILE = Path("~/.config/nnfs-grader/course-secret")

M.register(
    {
        "seeds_created": (
            "Created a course secret for per-student hidden inputs in {path} (keep it; every "
            "machine grading this class needs the same one).",
            "已在 {path} 创建课程密钥，用于生成每位学生不同的隐藏输入（请妥善保存；"
            "为这门课评分的每台机器都需要同一个密钥）。",
        ),
        "seeds_in_repo": (
            "The course secret {path} is inside the repository, where students can read it. "
            "Keep it outside (for example in ~/.config/nnfs-grader/course-secret).",
            "课程密钥 {path} 位于仓库之内，学生可以读到它。请把它放在仓库之外"
            "（例如 ~/.config/nnfs-grader/course-secret）。",
        ),
        "seeds_unreadable": (
            "Cannot read the course secret {path}: {error}",
            "无法读取课程密钥 {path}：{error}",
        ),
        "seeds_too_short": (
            "The course secret in {path} is too short (at least 16 characters).",
            "{path} 中的课程密钥太短（至少需要 16 个字符）。",
        ),
    }
)


class SecretError(RuntimeError):
    pass


class StudentSeeds:
    """``(student, grade id, seeds) -> seeds``: the ``Options.hidden_seeds`` of record.

    A class, not a closure, so it crosses to the worker processes.
    """

    def __init__(self, secret: bytes):
        self._secret = secret

    def __call__(self, student: str, grade_id: str, seeds: list) -> list:
        return [self.derive(student, grade_id, seed) for seed in seeds]

    def derive(self, student: str, grade_id: str, seed: object) -> int:
        message = f"{student}\0{grade_id}\0{seed}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF  # any numpy / torch seed

    def fingerprint(self) -> str:
        """Names the secret in result fingerprints without revealing it."""
        return hmac.new(self._secret, b"fingerprint", hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:  # never print the secret
        return f"StudentSeeds({self.fingerprint()})"


def course_secret(path: Path | None = None, say=print) -> bytes:
    """The course secret, from the environment, the given file or the default file."""
    if path is None and os.environ.get("NNFS_COURSE_SECRET"):
        value = os.environ["NNFS_COURSE_SECRET"].encode()
        return _checked(value, "$NNFS_COURSE_SECRET")
    if path is None and os.environ.get("NNFS_COURSE_SECRET_FILE"):
        path = Path(os.environ["NNFS_COURSE_SECRET_FILE"])
    created = path is None
    path = (path or DEFAULT_SECRET_FILE).expanduser().resolve()
    if path.is_relative_to(REPO.resolve()):
        raise SecretError(M.bilingual("seeds_in_repo", path=path))
    if created and not path.exists():
        _create(path, say)
    for _ in range(50):  # another grader on this machine may be writing it this instant
        try:
            value = path.read_bytes().strip()
        except OSError as exc:
            raise SecretError(M.bilingual("seeds_unreadable", path=path, error=exc)) from None
        if value or not created:
            break
        time.sleep(0.1)
    return _checked(value, path)


def _create(path: Path, say) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32) + "\n"
    try:  # O_EXCL: of two shards starting together, one creates it and both use it
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret)
    say(M.bilingual("seeds_created", path=path))


def _checked(value: bytes, where: object) -> bytes:
    if len(value) < 16:
        raise SecretError(M.bilingual("seeds_too_short", path=where))
    return value
