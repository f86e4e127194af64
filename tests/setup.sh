#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine: the package with its test extra, Debian's
# Chromium and a Korean font for the browser tests, and shellcheck (actionlint uses it on the
# workflow's scripts, as on GitHub's runners). Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
if ! command -v chromium >/dev/null 2>&1 || ! command -v shellcheck >/dev/null 2>&1 \
  || ! fc-list 2>/dev/null | grep -qi nanum; then
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-nanum shellcheck >/dev/null
fi
