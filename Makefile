# worker-agent: build, test and package. Every target runs a deno task (deno.json is the one
# source of truth, so `make test` and `deno task test` are the same thing). On a machine
# without deno, scripts/deno.sh first installs Deno 2.9 through npm.
#
# Binaries and packages land in dist/. `deno compile` downloads the Deno runtime for each
# target the first time (from dl.deno.land).

DENO := sh scripts/deno.sh

.PHONY: help build build-all build-windows build-macos build-linux installers test lint demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed -E 's/^([a-z-]+):.*## /  make \1\t/'

build: ## the agent for this machine: dist/worker-agent-<os>-<arch>
	$(DENO) task build

build-all: ## the agent for every OS and CPU, and the control plane for Linux
	$(DENO) task build:all

build-windows: ## dist/worker-agent-windows-x64.exe
	$(DENO) task build:windows

build-macos: ## dist/worker-agent-darwin-{x64,arm64}
	$(DENO) task build:macos

build-linux: ## dist/worker-agent-linux-{x64,arm64} and dist/ftl-control-plane-linux-*
	$(DENO) task build:linux

installers: ## .deb, NSIS setup and .pkg (dry run off macOS) for the binaries in dist/
	$(DENO) task installers

test: ## fmt, lint, type check, unit, end-to-end and browser tests
	$(DENO) task test

lint: ## deno lint
	$(DENO) task lint

demo: ## control plane + agent on this machine; prints the dashboard URL
	$(DENO) task demo

clean: ## remove dist/
	$(DENO) task clean
