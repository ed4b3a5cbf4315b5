"""Reproducible installs: every package the code imports is declared, and locked."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {canonical(re.split(r"[\[<>=!~ ]", spec)[0]) for spec in project["dependencies"]}


def imported_top_level_modules() -> set[str]:
    modules = set()
    for source in (ROOT / "touchbase").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"touchbase"}


def test_every_package_the_code_imports_is_a_declared_dependency():
    distributions = packages_distributions()
    for module in sorted(imported_top_level_modules()):
        names = {canonical(name) for name in distributions.get(module, [module])}
        assert names & declared(), f"`import {module}` but none of {names} is in pyproject.toml"


def test_every_declared_dependency_is_pinned_in_both_lock_files():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        pinned = {
            canonical(line.split("==")[0])
            for line in (ROOT / lock).read_text().splitlines()
            if "==" in line
        }
        assert declared() <= pinned, f"{lock} misses {declared() - pinned}"
