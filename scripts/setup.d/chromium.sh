#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests: a real browser decides whether a web page may
# call the router (CORS preflights, opaque cross-site posts, WebSocket handshakes).
# Idempotent and quick when it is present.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show chromium >/dev/null 2>&1; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends chromium >/dev/null

command -v chromium >/dev/null 2>&1 || { echo "chromium missing after install" >&2; exit 1; }
