"""The built wheel carries the default theme and renders the same output without the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, SEEDS


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(folder), str(ROOT)],
        check=True,
        timeout=300,
    )
    return next(folder.glob("publisher-*.whl"))


def test_wheel_ships_every_template(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = [p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()]
    assert templates
    assert {f"publisher/{t}" for t in templates} <= names


def test_wheel_builds_the_same_output_without_the_repository(wheel: Path, tmp_path: Path, built: Path):
    unpacked = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(unpacked)
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "build",
            "--config",
            str(ROOT / "publisher.toml"),
            "--seeds",
            str(SEEDS),
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "import publisher.render.templating as t; print(t.default_theme_dir())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip().startswith(str(unpacked))
    assert tree(out) == tree(built)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
