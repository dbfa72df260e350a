#!/bin/sh
# A step of `pnpm test`: the dashboard's browser tests (test/web-dashboard*.test.ts) drive
# Debian's Chromium through playwright-core. Installs it when missing, as root; anyone else
# gets the command to run, and the tests do not start (a browser test skipped in silence would
# pass a suite that never opened the dashboard). POLLMASTERS_CHROMIUM names another binary.
set -eu

chromium=${POLLMASTERS_CHROMIUM:-/usr/bin/chromium}

if [ -x "$chromium" ]; then
  exit 0
fi

if [ -n "${POLLMASTERS_CHROMIUM:-}" ] || [ "$(id -u)" -ne 0 ]; then
  echo "pnpm test: no Chromium at $chromium for the dashboard's browser tests; run: sudo apt-get update && sudo apt-get install -y chromium" >&2
  exit 1
fi

echo "pnpm test: installing chromium for the dashboard's browser tests (apt-get)" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

if [ ! -x "$chromium" ]; then
  echo "pnpm test: chromium is installed, yet $chromium is not there" >&2
  exit 1
fi
