#!/bin/sh
# Runs `deno ARGS…`. On a machine without deno it first installs Deno 2.9 through npm
# (`npm install -g deno@2.9.6`), so `make demo` and `make test` work on a fresh machine that
# has Node.js. The Makefile runs every target through this script.
set -eu

DENO_VERSION=2.9.6

if ! command -v deno >/dev/null 2>&1; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "deno.sh: deno is not installed, and npm is missing to install it: install Node.js (for npm) or Deno $DENO_VERSION, then run make again" >&2
    exit 127
  fi
  echo "deno.sh: deno not found; installing deno@$DENO_VERSION with npm" >&2
  if ! npm install -g "deno@$DENO_VERSION" >&2; then
    echo "deno.sh: \`npm install -g deno@$DENO_VERSION\` failed (see above)" >&2
    exit 1
  fi
  if ! command -v deno >/dev/null 2>&1; then
    prefix=$(npm prefix -g)
    PATH="$prefix/bin:$PATH"
    export PATH
    if ! command -v deno >/dev/null 2>&1; then
      echo "deno.sh: npm installed deno, but it is not in $prefix/bin; add npm's global bin folder to PATH" >&2
      exit 1
    fi
  fi
  echo "deno.sh: using $(deno --version | head -n 1)" >&2
fi
exec deno "$@"
