#!/usr/bin/env bash
# Installs what the D-Bus tests drive: a private dbus-daemon (dbus-daemon), busctl (systemd),
# gdbus (libglib2.0-bin), and python3-dbusmock with python3-gi, whose templates stand in for
# UPower, power-profiles-daemon and the notification daemon on private buses.
# Idempotent and quick when everything is present. The tests use /usr/bin/python3: a python3
# earlier on PATH may not see Debian's gi and dbusmock modules.
set -euo pipefail

have_all() {
  command -v dbus-daemon >/dev/null 2>&1 \
    && command -v busctl >/dev/null 2>&1 \
    && command -v gdbus >/dev/null 2>&1 \
    && /usr/bin/python3 -c 'import gi, dbusmock' >/dev/null 2>&1
}

if have_all; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Another installer may hold the dpkg lock for a while (other setup scripts, a parallel session).
wait_lock=(-o DPkg::Lock::Timeout=600)
if ! apt-cache show python3-dbusmock >/dev/null 2>&1; then
  apt-get "${wait_lock[@]}" update -qq
fi
apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends \
  dbus-daemon systemd libglib2.0-bin python3-gi python3-dbusmock >/dev/null

have_all || { echo "dbus-daemon, busctl, gdbus or python3-dbusmock missing after install" >&2; exit 1; }
