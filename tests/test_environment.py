"""pyproject.toml and environment.yml must list the same packages at the same versions."""

import re
import tomllib

from grader.paths import REPO


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    project = data["project"]
    pins = {}
    for spec in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name, version = spec.split("==")
        pins[name.lower()] = version
    return pins


def _environment() -> dict[str, str]:
    pins = {}
    for line in (REPO / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s*-\s*([A-Za-z0-9_.-]+)\s*(==|=)\s*([0-9][^\s#]*)", line)
        if match and match.group(1) != "python":
            pins[match.group(1).lower()] = match.group(3)
    return pins


def test_every_pinned_package_is_in_both_files_with_the_same_version():
    assert _pyproject() == _environment()


def test_torch_is_pinned_to_the_cpu_release():
    assert _pyproject()["torch"] == "2.13.0"
