#!/usr/bin/env bash
# Installs systemd-analyze (Debian package `systemd`) for the service unit test: `verify` checks
# scripts/ollama-proxy.service and `security --offline=true` rates its sandbox. Nothing is started.
# Idempotent and quick when it is present.
set -euo pipefail

if command -v systemd-analyze >/dev/null 2>&1; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show systemd >/dev/null 2>&1; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends systemd >/dev/null

command -v systemd-analyze >/dev/null 2>&1 || { echo "systemd-analyze missing after install" >&2; exit 1; }
