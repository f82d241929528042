# The two commands of the README: `make run` runs the shop with no
# configuration; `make test` runs every test (unit, adapter tests on the real
# PostgreSQL/Redis, and the black-box acceptance suite against the binary).
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build run test vet fmt

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/commerce ./cmd/commerce

run: build
	./bin/commerce serve

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m ./...
	# The acceptance suite again, against the split topology (gateway, catalog
	# alone, payments alone, the rest; events on Kafka, calls over gRPC).
	ACCEPTANCE_TOPOLOGY=split $(GO) test -count=1 -timeout 15m ./test/acceptance/

fmt:
	gofmt -w $$(git ls-files '*.go')
