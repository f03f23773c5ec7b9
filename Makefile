# skymap: two set-up commands on a fresh machine: `make demo` and `make test`.
GO        ?= go
BIN       ?= bin/skymap
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# libdeflate (Debian: libdeflate-dev) makes flow-log decompression about 3x
# faster (internal/inflate); without its header skymap builds without it.
TAGS      ?= $(shell test -f /usr/include/libdeflate.h && echo libdeflate)

.PHONY: all build demo test vet fmt bench clean ui ui-check ui-test screenshots

all: build

build:
	$(GO) build -trimpath -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/skymap

# The web UI: web/'s sources bundled by esbuild into internal/ui/dist, which
# the binary embeds. The bundle is committed, so go build needs no npm;
# after changing web/, run make ui and commit internal/ui (TestBundleFresh
# fails until then).
ui:
	cd web && npm ci --no-audit --no-fund && node build.mjs

# The UI's unit tests (node's test runner; no npm packages needed).
ui-test:
	node --test web/src/

# Rebuilds the bundle and fails if it differs from the committed one.
ui-check: ui
	@if [ -n "$$(git status --porcelain -- internal/ui)" ]; then git status --short -- internal/ui; \
	  echo "internal/ui/dist is not what web/ builds: run make ui and commit it"; exit 1; fi

# Rewrites docs/screenshots/*.png from the browser test (needs chromium, moto).
screenshots:
	$(GO) test -tags "$(TAGS)" -count=1 -run '^TestUI(Flows|Status)?$$' ./internal/app -args -update

# Starts moto, seeds the sample estate and serves it on http://127.0.0.1:8080.
demo: build
	./scripts/demo.sh

# The whole suite, integration tests against moto included.
test: vet ui-test
	$(GO) test -race -tags "$(TAGS)" -count=1 -timeout 14m ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags "$(TAGS)" ./...

bench:
	$(GO) test -tags "$(TAGS)" -run '^$$' -bench . -benchmem -timeout 90m ./...

clean:
	rm -rf bin .demo web/node_modules
