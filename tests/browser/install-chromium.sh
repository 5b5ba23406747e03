#!/bin/sh
# Installs Debian's chromium and chromium-driver for tests/browser when they are missing.
# Idempotent and quiet: does nothing when both are on PATH. Installs only as root with
# apt-get; otherwise it says what is missing and exits 0, so the tests decide: they skip
# outside CI and fail under CI=true.
set -eu

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium.sh: missing:$missing (not root with apt-get; install them to run tests/browser)" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium.sh: installing$missing" >&2
apt-get update -qq >/dev/null
# fonts-noto-core: Arabic glyphs, so the pages render shaped Arabic in screenshots.
apt-get install -y -qq $missing fonts-noto-core >/dev/null
