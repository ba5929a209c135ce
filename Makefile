# JIT: the two commands a newcomer needs are `make dev` and `make test`.
GO      ?= go
BIN     := bin/jit
GOFLAGS ?=

.PHONY: build dev test bench lint clean

build:
	$(GO) build -o $(BIN) ./cmd/jit

## dev: the whole system on this machine with embedded defaults (Redis, AWS sandbox, OIDC issuer, demo org).
dev: build
	./$(BIN) dev

## test: vet and run every test against real redis-server, the AWS sandbox and /usr/bin/aws.
test: build
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

## bench: expiry lateness and other figures (see docs/benchmarks.md).
JIT_BENCH_TICKETS ?= 1000
bench:
	JIT_BENCH_TICKETS=$(JIT_BENCH_TICKETS) $(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet ./...

clean:
	rm -rf bin
