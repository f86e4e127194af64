#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine: the package with its test extra (into the
# Python that `python3` is: CI's fresh virtual environment, or yours), and the Debian packages below,
# system-wide. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Debian packages the tests use. A test that needs another program or server adds it here.
DEBIAN_PACKAGES=(
  chromium    # the browser tests (Playwright drives it; it never downloads a browser of its own)
  fonts-nanum # Korean text in the browser tests' screenshots
  shellcheck  # actionlint checks the workflow's `run:` scripts with it, as on GitHub's runners
  postgresql  # the store's second engine: the tests start a temporary cluster of their own (initdb)
  default-jre-headless # Java, for the Nu HTML Checker (vnu.jar, from tests/package.json)
  npm         # installs tests/package.json: vnu-jar and axe-core
  dovecot-imapd # the IMAP server the bounce tests start on 127.0.0.1 (tests/imap_server.py)
)

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# A package counts as there when dpkg has it installed, or when a command of its name is on PATH
# (GitHub's Ubuntu runners bring their own Chromium; Ubuntu packages it only as a snap).
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' \
    && ! command -v "$package" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  # Wait for another apt-get (a shared machine) instead of failing at once.
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi

# The checkers of tests/package.json (vnu-jar, axe-core), at the versions of its package-lock.json,
# into tests/node_modules. --ignore-scripts: vnu-jar's install script would fetch a Java of its own.
if [ ! -f tests/node_modules/vnu-jar/build/dist/vnu.jar ] || [ ! -f tests/node_modules/axe-core/axe.min.js ]; then
  npm ci --prefix tests --ignore-scripts --no-audit --no-fund --loglevel=error
fi
