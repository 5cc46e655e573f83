#!/usr/bin/env bash
# Install the headless browser used by tests/test_visualize_browser.py:
# Debian's chromium and chromium-driver. Does nothing when /usr/bin/chromium
# (or $KNOWCODER_CHROMIUM) is already there. Non-interactive; run as root or
# with passwordless sudo (CI images).
set -euo pipefail
if [ -n "${KNOWCODER_CHROMIUM:-}" ] && [ -x "${KNOWCODER_CHROMIUM}" ]; then
    echo "Using KNOWCODER_CHROMIUM=${KNOWCODER_CHROMIUM}"
    exit 0
fi
if [ -x /usr/bin/chromium ]; then
    echo "chromium is installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "install-browser.sh: need root (or sudo) to apt-get install chromium" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser.sh: apt-get not found; install Chromium and set KNOWCODER_CHROMIUM" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Package lists may be missing in slim images: update first, then install.
$SUDO apt-get update -y -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver \
    fonts-liberation fonts-dejavu-core
/usr/bin/chromium --version
