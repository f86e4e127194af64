#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine: the package with its test extra, Debian's
# Chromium and a Korean font for the browser tests, shellcheck (actionlint uses it on the
# workflow's scripts, as on GitHub's runners), Java for the Nu HTML Checker, and the checkers of
# tests/package.json (vnu-jar, axe-core) into tests/node_modules. Safe to run again: it skips what is
# already there.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
if ! command -v chromium >/dev/null 2>&1 || ! command -v shellcheck >/dev/null 2>&1 \
  || ! fc-list 2>/dev/null | grep -qi nanum || ! command -v java >/dev/null 2>&1 \
  || ! command -v npm >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-nanum shellcheck \
    default-jre-headless npm >/dev/null
fi
# The versions in tests/package-lock.json; --ignore-scripts: vnu-jar's install script would fetch a Java.
if [ ! -f tests/node_modules/vnu-jar/build/dist/vnu.jar ] || [ ! -f tests/node_modules/axe-core/axe.min.js ]; then
  npm ci --prefix tests --ignore-scripts --no-audit --no-fund --loglevel=error
fi
