#!/usr/bin/env bash
# Installs what the GNOME Shell extension's tests drive: gjs (runs the extension's real ES modules
# against the daemon), gnome-shell (for `gnome-extensions pack`), GLib's compilers
# (glib-compile-resources for the shell stubs, glib-compile-schemas for the settings schema) and
# dbus-daemon (a private session bus per test). Idempotent and quick when all are present.
set -euo pipefail

have_all() {
  command -v gjs >/dev/null 2>&1 &&
    command -v gnome-extensions >/dev/null 2>&1 &&
    command -v glib-compile-resources >/dev/null 2>&1 &&
    command -v glib-compile-schemas >/dev/null 2>&1 &&
    command -v dbus-daemon >/dev/null 2>&1
}

if have_all; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# gnome-shell pulls in services whose install scripts try to start them; no init system runs here.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

# Another installer may hold the dpkg lock for a while (the other setup scripts, a parallel session).
wait_lock=(-o DPkg::Lock::Timeout=600)
if ! apt-cache show gnome-shell >/dev/null 2>&1; then
  apt-get "${wait_lock[@]}" update -qq
fi
apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends gjs gnome-shell libglib2.0-bin libglib2.0-dev-bin dbus >/dev/null

have_all || { echo "gjs, gnome-extensions, glib-compile-resources, glib-compile-schemas or dbus-daemon missing after install" >&2; exit 1; }
