# The two commands of the README: `make run` runs the shop with no
# configuration; `make test` runs every test (unit, adapter tests on the real
# PostgreSQL/Redis, and the black-box acceptance suite against the binary).
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: bench build run test vet fmt chaos chaos-short web web-check api-client graphql graphql-apollo-check test-browser observability deploy-check test-temporal

build: web
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

# The storefront's typed API client is generated from the API document the
# binary serves: after a route or schema change, regenerate both files
# (web/openapi.json, web/src/api/schema.d.ts). `make test` fails while they
# are stale, and the web build then type-checks the app against them.
api-client:
	UPDATE_WEB_OPENAPI=1 $(GO) test -count=1 -run TestWebClientIsGeneratedFromTheCurrentAPI ./internal/server/
	cd web && npx openapi-typescript ./openapi.json -o ./src/api/schema.d.ts

# The GraphQL subgraphs: gqlgen regenerates each context's subgraph code
# from its schema.graphqls (generated code is committed), then the composed
# supergraph is written to schema.graphql, which `make test` checks is
# current (docs/graphql.md).
GRAPHQL_SUBGRAPHS := auth cart catalog ordering payments fulfillment notify chat search
graphql:
	@for ctx in $(GRAPHQL_SUBGRAPHS); do \
		echo "gqlgen: $$ctx"; \
		(cd internal/$$ctx/internal/ports/graph && $(GO) run github.com/99designs/gqlgen generate --config gqlgen.yml) || exit 1; \
	done
	UPDATE_SCHEMA_GRAPHQL=1 $(GO) test -count=1 -run TestSchemaGraphQLIsCurrent ./internal/server/

# The web app's own checks: the generated client matches web/openapi.json,
# TypeScript (strict) compiles, and the vitest unit tests pass.
# The subgraphs must compose with Apollo's composition library too (the
# one rover and Apollo Router use), not only with the binary's own gateway.
graphql-apollo-check:
	cd tools/apollo-composition && { [ -d node_modules ] || npm ci --no-audit --no-fund; }
	rm -rf tools/apollo-composition/out
	$(GO) run ./cmd/commerce graphql subgraphs tools/apollo-composition/out >/dev/null
	cd tools/apollo-composition && node compose.mjs out out/supergraph.graphql

web-check:
	cd web && { [ -d node_modules ] || npm ci; }
	cd web && npx openapi-typescript ./openapi.json -o node_modules/.schema-check.d.ts >/dev/null && \
		cmp -s node_modules/.schema-check.d.ts src/api/schema.d.ts || \
		{ echo "web/src/api/schema.d.ts is not generated from web/openapi.json: run make api-client" >&2; exit 1; }
	cd web && npm run typecheck && npx vitest run

# The storefront journey in Debian's chromium (playwright-core) against the
# built binary with the web app embedded; screenshots and the budget
# figures land in test/browser/out/. Monolith only (the split topology
# serves the same app from its gateway).
test-browser: web
	$(GO) vet -tags browser ./test/browser/
	$(GO) test -tags browser -count=1 -timeout 15m -v ./test/browser/

run: build
	./bin/commerce serve

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m ./...
	# The acceptance suite again, against the split topology (gateway, catalog
	# alone, payments alone, the rest; events on Kafka, calls over gRPC).
	ACCEPTANCE_TOPOLOGY=split $(GO) test -count=1 -timeout 15m ./test/acceptance/
	$(MAKE) chaos-short
	$(MAKE) observability
	$(MAKE) deploy-check
	$(MAKE) graphql-apollo-check
	$(MAKE) web-check
	$(MAKE) test-browser
	$(MAKE) test-temporal

# The order scenarios of the acceptance suite with SAGA_ENGINE=temporal,
# against a real Temporal server started in-process (temporaltest). A
# module of its own behind the build tag temporal: the server's
# dependencies clash with the shop's and its first compile takes minutes,
# so `go test ./...` never builds it.
test-temporal:
	cd test/temporal && $(GO) vet -tags temporal ./ && $(GO) test -tags temporal -count=1 -timeout 30m -v ./

# The chaos suite (test/chaos, build tag chaos): a 16-client place-and-pay
# load while the binary is killed -9 three times, its private PostgreSQL
# restarted and its sessions terminated, its private Redis stopped for
# 10 s (and in split the Kafka broker), then `commerce check` must find
# nothing and every acknowledged order must exist (docs/operations.md).
# chaos: the full run, both topologies (minutes); chaos-short: the
# shorter one `make test` runs (fewer seconds between faults).
chaos:
	$(GO) vet -tags chaos ./test/chaos/
	$(GO) test -tags chaos -count=1 -timeout 30m -v -run TestChaos ./test/chaos/
	CHAOS_TOPOLOGY=split $(GO) test -tags chaos -count=1 -timeout 30m -v -run TestChaos ./test/chaos/

chaos-short:
	$(GO) vet -tags chaos ./test/chaos/
	CHAOS_SHORT=1 $(GO) test -tags chaos -count=1 -timeout 10m -v -run TestChaos ./test/chaos/

# The deployment artifacts under deploy/, validated offline by a module of
# its own (deploy/check) so that the validators' dependencies stay out of
# the shop's binary.
deploy-check:
	cd deploy/check && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./...

# deploy/observability with Debian's promtool (apt-get install prometheus):
# the alert rules and their unit tests, prometheus.yml. `go test ./...`
# runs the rest (test/observability: dashboards, YAML, Alloy, the metric
# names against a running binary, a real Prometheus scraping it). Without
# promtool this skips, except under CI=true.
OBS := deploy/observability/prometheus
observability:
	@if ! command -v promtool >/dev/null; then \
		if [ "$$CI" = "true" ]; then echo "observability: promtool is required under CI=true" >&2; exit 1; fi; \
		echo "observability: promtool not installed (apt-get install prometheus); skipped"; exit 0; \
	fi; \
	promtool check rules $(OBS)/rules/*.rules.yml && \
	(cd $(OBS)/rules && promtool test rules *.test.yml) && \
	promtool check config $(OBS)/prometheus.yml

fmt:
	gofmt -w $$(git ls-files '*.go')

# The performance targets side by side in one run: cached read against a
# bare Fiber handler, product list, add-to-cart, place order against
# pgbench, idle CPU (bench/README.md). Takes about three minutes.
bench:
	bash bench/all.sh
