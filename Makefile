# Persephone: make targets. `make help` lists them.
SHELL := /bin/bash
SWIFT ?= swift
DEB_PACKAGES := libpng-dev libzstd-dev zstd zlib1g-dev libopenblas-dev pkg-config dataset-fashion-mnist gnuplot-nox
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/release/persephone

.PHONY: help deps build release test bench reproduce import-fashion-mnist clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

deps: ## install the Debian packages a fresh machine lacks (idempotent, quiet when all present)
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: ## debug build
	$(SWIFT) build

release: ## optimised build, used for anything timed
	$(SWIFT) build -c release

test: ## run the whole test suite
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: release ## engine benchmark (prints figures; see docs/benchmarks.md)
	$(BIN) bench

import-fashion-mnist: release ## import the Debian package's Fashion-MNIST into datasets/fashion-mnist
	$(BIN) datasets import fashion-mnist

reproduce: ## run every experiment of the paper and regenerate results/
	@echo "make reproduce: the experiments are not built yet (see README.md, 'Status')." >&2; exit 1

clean:
	rm -rf .build
