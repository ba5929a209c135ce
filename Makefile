# JIT: the two commands a newcomer needs are `make dev` and `make test`.
GO      ?= go
BIN     := bin/jit
GOFLAGS ?=
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

.PHONY: build dev test test-faults fuzz bench lint clean web web-build helm-check actions

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/jit

## dev: the whole system on this machine with embedded defaults (Redis, AWS sandbox, OIDC issuer, demo org).
dev: build
	./$(BIN) dev

## web: reinstall the approver page's npm packages and rebuild console/web/dist (committed, so `make dev` needs only Go).
web:
	cd console/web && npm ci --no-audit --no-fund && npm run build

web-build:
	cd console/web && { test -d node_modules || npm ci --no-audit --no-fund; } && npm run build

## test: rebuild the approver page, vet, run every test against real redis-server, the AWS sandbox, /usr/bin/aws and headless Chromium, then `make fuzz`.
test: web-build build
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) fuzz
	$(MAKE) test-faults
	$(MAKE) helm-check

## test-faults: the crash suite (docs/operations.md): the real server killed (SIGKILL) at every crash point and restarted, redis-server killed, SIGTERM drains. FAULT_CYCLES repeats the kill points for longer runs.
FAULT_CYCLES ?= 1
test-faults:
	$(GO) vet -tags faults ./cmd/jit
	JIT_FAULT_CYCLES=$(FAULT_CYCLES) $(GO) test -tags faults -count=1 -timeout 30m -run '^TestFaults' -v ./cmd/jit

## helm-check: install helm v4 as a Go tool into .bin/ (nothing but the Go module proxy needed), then helm lint, helm template and a strict check of every rendered object against the Kubernetes API types (deploy/helm/chartcheck, a module of its own).
HELM_VERSION ?= v4.3.2
helm-check:
	test -x .bin/$(HELM_VERSION)/helm || GOBIN=$(CURDIR)/.bin/$(HELM_VERSION) $(GO) install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)
	cd deploy/helm/chartcheck && $(GO) vet ./... && HELM=$(CURDIR)/.bin/$(HELM_VERSION)/helm $(GO) test -count=1 ./...

## actions: the AWS actions the tests of PKGS made the sandbox serve, by principal (JIT_SANDBOX_ACTIONS_FILE; docs/aws-setup.md).
PKGS ?= ./federation/... ./cmd/jit
actions:
	mkdir -p bin && rm -f bin/actions.tsv
	JIT_SANDBOX_ACTIONS_FILE=$(CURDIR)/bin/actions.tsv $(GO) test -count=1 -timeout 30m $(PKGS)
	sort -u bin/actions.tsv

## fuzz: run every fuzz target in the module (found by .ci/fuzz) for FUZZTIME each; fails on the first crasher.
FUZZTIME ?= 20000x
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./.ci/fuzz

## bench: expiry lateness and other figures (see docs/benchmarks.md).
JIT_BENCH_TICKETS ?= 1000
bench:
	JIT_BENCH_TICKETS=$(JIT_BENCH_TICKETS) $(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet ./...

clean:
	rm -rf bin .bin
