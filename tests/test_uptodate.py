"""A rebuild with nothing changed stops after a stat of every input and output (build/uptodate.py),
and anything that could change out/ takes the full build."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.build import outdir, uptodate
from publisher.build.pipeline import build
from publisher.build.records import LAST_BUILD
from publisher.config import Config, load_config

from .conftest import ROOT, SEEDS


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The seeds (one of them has a warning) with a theme of their own, built once. Files made in the
    last seconds are not trusted by their stat (see RACY_SECONDS); here every edit changes a size
    or an inode, so the tests need not wait."""
    monkeypatch.setattr(uptodate, "RACY_SECONDS", 0.0)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copytree(ROOT / "templates", tmp_path / "theme")
    text = (
        (ROOT / "publisher.toml").read_text(encoding="utf-8").replace('# templates = "my-theme"', 'templates = "theme"')
    )
    (tmp_path / "publisher.toml").write_text(text, encoding="utf-8")
    loaded = load_config(tmp_path / "publisher.toml")
    build(loaded)
    return loaded


def summary(config: Config) -> uptodate.Summary | None:
    return uptodate.up_to_date(config, uptodate.inputs(config))


def test_a_second_build_is_answered_from_the_record(config: Config):
    found = summary(config)
    assert found is not None
    assert (found.digests, found.entries, found.topics) == (5, 39, 36)
    assert found.files == sum(len(files) for _, _, files in os.walk(config.paths.out))
    assert len(found.warnings) == 1
    assert found.warnings[0].endswith('seeds/004_f9af681dc4e1b8fc.txt:35: dropped "a" from the tag line: not a #tag')


def edit_digest(config: Config) -> None:
    path = config.paths.seeds / "000_05ad73aa49aa7872.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("a", "b", 1), encoding="utf-8")  # the same size: the change time tells


def add_digest(config: Config) -> None:
    source = (config.paths.seeds / "000_05ad73aa49aa7872.txt").read_text(encoding="utf-8")
    (config.paths.seeds / "new.txt").write_text(
        source.replace("2024년 7월 25일", "2019년 1월 1일", 1), encoding="utf-8"
    )


def remove_digest(config: Config) -> None:
    (config.paths.seeds / "001_79b7e80049c25ed0.txt").unlink()


def edit_template(config: Config) -> None:
    path = config.paths.templates / "site" / "base.html"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")


def edit_output(config: Config) -> None:
    path = config.paths.out / "feed.xml"
    path.write_bytes(path.read_bytes().replace(b"<rss", b"<rss ", 1))


def remove_output(config: Config) -> None:
    next((config.paths.out / "issues").rglob("index.html")).unlink()


def add_output(config: Config) -> None:
    (config.paths.out / "stray.html").write_text("left by hand", encoding="utf-8")


@pytest.mark.parametrize(
    "change",
    [edit_digest, add_digest, remove_digest, edit_template, edit_output, remove_output, add_output],
)
def test_any_change_to_an_input_or_output_takes_the_full_build(config: Config, change):
    change(config)
    assert summary(config) is None
    report = build(config)
    assert report.write.added or report.write.changed or report.write.removed
    assert summary(config) is not None  # and the full build records the new state


def test_another_config_or_out_folder_takes_the_full_build(config: Config, tmp_path: Path):
    retitled = dataclasses.replace(config, site=dataclasses.replace(config.site, title="Other"))
    assert summary(retitled) is None
    assert summary(config.with_paths(out=tmp_path / "elsewhere")) is None


def test_inputs_touched_just_before_a_build_are_compared_by_content(config: Config, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(uptodate, "RACY_SECONDS", 3600.0)  # as if every input had just been saved
    build(config)
    record_path = uptodate.out_record(config, "uptodate")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    digests = [pair for pair in record["racy"] if "/seeds/" in pair[0]]
    assert len(digests) == 5
    assert summary(config) is not None  # their contents are as recorded
    # A digest rewritten within the clock tick of the recorded stat keeps that stat: its content tells.
    digests[0][1] = "0" * 64
    record_path.write_text(json.dumps(record), encoding="utf-8")
    assert summary(config) is None


def test_strict_builds_with_warnings_take_the_full_build(config: Config):
    assert uptodate.up_to_date(config, uptodate.inputs(config), strict=True) is None


def test_a_build_that_leaves_the_search_index_behind_records_nothing(config: Config):
    edit_digest(config)
    assert build(config, index_search=False).search_pending
    assert summary(config) is None
    build(config)
    assert summary(config) is not None


def test_a_build_writing_the_folder_keeps_the_answer_for_itself(config: Config):
    descriptor = outdir.lock(config.paths.out)
    try:
        assert summary(config) is None
    finally:
        os.close(descriptor)
    assert summary(config) is not None


def test_ping_hears_that_an_answered_build_changed_nothing(config: Config):
    edit_digest(config)
    build(config)
    record = json.loads((config.paths.cache / LAST_BUILD).read_text(encoding="utf-8"))
    assert record["changed"]
    assert summary(config) is not None
    record = json.loads((config.paths.cache / LAST_BUILD).read_text(encoding="utf-8"))
    assert (record["added"], record["changed"], record["removed"]) == ([], [], [])
    assert record["tree"] == outdir.tree_of(config.paths.out)


PROBE = """
import sys
from publisher.cli.main import main
try:
    main(["build"])
except SystemExit:
    heavy = ("publisher.digests.parse", "publisher.render.templating", "publisher.build.pipeline", "jinja2", "lxml")
    loaded = sorted(name for name in sys.modules if name.startswith(heavy))
    print("loaded:", loaded, file=sys.stderr)
    raise
"""


def test_the_command_answers_without_loading_the_renderers(tmp_path: Path):
    """Through the command as a writer types it: the same lines as a full build that changed
    nothing (warnings included), without the pipeline or a template engine being loaded."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copy(ROOT / "publisher.toml", tmp_path / "publisher.toml")
    command = [sys.executable, "-c", PROBE]
    first = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "loaded: []" not in first.stderr
    for record in (tmp_path / ".publisher-cache").glob("uptodate-*.json"):
        record.unlink()  # without it: the full build that finds nothing to do, and records again
    full = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
    answered = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "loaded: []" not in full.stderr
    assert "loaded: []" in answered.stderr
    assert answered.stderr.replace("loaded: []\n", "") == full.stderr.split("loaded:")[0]
    assert "dropped" in answered.stderr

    def without_seconds(line: str) -> str:
        return line.rsplit(" in ", 1)[0]

    assert without_seconds(answered.stdout) == without_seconds(full.stdout)
    assert "0 written" in answered.stdout and ", 0 removed" in answered.stdout
