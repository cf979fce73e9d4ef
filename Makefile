# One command runner for people and CI. `make help` lists the targets.
# Every target works on a fresh machine once `.ci/run`'s installs have run
# (or `make test`, which installs moto itself when it is missing).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
export CARGO_TERM_COLOR ?= never
ARM64_BIN := target/aarch64-unknown-linux-gnu/release/bootstrap

.PHONY: help run test test-unit test-service test-blackbox test-browser fmt lint ci \
        build build-arm64 check-al2023 test-arm64 repro zip \
        nix-check source-set-check template-check docker-lint workflow-lint fuzz audit bench

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

run: ## the service on 127.0.0.1:3000, in-memory store, mail to the log
	cargo run

test: ## the three test tiers: unit, service, black-box (release binary + moto)
	bash ci/test.sh

test-unit: ## unit tests beside the code, both packages
	cargo test --workspace --lib

test-service: ## the app in memory with real event fixtures (tests/api)
	cargo test --test api

test-blackbox: build ## the release bootstrap through the Runtime API against moto
	bash ci/test.sh blackbox

test-browser: ## the widget, the example site and the owner's console in headless Chromium (needs ci/install.d/60-browser.sh)
	cargo build --bin bootstrap
	[ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	cd tests/browser && node --test --test-concurrency=1 --test-reporter=spec widget.test.mjs console.test.mjs

build: ## the release bootstrap for this machine (the root package: what ships)
	cargo build --release

fmt: ## formatting check
	cargo fmt --all --check

lint: ## clippy on both packages, warnings are errors
	cargo clippy --workspace --all-targets -- -D warnings

build-arm64: ## cross-compile the shipped aarch64 bootstrap
	bash ci/build-arm64.sh

check-al2023: ## the aarch64 binary loads on Amazon Linux 2023 (glibc <= 2.34)
	bash ci/check-al2023.sh $(ARM64_BIN)

test-arm64: build-arm64 ## the black-box suite against the aarch64 binary under qemu
	bash ci/test.sh blackbox-arm64

repro: ## two builds in different places give identical aarch64 binaries
	bash ci/repro.sh

zip: build-arm64 check-al2023 ## bootstrap.zip for a Runtime: provided.al2023 zip deployment
	bash ci/zip.sh $(ARM64_BIN)

nix-check: ## parse and lint the Nix files, validate flake.lock
	bash ci/nix-check.sh

source-set-check: ## the crate compiles from exactly the files the flake's source sets keep
	python3 ci/source-set-check.py --self-test
	python3 ci/source-set-check.py

template-check: ## cfn-lint, SAM translation, template/code agreement, README item kinds
	bash ci/template-check.sh

docker-lint: ## hadolint on the Dockerfile
	bash ci/docker-lint.sh

workflow-lint: ## jactionlint (actionlint's checks, shellcheck on run: scripts) on .github/workflows
	jactionlint --version | head -1
	jactionlint --profile correctness --no-online
	@# A lint that cannot fail proves nothing: an undefined context property must be reported.
	! printf 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "$${{ github.nope }}"\n' \
	  | jactionlint --profile correctness --no-online - >/dev/null
	@echo "workflow-lint: OK"

fuzz: ## each fuzz target for a bounded time
	bash ci/fuzz.sh

audit: ## cargo-deny: advisories (pinned snapshot), licenses, bans, sources
	bash ci/audit.sh

bench: ## cold-start benchmark against the floor and the peers; writes BENCHMARKS.md
	bash bench/run.sh

ci: fmt lint test test-browser nix-check source-set-check template-check docker-lint workflow-lint audit build-arm64 check-al2023 zip test-arm64 repro fuzz ## everything CI runs
