#!/bin/sh
# Builds the worker-agent Debian package around a compiled binary:
#   /usr/bin/worker-agent, the systemd user unit in /usr/lib/systemd/user/, docs,
#   copyright and changelog. No maintainer scripts: every user enables the service for
#   themselves (systemctl --user enable --now finetunelab-worker-agent).
#
# Usage: build_deb.sh --binary PATH --version X.Y.Z --arch amd64|arm64 [--out DIR]
# Environment: SOURCE_DATE_EPOCH fixes the changelog date and file times (reproducible).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
binary="" version="" arch="" out="dist"

fail() { echo "build_deb.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --arch) arch=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    *) fail "unknown argument $1 (usage: --binary PATH --version X.Y.Z --arch amd64|arm64 [--out DIR])" ;;
  esac
done
[ -f "$binary" ] || fail "--binary must name the compiled worker-agent (got '$binary')"
printf '%s' "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+([~+.-][0-9A-Za-z.~+-]+)?$' \
  || fail "--version must look like 1.2.3 (got '$version')"
case "$arch" in amd64 | arm64) ;; *) fail "--arch must be amd64 or arm64 (got '$arch')" ;; esac
command -v dpkg-deb >/dev/null 2>&1 || fail "dpkg-deb is missing (Debian package dpkg)"

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH="$epoch"

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT INT TERM
doc="$root/usr/share/doc/worker-agent"

install -D -m 0755 "$binary" "$root/usr/bin/worker-agent"
install -D -m 0644 "$here/finetunelab-worker-agent.service" \
  "$root/usr/lib/systemd/user/finetunelab-worker-agent.service"
install -D -m 0644 "$here/copyright" "$doc/copyright"
install -D -m 0644 "$repo/docs/install.md" "$doc/install.md"
install -D -m 0644 "$repo/configs/config.example.yaml" "$doc/examples/config.example.yaml"
mkdir -p "$root/usr/share/man/man1"
gzip -9n < "$here/worker-agent.1" > "$root/usr/share/man/man1/worker-agent.1.gz"
chmod 0644 "$root/usr/share/man/man1/worker-agent.1.gz"
install -D -m 0644 "$here/worker-agent.lintian-overrides" \
  "$root/usr/share/lintian/overrides/worker-agent"
{
  echo "worker-agent ($version) unstable; urgency=medium"
  echo
  echo "  * Release $version; notes:"
  echo "    https://github.com/finetunelab/worker-agent/releases/tag/v$version"
  echo
  echo " -- FineTuneLab <support@finetunelab.ai>  $(LC_ALL=C date -u -R -d "@$epoch")"
} | gzip -9n > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

size=$(du -k -s "$root/usr" | cut -f1)
mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<CONTROL
Package: worker-agent
Version: $version
Architecture: $arch
Maintainer: FineTuneLab <support@finetunelab.ai>
Installed-Size: $size
Depends: libc6 (>= 2.27)
Section: net
Priority: optional
Homepage: https://github.com/finetunelab/worker-agent
Description: FineTuneLab worker agent
 Connects this machine to the FineTuneLab platform over outbound HTTPS and
 one WebSocket: reports system metrics and runs only the commands the local
 configuration allows, each signed by the server.
 .
 Each user runs it as a systemd user service:
 systemctl --user enable --now finetunelab-worker-agent
CONTROL

find "$root" -exec touch -h -d "@$epoch" {} +
mkdir -p "$out"
deb="$out/worker-agent_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
