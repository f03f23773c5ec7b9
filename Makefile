# skymap: two set-up commands on a fresh machine: `make demo` and `make test`.
GO        ?= go
BIN       ?= bin/skymap
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# libdeflate (Debian: libdeflate-dev) makes flow-log decompression about 3x
# faster (internal/inflate); without its header skymap builds without it.
TAGS      ?= $(shell test -f /usr/include/libdeflate.h && echo libdeflate)

.PHONY: all build demo test vet fmt bench clean

all: build

build:
	$(GO) build -trimpath -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/skymap

# Starts moto, seeds the sample estate and serves it on http://127.0.0.1:8080.
demo: build
	./scripts/demo.sh

# The whole suite, integration tests against moto included.
test: vet
	$(GO) test -race -tags "$(TAGS)" -count=1 -timeout 14m ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags "$(TAGS)" ./...

bench:
	$(GO) test -tags "$(TAGS)" -run '^$$' -bench . -benchmem -timeout 90m ./...

clean:
	rm -rf bin .demo
