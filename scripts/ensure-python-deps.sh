#!/bin/sh
# The first step of `pnpm test`: the Python compat test (test/compat-python.test.ts) drives the
# server as the desktop GUI does, with Debian's python3-socketio and python3-requests under
# /usr/bin/python3 (the `python3` first on PATH may be another install without them). Installs
# them when missing, as root; anyone else gets the command to run, and the tests do not start:
# a compat test skipped in silence would pass a suite that never checked the GUI's API.
set -eu

python=${POLLMASTERS_PYTHON:-/usr/bin/python3}
packages='python3-socketio python3-requests'

if "$python" -c 'import socketio, requests' 2>/dev/null; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "pnpm test: $python cannot import socketio and requests; run: sudo apt-get update && sudo apt-get install -y $packages" >&2
  exit 1
fi

echo "pnpm test: installing $packages for the Python compat test (apt-get)" >&2
apt-get update -qq
# Errors stay on stderr; the progress lines are dropped.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null

if ! "$python" -c 'import socketio, requests'; then
  echo "pnpm test: $packages are installed, yet $python still cannot import socketio and requests" >&2
  exit 1
fi
