# Postern build. `make run` and `make test` are the quick start.
GO        ?= go
BIN       := bin
# The release tag on HEAD, else the VERSION file plus the commit.
VERSION   ?= $(shell ./scripts/version.sh)
# Reproducible package dates: the last commit's time unless set.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
LDFLAGS   := -s -w -X github.com/postern-dev/postern/internal/version.Version=$(VERSION)
PROTOC_GEN_GO_VERSION := v1.36.12
CROSS     := linux/amd64 linux/arm64 windows/amd64 darwin/amd64 darwin/arm64

.PHONY: pkcs11-module all build run test race vet cross bench bench-gateway fuzz proto clean packages package-test package-root-test footprint wine-test debian-root loadtest

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/postern-server ./server/cmd/postern-server
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/postern-agent ./agent/cmd/postern-agent

# Build both binaries, start a server on a scratch data dir, enroll a local
# agent, check this machine, report over QUIC and print the gateway decision.
run: build
	./scripts/run.sh

test: vet cross
	$(GO) test -count=1 ./...
	$(MAKE) test-clockshift

# The tests again with Postern's clock (internal/clock) CLOCK_SHIFT ahead of
# the wall clock: a test that pins a date in a fixture while one default
# still reads today fails the day it is written, not a year later.
# Left out: packages whose tests hand certificates to nginx, Chromium or
# osslsigncode, which judge them by the real clock.
.PHONY: test-clockshift
CLOCK_SHIFT ?= 400d
CLOCKSHIFT_SKIP := /internal/gatewaytest$$|/internal/browsertest$$|/installer/
test-clockshift:
	POSTERN_TEST_CLOCK_SHIFT=$(CLOCK_SHIFT) $(GO) test -count=1 -tags postern_clockshift \
		$$($(GO) list ./... | grep -Ev '$(CLOCKSHIFT_SKIP)')

# The Debian root the live Linux collectors are tested in
# (checks/internal/roottest), built once into $(POSTERN_CACHE)/roots (needs root
# and debootstrap; about 5 minutes and 490 MB the first time).
debian-root:
	./scripts/debian-root.sh

