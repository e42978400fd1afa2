#!/usr/bin/env bash
# Installs the Debian packages drlkit's browser tests need: chromium (driven by
# Playwright through executable_path; no browser is ever downloaded by Playwright).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium
