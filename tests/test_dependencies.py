"""Every import is declared in pyproject.toml: the program's among the runtime dependencies, the tests'
and benchmarks' among those or the test extra.

A fresh machine has only what pyproject.toml installs. An import that works here only because a
package was installed by hand, or because another dependency happens to pull it in today, breaks
there (`.ci/run` proves the rest in a new virtual environment).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOCAL = {"publisher", "tests", "bench"}  # the repository's own top-level packages


def distribution_name(name: str) -> str:
    """A distribution's normalised name (PEP 503): `Jinja2`, `python_dateutil` → `jinja2`, `python-dateutil`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    return {distribution_name(re.split(r"[\s\[<>=!~;(]", r, maxsplit=1)[0]) for r in requirements}


RUNTIME = declared(PROJECT["dependencies"])
TEST = RUNTIME | declared(PROJECT["optional-dependencies"]["test"])


def third_party_imports(folder: Path) -> dict[str, str]:
    """Each top-level module that the Python files under `folder` import, outside the standard library
    and the repository, with the first place (`path:line`) that imports it."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.setdefault(top, f"{path.relative_to(folder.parent)}:{node.lineno}")
    return found


def undeclared(folders: list[Path], allowed: set[str]) -> list[str]:
    """One line for each imported module that no distribution in `allowed` provides."""
    providers = importlib.metadata.packages_distributions()
    problems = []
    for folder in folders:
        for module, where in sorted(third_party_imports(folder).items()):
            installed = sorted({distribution_name(d) for d in providers.get(module, [])})
            if not set(installed) & allowed:
                source = ", ".join(installed) or "no installed distribution"
                problems.append(f"{where}: imports {module} ({source}), which pyproject.toml does not declare")
    return problems


def test_the_program_imports_only_its_runtime_dependencies():
    assert undeclared([ROOT / "publisher"], RUNTIME) == []


def test_the_tests_and_benchmarks_import_only_declared_packages():
    assert undeclared([ROOT / "tests", ROOT / "bench"], TEST) == []


def test_an_undeclared_import_is_reported_with_its_place(tmp_path: Path):
    program = tmp_path / "program"
    program.mkdir()
    (program / "a.py").write_text(
        "import os\nfrom . import b\nimport publisher.config\n"
        "import pytest\n"  # declared, but only in the test extra
        "from idna import encode\n"  # installed (email-validator pulls it in), yet declared nowhere
        "import not_installed_anywhere\n",
        encoding="utf-8",
    )
    end = "which pyproject.toml does not declare"
    idna = f"program/a.py:5: imports idna (idna), {end}"
    missing = f"program/a.py:6: imports not_installed_anywhere (no installed distribution), {end}"
    pytest_ = f"program/a.py:4: imports pytest (pytest), {end}"
    assert undeclared([program], RUNTIME) == [idna, missing, pytest_]
    assert undeclared([program], TEST) == [idna, missing]