# The whole suite under the race detector (needs cgo; about 2 minutes warm).
race:
	$(GO) test -race -count=1 ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	GOOS=linux   $(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin  $(GO) vet ./...

cross:
	@for t in $(CROSS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "cross $$os/$$arch"; \
		for b in server agent; do \
			CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
				-o $(BIN)/cross/$$os-$$arch/postern-$$b$$ext ./$$b/cmd/postern-$$b || exit 1; \
		done; \
	done
	@# The PKCS#11 module for a TPM key in the browsers is C: built for the
	@# host's linux architecture when cc and libp11-kit-dev are here.
	@if [ "$$(uname -m)" = x86_64 ] && command -v cc >/dev/null && [ -e /usr/include/p11-kit-1/p11-kit/pkcs11.h ]; then \
		cc -shared -fPIC -O2 -Wall -Werror -I/usr/include/p11-kit-1 -o $(BIN)/cross/linux-amd64/libpostern-pkcs11.so agent/browsercert/pkcs11module/postern-pkcs11.c; \
	fi
	@ls -l $(BIN)/cross/*/ | awk '/postern/ {print $$5, $$9}'

# Benchmarks print figures; none is asserted. AGENTS sets the number of
# simulated agents for the QUIC round-trip benchmark.
AGENTS ?= 1000
bench:
	POSTERN_BENCH_AGENTS=$(AGENTS) $(GO) test -run '^$$' -bench . -benchmem ./...

# The gateway's speed as ratios (about 5 minutes; Debian's nginx): nginx
# with the documented auth_request block against the same nginx without
# it, and the decision API against a bare Go TLS handler returning the
# same bytes, with 10 and with BENCH_FLEET devices holding real-sized
# reports. Go load generator with client certificates; each ratio is the
# median of three back-to-back rounds of BENCH_SECONDS each.
BENCH_SECONDS ?= 5
BENCH_FLEET   ?= 10000
bench-gateway:
	POSTERN_BENCH_SECONDS=$(BENCH_SECONDS) POSTERN_BENCH_FLEET=$(BENCH_FLEET) \
		$(GO) test -run '^$$' -bench 'GatewayNginx|DecisionAPI' -benchtime 1x -timeout 30m ./internal/gatewaytest

# The load generator (cmd/postern-load, never linked into either binary)
# against a freshly built server on a scratch data directory: LOAD_AGENTS
# simulated agents over real QUIC, each reporting every LOAD_INTERVAL,
# measured for LOAD_DURATION; LOAD_DATABASE=postgres://... for PostgreSQL.
# Exit 1 on any deadline or idle-timeout failure.
LOAD_AGENTS   ?= 1000
LOAD_INTERVAL ?= 20s
LOAD_DURATION ?= 60s
LOAD_DATABASE ?=
loadtest: build
	$(GO) build -o $(BIN)/postern-load ./cmd/postern-load
	$(BIN)/postern-load --server-bin $(BIN)/postern-server --agents $(LOAD_AGENTS) --interval $(LOAD_INTERVAL) \
		--duration $(LOAD_DURATION) $(if $(LOAD_DATABASE),--database '$(LOAD_DATABASE)')

# Agent footprint (Linux, about 12 minutes): binary sizes, steady RSS, idle
# CPU over a 10-minute window (FOOTPRINT_WINDOW seconds) of a replayed and
# a live agent, and the CPU of one live check; prints a table.
footprint: build cross
	./scripts/footprint.sh

# Every fuzz target of the module, FUZZTIME each (go test runs one -fuzz
# target at a time). Seeds and found crashers (testdata/fuzz/) also run in
# `make test`. Narrow with FUZZPKGS=./checks/screenlock.
FUZZTIME ?= 20s
FUZZPKGS ?= ./...
fuzz:
	@set -e; for pkg in $$($(GO) list $(FUZZPKGS)); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$t"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME); \
		done; \
	done

# The PKCS#11 module through which browsers use a TPM device key
# (agent/browsercert/pkcs11module; needs cc and libp11-kit-dev). The agent
# looks for it at /usr/lib/postern/libpostern-pkcs11.so.
pkcs11-module:
	@mkdir -p $(BIN)
	cc -shared -fPIC -O2 -Wall -Werror -I/usr/include/p11-kit-1 -o $(BIN)/libpostern-pkcs11.so agent/browsercert/pkcs11module/postern-pkcs11.c

proto:
	@command -v protoc >/dev/null || { echo "protoc missing: apt-get install -y protobuf-compiler"; exit 1; }
	GOBIN=$(CURDIR)/$(BIN)/tools $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	cd proto && PATH=$(CURDIR)/$(BIN)/tools:$$PATH protoc --go_out=. --go_opt=paths=source_relative postern.proto

# Installers under dist/: .deb and .rpm (nfpm), the Windows .msi (wixl,
# from Debian's msitools and wixl packages) and the macOS tarball. With
# SIGN_CERT and SIGN_KEY (PEM), or SIGN_CERT alone (.p12/.pfx), the Windows
# executable and the MSI are Authenticode-signed with osslsigncode.
packages: cross
	@command -v wixl >/dev/null || { echo "wixl missing: apt-get install -y wixl msitools"; exit 1; }
	rm -rf dist
	$(GO) run ./installer/cmd/mkpkg -cross $(BIN)/cross -out dist -version '$(VERSION)'

# CI only, as root: dpkg -i the .deb, run postern-agent check, dpkg -r.
package-test: packages
	./installer/package-test.sh

# As root: the Windows agent, its MSI and service under Wine 10 in a cached
# Debian 13 root (scripts/wine-root.sh: about 6 minutes and 1.9 GB once,
# then reused; the test itself about 75 s). See docs/wine.md.
wine-test:
	./scripts/wine-test.sh

# As root: dpkg -i, upgrade and removal of the server and agent .deb in an
# overlay of that Debian 13 root (about 2 minutes, root cached).
package-root-test:
	./scripts/package-root-test.sh

clean:
	rm -rf $(BIN) .run dist
