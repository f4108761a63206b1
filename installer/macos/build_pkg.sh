#!/bin/sh
# Builds the macOS installer package (.pkg) around a compiled worker-agent binary:
#   /usr/local/bin/worker-agent and /usr/local/share/worker-agent/uninstall.sh, with a
#   postinstall that prints the next steps. With signing identities in the environment the
#   binary is signed in place (hardened runtime) before packaging, the package is signed, notarized
#   and stapled; without them the package is built unsigned and its name says so.
#
# Usage: build_pkg.sh --binary PATH --version X.Y.Z --arch arm64|x64 [--out DIR] [--dry-run]
#   --dry-run prints every command it would run and runs none (works on any OS).
# Environment:
#   MACOS_APP_IDENTITY        "Developer ID Application: …" (signs the binary)
#   MACOS_INSTALLER_IDENTITY  "Developer ID Installer: …" (signs the package)
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD   notarytool credentials
set -eu

here=$(cd "$(dirname "$0")" && pwd)
identifier="ai.finetunelab.worker-agent"
binary="" version="" arch="" out="dist" dry_run=""

fail() { echo "build_pkg.sh: $*" >&2; exit 1; }
# run CMD...: runs it, or prints it under --dry-run.
run() {
  if [ -n "$dry_run" ]; then
    printf '+'
    for word in "$@"; do
      if [ -n "${APPLE_APP_PASSWORD:-}" ] && [ "$word" = "$APPLE_APP_PASSWORD" ]; then word="***"; fi
      printf ' %s' "$word"
    done
    printf '\n'
  else
    "$@"
  fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --arch) arch=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    *) fail "unknown argument $1 (usage: --binary PATH --version X.Y.Z --arch arm64|x64 [--out DIR] [--dry-run])" ;;
  esac
done
[ -f "$binary" ] || fail "--binary must name the compiled worker-agent (got '$binary')"
printf '%s' "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+' || fail "--version must look like 1.2.3 (got '$version')"
case "$arch" in
  arm64) host_arch=arm64 ;;
  x64) host_arch=x86_64 ;;
  *) fail "--arch must be arm64 or x64 (got '$arch')" ;;
esac
if [ -z "$dry_run" ]; then
  [ "$(uname -s)" = Darwin ] || fail "pkgbuild and productbuild need macOS; use --dry-run elsewhere"
fi

app_identity=${MACOS_APP_IDENTITY:-}
installer_identity=${MACOS_INSTALLER_IDENTITY:-}
signed=""
if [ -n "$app_identity" ] && [ -n "$installer_identity" ]; then
  signed=1
elif [ -n "$app_identity$installer_identity" ]; then
  fail "set both MACOS_APP_IDENTITY and MACOS_INSTALLER_IDENTITY, or neither (unsigned build)"
fi
notarize=""
if [ -n "$signed" ] && [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
  notarize=1
fi
[ -z "$signed" ] || [ -n "$notarize" ] || fail "a signed package must be notarized: set APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD"

suffix=""
[ -n "$signed" ] || suffix="-unsigned"
pkg="$out/worker-agent-$version-darwin-$arch$suffix.pkg"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
root="$work/root"

if [ -n "$signed" ]; then
  # Signed in place, so the standalone download and the package carry the same binary (and
  # notarizing the package covers both). V8 compiles JavaScript at run time: the hardened
  # runtime must allow JIT pages.
  run codesign --force --options runtime --timestamp --entitlements "$here/entitlements.plist" \
    --sign "$app_identity" "$binary"
  run codesign --verify --strict --verbose=2 "$binary"
fi
run mkdir -p "$root/usr/local/bin" "$root/usr/local/share/worker-agent" "$out"
run cp "$binary" "$root/usr/local/bin/worker-agent"
run chmod 0755 "$root/usr/local/bin/worker-agent"
run cp "$here/uninstall.sh" "$root/usr/local/share/worker-agent/uninstall.sh"
run chmod 0755 "$root/usr/local/share/worker-agent/uninstall.sh"
run pkgbuild --root "$root" --identifier "$identifier" --version "$version" \
  --install-location / --scripts "$here/scripts" "$work/worker-agent-component.pkg"

distribution="$work/distribution.xml"
if [ -z "$dry_run" ]; then
  cat > "$distribution" <<XML
<?xml version="1.0" encoding="utf-8"?>
<installer-gui-script minSpecVersion="2">
  <title>FineTuneLab worker agent $version</title>
  <options customize="never" require-scripts="false" hostArchitectures="$host_arch"/>
  <domains enable_localSystem="true" enable_anywhere="false" enable_currentUserHome="false"/>
  <choices-outline>
    <line choice="default"><line choice="$identifier"/></line>
  </choices-outline>
  <choice id="default"/>
  <choice id="$identifier" visible="false"><pkg-ref id="$identifier"/></choice>
  <pkg-ref id="$identifier" version="$version">worker-agent-component.pkg</pkg-ref>
</installer-gui-script>
XML
fi
if [ -n "$signed" ]; then
  run productbuild --distribution "$distribution" --package-path "$work" \
    --sign "$installer_identity" --timestamp "$pkg"
  run xcrun notarytool submit "$pkg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
    --password "$APPLE_APP_PASSWORD" --wait
  run xcrun stapler staple "$pkg"
  run pkgutil --check-signature "$pkg"
else
  run productbuild --distribution "$distribution" --package-path "$work" "$pkg"
  echo "build_pkg.sh: no signing identities: $pkg is UNSIGNED (Gatekeeper will refuse to open it by double-click)" >&2
fi
echo "$pkg"
