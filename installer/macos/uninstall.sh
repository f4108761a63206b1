#!/bin/sh
# Removes worker-agent installed by the .pkg: stops and removes the login user's LaunchAgent,
# the binary and this script, and forgets the package receipt. The config and state stay
# unless --purge is given.
#
# Usage: sudo /usr/local/share/worker-agent/uninstall.sh [--purge] [--dry-run]
#   --dry-run prints every command it would run and runs none.
set -eu

label="ai.finetunelab.worker-agent"
purge="" dry_run=""
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    --dry-run) dry_run=1 ;;
    *) echo "uninstall.sh: unknown argument $arg (usage: [--purge] [--dry-run])" >&2; exit 2 ;;
  esac
done

run() {
  if [ -n "$dry_run" ]; then
    printf '+'
    for word in "$@"; do printf ' %s' "$word"; done
    printf '\n'
  else
    "$@"
  fi
}

# The user whose LaunchAgent to remove: the one who ran sudo, else the current one.
user=${SUDO_USER:-$(id -un)}
uid=$(id -u "$user")
home=$(eval echo "~$user")
if [ -z "$dry_run" ] && [ "$(id -u)" != 0 ]; then
  echo "uninstall.sh: run it with sudo (it removes files from /usr/local)" >&2
  exit 1
fi

run launchctl bootout "gui/$uid/$label" || true
run rm -f "$home/Library/LaunchAgents/$label.plist"
run rm -f /usr/local/bin/worker-agent
run rm -rf /usr/local/share/worker-agent
run pkgutil --forget "$label" || true
if [ -n "$purge" ]; then
  run rm -rf "$home/Library/Application Support/FineTuneLab/worker-agent" \
    "$home/Library/Logs/FineTuneLab/worker-agent"
  echo "Removed worker-agent, its config and its state."
else
  echo "Removed worker-agent. Kept the config in $home/Library/Application Support/FineTuneLab/worker-agent (--purge removes it)."
fi
