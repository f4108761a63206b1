#!/bin/sh
# worker-agent installer for Linux and macOS. Installs one binary for the current user; no
# root needed. Usage:
#   curl -fsSL https://github.com/finetunelab/worker-agent/releases/latest/download/install.sh | sh
# Checks: the binary must match the release's SHA256SUMS; when `cosign` is on PATH, SHA256SUMS
# must verify against its Sigstore bundle, signed by this repository's release workflow (without
# cosign it says so plainly). A binary the release marks unsigned (`…-unsigned`, no Apple
# signature) is refused unless WORKER_AGENT_ALLOW_UNSIGNED=1.
# Environment:
#   WORKER_AGENT_VERSION        release tag to install (default: latest)
#   WORKER_AGENT_DOWNLOAD_URL   base URL holding the binaries and SHA256SUMS (default: GitHub releases)
#   WORKER_AGENT_INSTALL_DIR    where the binary goes (default: ~/.local/bin)
#   WORKER_AGENT_ALLOW_UNSIGNED 1 installs a binary the release marks unsigned
#   WORKER_AGENT_SKIP_COSIGN    1 skips the cosign check even when cosign is installed
set -eu

version="${WORKER_AGENT_VERSION:-latest}"
repo="https://github.com/finetunelab/worker-agent/releases"
if [ "$version" = "latest" ]; then default_base="$repo/latest/download"; else default_base="$repo/download/$version"; fi
base="${WORKER_AGENT_DOWNLOAD_URL:-$default_base}"
dir="${WORKER_AGENT_INSTALL_DIR:-$HOME/.local/bin}"

fail() { echo "install.sh: $*" >&2; exit 1; }

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) fail "unsupported OS $(uname -s); on Windows use install.ps1" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "unsupported CPU $(uname -m)" ;;
esac
file="worker-agent-$os-$arch"

fetch() { # fetch URL DEST
  case "$1" in
    file://*) cp "${1#file://}" "$2" ;;
    *)
      if command -v curl >/dev/null 2>&1; then curl -fsSL --proto '=https' --tlsv1.2 -o "$2" "$1"
      elif command -v wget >/dev/null 2>&1; then wget -q --https-only -O "$2" "$1"
      else fail "need curl or wget"; fi ;;
  esac
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

identity="^https://github.com/finetunelab/worker-agent/\.github/workflows/release\.yml@refs/tags/v"
issuer="https://token.actions.githubusercontent.com"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" || fail "download of SHA256SUMS failed"

if [ "${WORKER_AGENT_SKIP_COSIGN:-}" = 1 ]; then
  echo "Skipping the cosign check of SHA256SUMS (WORKER_AGENT_SKIP_COSIGN=1)."
elif command -v cosign >/dev/null 2>&1; then
  fetch "$base/SHA256SUMS.cosign.bundle" "$tmp/SHA256SUMS.cosign.bundle" \
    || fail "cosign is installed but the release has no SHA256SUMS.cosign.bundle; nothing was installed (WORKER_AGENT_SKIP_COSIGN=1 skips this check)"
  cosign verify-blob --bundle "$tmp/SHA256SUMS.cosign.bundle" \
    --certificate-identity-regexp "$identity" --certificate-oidc-issuer "$issuer" \
    "$tmp/SHA256SUMS" >"$tmp/cosign.log" 2>&1 \
    || { cat "$tmp/cosign.log" >&2; fail "cosign could not verify SHA256SUMS against the release workflow's signature; nothing was installed"; }
  echo "Verified SHA256SUMS with cosign: signed by the worker-agent release workflow."
else
  echo "cosign is not installed: SHA256SUMS was NOT checked against the release's signature, only the binary against SHA256SUMS. Install cosign to check it (https://docs.sigstore.dev)."
fi

entry() { awk -v f="$1" '$2 == f || $2 == "*"f { print $1 }' "$tmp/SHA256SUMS"; }
want=$(entry "$file")
if [ -z "$want" ] && [ -n "$(entry "$file-unsigned")" ]; then
  [ "${WORKER_AGENT_ALLOW_UNSIGNED:-}" = 1 ] \
    || fail "this release's $os binary is unsigned ($file-unsigned: it was built without the platform signing key); set WORKER_AGENT_ALLOW_UNSIGNED=1 to install it anyway"
  echo "Installing the UNSIGNED $file-unsigned (WORKER_AGENT_ALLOW_UNSIGNED=1)."
  file="$file-unsigned"
  want=$(entry "$file")
fi
[ -n "$want" ] || fail "SHA256SUMS has no entry for $file"
echo "Downloading $file from $base"
fetch "$base/$file" "$tmp/$file" || fail "download of $file failed"
got=$(sha256 "$tmp/$file")
[ "$want" = "$got" ] || fail "checksum mismatch for $file (expected $want, got $got); nothing was installed"

mkdir -p "$dir"
chmod 0755 "$tmp/$file"
mv "$tmp/$file" "$dir/worker-agent"
echo "Installed $dir/worker-agent ($("$dir/worker-agent" version 2>/dev/null || echo "version unknown"))"
case ":$PATH:" in *":$dir:"*) ;; *) echo "Add $dir to your PATH to run worker-agent by name." ;; esac
echo "Next: worker-agent init   (writes the config and asks for your worker API key)"
echo "      worker-agent run     (or: worker-agent service install, to start it at login)"
