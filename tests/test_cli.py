"""`publisher check` and the CLI's error handling, through the real command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, SEEDS, run_cli

BAD = Path(__file__).parent / "bad"
CASES = sorted(p.stem for p in BAD.glob("*.expected"))


def publisher(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_check_on_the_seeds_reports_digests_and_the_one_warning(project: Path):
    result = publisher("check", cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("2024-07-25    6 entries  #safety #alignment #rlaif")
    assert result.stderr == 'seeds/004_f9af681dc4e1b8fc.txt:35: dropped "a" from the tag line: not a #tag\n'


def test_check_strict_fails_on_the_warning(project: Path):
    assert publisher("check", "--strict", cwd=project).returncode == 1


def test_check_json_has_the_documented_shape_and_counts(project: Path):
    result = publisher("check", "--json", cwd=project)
    document = json.loads(result.stdout)
    assert set(document) == {"digests", "warnings", "errors"}
    digests = document["digests"]
    entries = [e for d in digests for e in d["entries"]]
    assert (len(digests), len(entries)) == (5, 39)
    assert len({t for e in entries for t in e["tags"]}) == 36
    assert set(digests[0]) == {"date", "source", "entries"}
    assert set(entries[0]) == {"title", "authors", "link", "abstract", "commentary", "tags", "topics", "anchor", "line"}
    assert all(not t.startswith("#") for e in entries for t in e["tags"])
    assert all(len(e["topics"]) == len(e["tags"]) for e in entries)  # the seeds spell each topic one way
    assert document["warnings"] == [
        {"path": "seeds/004_f9af681dc4e1b8fc.txt", "line": 35, "message": 'dropped "a" from the tag line: not a #tag'}
    ]
    assert document["errors"] == []


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_its_exact_message_and_exit_1(case: str, tmp_path: Path):
    seeds = tmp_path / "seeds"
    if (BAD / case).is_dir():
        shutil.copytree(BAD / case, seeds)
    else:
        seeds.mkdir()
        shutil.copy(BAD / f"{case}.txt", seeds)
    result = publisher("check", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (BAD / f"{case}.expected").read_text(encoding="utf-8")
    assert "Traceback" not in result.stderr


def test_one_bad_file_never_hides_the_others(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for case in CASES:
        if not (BAD / case).is_dir():
            shutil.copy(BAD / f"{case}.txt", seeds)
    shutil.copy(next(SEEDS.glob("000_*.txt")), seeds)
    result = publisher("check", "--json", cwd=tmp_path)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    reported = {f"{e['path']}:{e['line']}: {e['message']}" for e in document["errors"]}
    expected = {
        (BAD / f"{case}.expected").read_text(encoding="utf-8").strip() for case in CASES if not (BAD / case).is_dir()
    }
    assert reported == expected
    assert [d["date"] for d in document["digests"]] == ["2024-07-25"]  # those that parsed


def test_build_refuses_bad_input_and_writes_nothing(tmp_path: Path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    shutil.copy(BAD / "no-tag-line.txt", seeds)
    result = publisher("build", cwd=tmp_path)
    assert result.returncode == 1
    assert "seeds/no-tag-line.txt:7: entry" in result.stderr
    assert not (tmp_path / "out").exists()


def test_options_override_the_config(project: Path, tmp_path_factory: pytest.TempPathFactory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (project / "seeds").rename(elsewhere / "digests")
    result = publisher("build", "--seeds", str(elsewhere / "digests"), "--out", str(elsewhere / "site"), cwd=project)
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "site" / ".publisher-out").is_file()
    assert not (project / "out").exists()


def test_unknown_config_key_is_an_error_naming_key_and_line(project: Path):
    config = project / "publisher.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[web]\n", "[web]\npage_sise = 3\n"), encoding="utf-8")
    result = publisher("check", cwd=project)
    assert result.returncode == 1
    line = config.read_text(encoding="utf-8").splitlines().index("page_sise = 3") + 1
    assert result.stderr == f'publisher.toml:{line}: web.page_sise: unknown key (did you mean "page_size"?)\n'


def test_missing_config_file_is_a_clean_error(project: Path):
    result = publisher("check", "--config", "nope.toml", cwd=project)
    assert (result.returncode, result.stderr) == (1, "nope.toml: config file not found\n")


def test_every_command_documents_its_options():
    for command in ("check", "build"):
        text = run_cli(command, "--help").output
        for option in ("--config", "--seeds", "--out"):
            assert option in text
    assert "Publish dated research digests" in run_cli("--help").output


def test_python_dash_m_and_console_script_agree():
    result = subprocess.run([sys.executable, "-m", "publisher", "--version"], capture_output=True, text=True)
    assert result.stdout.strip().startswith("publisher, version")
    assert shutil.which("publisher"), "the console script is installed by pip install"
    script = subprocess.run(["publisher", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert script.stdout == result.stdout


def test_the_command_raises_the_collectors_thresholds(project):
    """A build holds millions of long-lived objects: the command makes the collector scan them less
    often (a quarter of a one-digest build at 12,200 digests went to collections)."""
    import gc

    before = gc.get_threshold()
    try:
        assert run_cli("check").exit_code == 0
        assert gc.get_threshold() == (200_000, 30, 30)
    finally:
        gc.set_threshold(*before)
