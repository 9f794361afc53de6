# Verdict — every tool this Makefile needs is pinned here and fetched through
# the Go module proxy (go run pkg@version / go install), nothing by hand.

GO            ?= go
BIN           := $(CURDIR)/bin
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT     := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
OPA_VERSION   := $(shell $(GO) list -m -f '{{.Version}}' github.com/open-policy-agent/opa 2>/dev/null)
DATA_DIR      ?= ./verdict-data
CONFORMANCE   ?= $(abspath ../shared/conformance)
FUZZTIME      ?= 20s
# Packages whose tests exercise concurrency run under the race detector.
RACE_PKGS     := ./pdp/... ./pip/... ./token/... ./pki/... ./pap/... ./sdk/... ./audit/... ./integration/...

.PHONY: all build run test test-long bench lint generate buf-lint buf-breaking check-generated fuzz clean tools check-contracts

all: build

build:
	$(GO) build -o $(BIN)/verdict ./cmd/verdict

## run: everything on one machine (embedded NATS, PAP, PDP, example policies).
run: build
	$(BIN)/verdict up --data-dir $(DATA_DIR)

## test: the CI tier — lint, unit, conformance, integration, race detector.
test: lint
	$(GO) test -count=1 -timeout 15m $$($(GO) list ./... | grep -vE '/(pdp|pip|token|pki|pap|sdk|audit|integration)(/|$$)')
	$(GO) test -count=1 -race -timeout 15m $$($(GO) list $(RACE_PKGS) 2>/dev/null)

## test-long: chaos, crash and soak runs (short versions run in make test).
test-long:
	VERDICT_LONG=1 $(GO) test -count=1 -timeout 60m ./integration/... ./audit/...
	VERDICT_LONG=1 $(GO) test -count=1 -timeout 20m -run TestRotationUnderLoad ./pdp/server ./pap/server
	VERDICT_LONG=1 $(GO) test -count=1 -timeout 60m -run '^TestAuditCrash$$' ./cmd/verdict

## lint: formatting, vet, staticcheck, import rules.
lint: buf-lint buf-breaking check-generated
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	./scripts/check-imports.sh

## generate / buf-lint / buf-breaking / check-generated: the protobuf API
## (buf module in proto/, pinned buf and plugins run with go run).
generate:
	scripts/gen-proto.sh generate

buf-lint:
	scripts/gen-proto.sh lint

buf-breaking:
	scripts/gen-proto.sh breaking

check-generated:
	scripts/gen-proto.sh check

## fuzz: run every fuzz target for FUZZTIME.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## bench: benchmarks against OPA on the same workload; results in bench/RESULTS.md.
bench: build
	./bench/run.sh

## check-contracts: the shared contract checks, as outside tests run them.
check-contracts:
	../shared/tools/check-contracts.sh all

tools:
	GOBIN=$(BIN) $(GO) install github.com/open-policy-agent/opa@$(OPA_VERSION)
	GOBIN=$(BIN) $(GO) install $(BENCHSTAT)

clean:
	rm -rf $(BIN) $(DATA_DIR)
