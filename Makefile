# Weft — build, test, run.
#   make devnet   run a local network (4 validators, 2 rollups) until Ctrl-C; run again to resume,
#                 make devnet-reset to start over
#   make test     everything CI checks: generated code, lint, unit, fuzz seeds, multi-process e2e
GO        ?= go
BIN       := $(CURDIR)/bin
WEFT      := $(BIN)/weft
export CGO_ENABLED ?= 1

BUF_VERSION            := v1.75.0
PROTOC_GEN_GO_VERSION  := v1.36.12
PROTOC_GEN_GRPC_VERSION:= v1.6.2
STATICCHECK_VERSION    := v0.8.2
ABIGEN_VERSION         := v1.17.10

.PHONY: build test unit e2e js-deps chromium devnet devnet-reset chaos bench generate check-generate lint tools clean

build:
	$(GO) build -o $(WEFT) ./cmd/weft

devnet: build
	$(WEFT) devnet --dir $(CURDIR)/.devnet

devnet-reset: build
	$(WEFT) devnet --dir $(CURDIR)/.devnet --reset

# Unit, fuzz-seed and in-process tests run with the race detector; the
# multi-process network tests build the binary and run on loopback.
test: check-generate lint js-deps chromium unit e2e

# ethers.js (a real Ethereum client) for the rollup JSON-RPC tests.
js-deps:
	cd rollups/rpc/testdata/ethers && npm ci --no-audit --no-fund --loglevel=error

# Headless Chromium (Debian's chromium package) for the network page's
# browser test (test/uie2e); without it, and unable to install it, that test
# skips and says why.
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		(apt-get install -y chromium >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y chromium >/dev/null 2>&1) || \
		echo "chromium is not installed and could not be installed: test/uie2e will skip")

unit:
	$(GO) test -race -count=1 -timeout 15m $$($(GO) list ./... | grep -v -e 'e2e$$')

# The e2e packages run in parallel (go test's default -p, GOMAXPROCS): every
# network takes its ports from nettest.Ports, a block no other test on the
# machine holds (a flock per block under $TMPDIR/weft-e2e-ports).
e2e: chromium
	$(GO) test -count=1 -timeout 25m ./test/e2e/ ./test/rollupe2e/ ./test/stakinge2e/ ./test/devnete2e/ ./test/uie2e/

# The soak: four validators under load take randomized faults (kill -9 of one
# or two, partitions, SIGSTOP, restart of all) for WEFT_CHAOS (30m), from a
# printed seed (WEFT_CHAOS_SEED=... replays it). See docs/operations.md.
WEFT_CHAOS ?= 30m
chaos:
	@command -v iptables >/dev/null || (apt-get install -y iptables >/dev/null 2>&1 || true)
	@mkdir -p $(BIN)
	WEFT_CHAOS=$(WEFT_CHAOS) WEFT_E2E_LOGS=$(BIN)/chaos-logs bash -o pipefail -c "$(GO) test -p 1 -count=1 -timeout 0 -v -run TestChaos ./test/e2e/ 2>&1 | tee $(BIN)/chaos.log"

# Figures, not assertions: EVM executor vs a raw go-ethereum ApplyTransaction
# loop over the same txs (ratio printed), block building, mempool, batch
# compression and the L1 gas of posting batches (rollups/batcher).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./rollups/exec/evm/ ./consensus/ ./mempool/
	$(GO) test -run '^$$' -bench 'Compression|Settlement' -benchtime=1x ./rollups/batcher/
	$(GO) run ./cmd/benchnet -mode all -out $(BIN)/bench-results.json

$(BIN)/buf:
	GOBIN=$(BIN) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(BIN)/protoc-gen-go:
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(BIN)/protoc-gen-go-grpc:
	GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GRPC_VERSION)
$(BIN)/abigen:
	GOBIN=$(BIN) $(GO) install github.com/ethereum/go-ethereum/cmd/abigen@$(ABIGEN_VERSION)
$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

tools: $(BIN)/buf $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc $(BIN)/staticcheck $(BIN)/abigen

# Protobuf (buf + protoc-gen-go/-grpc), Solidity (solc from npm, pinned in
# contracts/package.json), contract bindings (abigen v2) and the patched
# CometBFT in third_party/cometbft (scripts/cometbft-fork.sh).
generate: $(BIN)/buf $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc $(BIN)/abigen
	GO=$(GO) ./scripts/cometbft-fork.sh
	cd proto && $(BIN)/buf lint && $(BIN)/buf generate
	cd contracts && npm ci --no-audit --no-fund --loglevel=error && node compile.js
	for abi in contracts/build/*.abi; do \
		name=$$(basename $$abi .abi); \
		$(BIN)/abigen --v2 --abi $$abi --bin contracts/build/$$name.bin --pkg bindings --type $$name \
			--out contracts/bindings/$$(echo $$name | tr A-Z a-z).go || exit 1; \
	done

# Fails when the committed generated code differs from what `make generate` writes.
check-generate: generate
	@git diff --exit-code -- proto/ contracts/ third_party/ || (echo "generated code is stale: run 'make generate' and commit" && exit 1)
	@test -z "$$(git status --porcelain -- proto/ contracts/ third_party/)" || (git status --porcelain -- proto/ contracts/ third_party/; echo "untracked generated files: run 'make generate' and commit"; exit 1)

lint: $(BIN)/staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go' ':!third_party'))" || (gofmt -l $$(git ls-files '*.go' ':!third_party'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	$(BIN)/staticcheck $$($(GO) list ./... | grep -v /contracts/bindings)
	$(GO) mod tidy -diff

clean:
	rm -rf $(BIN) .devnet
