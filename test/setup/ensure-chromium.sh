#!/usr/bin/env bash
# The HTML report is tested in a real browser: Debian's Chromium, driven by playwright-core.
# Installs it when it is missing and this machine can (root with apt-get); otherwise says how.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests (one time)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser tests need Chromium at /usr/bin/chromium: install Debian's package with 'sudo apt-get install chromium'." >&2
exit 1
