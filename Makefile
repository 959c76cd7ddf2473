# The two commands of the README, and a few helpers. Every target that needs
# the engines brings the local stack up first (scripts/stack, no Docker).
SHELL := /bin/bash
GO ?= go
BIN := bin/ratioguard
# The whole suite on 2 cores, engines included, stays well inside CI's budget.
TEST_TIMEOUT ?= 20m

.PHONY: demo test unit build stack-up stack-down stack-status vet fmt bench

build:
	$(GO) build -o $(BIN) ./cmd/ratioguard

stack-up:
	scripts/stack up

stack-down:
	scripts/stack down

stack-status:
	scripts/stack status

# Stack up, migrate, run the main job (scripts/demo says what each stage does).
demo: build stack-up
	scripts/demo

# Stack up, then unit and integration tests with the race detector on the real engines.
test: stack-up
	scripts/test-deps
	source .stack/env && $(GO) vet ./... && $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

# Unit tests only (integration tests skip without the RG_* variables).
unit:
	env -u RG_POSTGRES_URL -u RG_CLICKHOUSE_URL -u RG_KAFKA_BROKERS -u RG_MARIADB_URL $(GO) test -count=1 ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
