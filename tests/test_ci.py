"""`.ci/run` runs the README's two commands as they are written, and shellcheck finds nothing in the
CI scripts. (That they pass on a fresh machine is what `.ci/run` itself proves on every submission.)"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [ROOT / ".ci" / "run", ROOT / "tests" / "setup.sh"]


def readme_commands() -> list[str]:
    """The commands of the README's "Two commands" block (its comment lines left out)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^## Two commands\n.*?^```sh\n(.*?)^```", readme, re.S | re.M)
    assert block, "README.md has no ```sh block under ## Two commands"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_ci_runs_both_readme_commands_unchanged():
    commands = readme_commands()
    assert commands == ["python3 -m pip install . && publisher build", "bash tests/setup.sh && python3 -m pytest"]
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in script.splitlines() if not line.lstrip().startswith("#")]
    for command in commands:
        assert command in lines


def test_shellcheck_finds_nothing_in_the_ci_scripts():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: bash tests/setup.sh installs it"
    result = subprocess.run([shellcheck, *map(str, SCRIPTS)], capture_output=True, text=True, check=False, timeout=60)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
