"""The committed out/ is the published artifact: it must be exactly what the sources give.

CI runs this suite before `publisher build --check`, so a change to seeds, templates, config or
package that was not rebuilt (and committed) fails here, naming every file that is off.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .conftest import ROOT, run_cli


def test_the_repositorys_out_is_what_the_sources_give():
    result = run_cli("build", "--check", "--config", ROOT / "publisher.toml")
    assert result.exit_code == 0, f"out/ is stale: run `publisher build` and commit out/\n{result.output}"
    assert "is up to date" in result.output


def test_a_fresh_clone_passes_the_check(tmp_path: Path, monkeypatch):
    """No build cache, new modification times: the check compares bytes, nothing else."""
    for name in ("seeds", "out"):
        shutil.copytree(ROOT / name, tmp_path / name, copy_function=shutil.copy)  # copy: fresh mtimes
    shutil.copy(ROOT / "publisher.toml", tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--check", "-j", "1")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / ".publisher-cache" / "last-build.json").exists()  # a check records no build


def test_editing_a_seed_without_rebuilding_fails_naming_the_files(project: Path):
    assert run_cli("build", "-j", "1").exit_code == 0
    assert run_cli("build", "--check", "-j", "1").exit_code == 0
    seed = project / "seeds" / "001_79b7e80049c25ed0.txt"  # the digest of 2024-06-10
    seed.write_text(seed.read_text(encoding="utf-8").replace("#alignment", "#alignment #edited", 1), "utf-8")

    result = run_cli("build", "--check", "-j", "1")
    assert result.exit_code == 1
    lines = set(result.output.splitlines())
    for stale in ("issues/2024-06-10/index.html", "email/2024-06-10.html", "feed.xml", "atom.xml", "tags/index.html"):
        assert f"out/{stale}: stale (differs from a fresh build)" in lines
    assert "out/tags/edited/atom.xml: missing" in lines
    assert "out is not what the sources give: run `publisher build`" in lines
    assert not (project / "out" / "tags" / "edited").exists()  # the check wrote nothing

    assert run_cli("build", "-j", "1").exit_code == 0
    assert run_cli("build", "--check", "-j", "1").exit_code == 0


def test_a_removed_digest_leaves_extra_files_that_the_check_names(project: Path):
    assert run_cli("build", "-j", "1").exit_code == 0
    (project / "seeds" / "002_aa53cee447462583.txt").unlink()  # the digest of 2024-02-06
    result = run_cli("build", "--check", "-j", "1")
    assert result.exit_code == 1
    assert "out/issues/2024-02-06/index.html: extra (a fresh build does not make it)" in result.output
    assert (project / "out" / "issues" / "2024-02-06" / "index.html").exists()
