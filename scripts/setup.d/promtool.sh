#!/usr/bin/env bash
# Installs promtool and the Prometheus server (Debian package `prometheus`) for the telemetry tests:
# `promtool check metrics` lints our exposition, and a real server scrapes it.
# Idempotent and quick when both are present. The package's service is not started.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && [ -x /usr/bin/prometheus ]; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Keep the daemon from starting at install time (no systemd in containers; we run our own instance).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

if ! apt-cache show prometheus >/dev/null 2>&1; then
  apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends prometheus >/dev/null

command -v promtool >/dev/null 2>&1 || { echo "promtool missing after install" >&2; exit 1; }
[ -x /usr/bin/prometheus ] || { echo "prometheus missing after install" >&2; exit 1; }
