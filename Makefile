# The two commands of the README: `make run` runs the shop with no
# configuration; `make test` runs every test (unit, adapter tests on the real
# PostgreSQL/Redis, and the black-box acceptance suite against the binary).
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build run test vet fmt web

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/commerce ./cmd/commerce

# The storefront web app: Vite builds web/ into web/dist/, which package web
# embeds into the binary (precompressed .br/.gz siblings are served as is).
# Vite empties dist/ first, so the committed marker dist/.keep is put back.
# Without web/package.json there is no app to build: the binary then serves
# a page at / saying how to build it, and `make build` can depend on this
# target either way.
web:
	@if [ -f web/package.json ]; then \
		cd web && npm ci && npx vite build && touch dist/.keep; \
	else \
		echo "web: no web/package.json, no storefront to build; the binary serves a placeholder at /"; \
	fi

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
