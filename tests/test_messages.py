import re

import pytest

from grader.checks import exercises
from grader.checks import messages as M

CJK = re.compile(r"[\u4e00-\u9fff]")


def _all_entries():
    import importlib
    import pkgutil

    import grader

    exercises.all_exercises()  # modules register their own messages on import
    # every module of every sub-package (grader.record.collect, …), not only the top level
    for info in pkgutil.walk_packages(grader.__path__, "grader."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)

    return sorted(M.CATALOGUE.items())


@pytest.mark.parametrize("key,entry", _all_entries())
def test_message_has_both_languages(key, entry):
    assert entry.en.strip() and entry.zh.strip(), key
    assert CJK.search(entry.zh), f"{key}: the Chinese text has no Chinese characters"
    assert not CJK.search(entry.en), f"{key}: the English text has Chinese characters"


@pytest.mark.parametrize("key,entry", _all_entries())
def test_message_placeholders_match(key, entry):
    assert M.placeholders(entry.en) == M.placeholders(entry.zh), key


def test_register_refuses_a_conflicting_definition():
    M.register({"test_only_key": ("a", "甲")})
    with pytest.raises(ValueError):
        M.register({"test_only_key": ("b", "乙")})


def test_every_exercise_title_is_bilingual():
    for ident, spec in exercises.all_exercises().items():
        assert spec.title_en and CJK.search(spec.title_zh), ident


def test_every_exercise_module_loads():
    exercises.all_exercises()
    assert not exercises.LOAD_ERRORS, exercises.LOAD_ERRORS
