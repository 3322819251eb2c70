"""The conda environment and pyproject.toml describe the same installation."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def _split(requirement: str) -> tuple[str, str]:
    name, spec = REQUIREMENT.match(requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "").replace("==", "=")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return dict(_split(r) for r in requirements)


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    found = {}
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            for pip_requirement in entry["pip"]:
                if not pip_requirement.startswith("-e"):
                    found.update([_split(pip_requirement)])
        else:
            found.update([_split(entry)])
    found.pop("pip")
    found.pop("python")
    return found


def test_environment_yml_and_pyproject_list_the_same_packages():
    pyproject, conda = _pyproject_requirements(), _conda_requirements()
    assert sorted(pyproject) == sorted(conda)


def test_environment_yml_and_pyproject_agree_on_versions():
    pyproject, conda = _pyproject_requirements(), _conda_requirements()
    mismatched = {
        name: (pyproject[name], conda[name]) for name in pyproject if pyproject[name] != conda[name]
    }
    assert mismatched == {}


def test_torch_is_optional_and_pinned_everywhere():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(_split(r)[0] == "torch" for r in project["dependencies"])
    assert _pyproject_requirements()["torch"] == "=2.13.0"
    assert _conda_requirements()["torch"] == "=2.13.0"
    for requirements_file in ROOT.glob("**/requirements*.txt"):
        for line in requirements_file.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#") and _split(line)[0] == "torch":
                assert _split(line)[1] == "=2.13.0", f"{requirements_file}: {line!r}"
