#!/bin/sh
# Signs Windows executables (the agent and its installer) with Authenticode through
# osslsigncode: SHA-256 digest and an RFC 3161 timestamp, so the signature outlives the
# certificate. Each FILE is replaced by its signed copy only when signing succeeded.
#
# Usage: authenticode.sh FILE...
# Environment (the certificate never comes from the command line):
#   AUTHENTICODE_PFX             path of the PKCS#12 file holding the certificate and key, or
#   AUTHENTICODE_PFX_BASE64      that file's content in base64 (a CI secret)
#   AUTHENTICODE_PASSWORD        its password (may be empty)
#   AUTHENTICODE_TIMESTAMP_URLS  RFC 3161 servers, tried in order
#                                (default: http://timestamp.digicert.com http://timestamp.sectigo.com)
#   AUTHENTICODE_NAME            description shown by Windows (default: FineTuneLab worker agent)
set -eu

fail() { echo "authenticode.sh: $*" >&2; exit 1; }

[ $# -gt 0 ] || fail "usage: authenticode.sh FILE..."
command -v osslsigncode >/dev/null 2>&1 || fail "osslsigncode is missing (Debian package osslsigncode)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
umask 077

if [ -n "${AUTHENTICODE_PFX_BASE64:-}" ]; then
  printf '%s' "$AUTHENTICODE_PFX_BASE64" | base64 -d > "$work/cert.pfx" \
    || fail "AUTHENTICODE_PFX_BASE64 is not valid base64"
  pfx="$work/cert.pfx"
elif [ -n "${AUTHENTICODE_PFX:-}" ]; then
  [ -r "$AUTHENTICODE_PFX" ] || fail "AUTHENTICODE_PFX ($AUTHENTICODE_PFX) cannot be read"
  pfx="$AUTHENTICODE_PFX"
else
  fail "no certificate: set AUTHENTICODE_PFX or AUTHENTICODE_PFX_BASE64"
fi
printf '%s' "${AUTHENTICODE_PASSWORD:-}" > "$work/password"

urls=${AUTHENTICODE_TIMESTAMP_URLS:-"http://timestamp.digicert.com http://timestamp.sectigo.com"}
name=${AUTHENTICODE_NAME:-FineTuneLab worker agent}

for file in "$@"; do
  [ -f "$file" ] || fail "$file does not exist"
  signed="$work/signed.exe"
  ok=""
  for url in $urls; do
    rm -f "$signed"
    if osslsigncode sign -pkcs12 "$pfx" -readpass "$work/password" -h sha256 \
      -n "$name" -i "https://github.com/finetunelab/worker-agent" \
      -ts "$url" -in "$file" -out "$signed" >"$work/log" 2>&1; then
      ok=1
      break
    fi
    echo "authenticode.sh: signing $file with timestamp server $url failed:" >&2
    cat "$work/log" >&2
  done
  [ -n "$ok" ] || fail "could not sign $file with any timestamp server ($urls)"
  cat "$signed" > "$file"
  echo "signed $file (SHA-256, RFC 3161 timestamp from $url)"
done
