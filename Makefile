# esp8266sim: `make` fetches the pinned MicroPython firmware (npm ci) and builds
# bin/esp8266sim; `make test` runs every test; `make bench` prints the table.

GO        ?= go
FIRMWARE_PKG := node_modules/@micropython/micropython-webassembly-pyscript
FIRMWARE  := board/firmware/micropython.wasm
FUZZTIME  ?= 60s
# Packages with concurrency, under the race detector. The board runtime and
# the many-board world tests run without it: wasm execution under -race is
# too slow for CI, and wazero 1.12 has a known benign race (#2520) when two
# boards make their first call at once. The single-board world tests cover
# the sim runner's own goroutines.
RACE_PKGS ?= ./internal/... ./netstack/... ./wifi/... ./sim/scenario/... ./sim/report/...

.PHONY: all build firmware test test-race fuzz bench clean

all: build

# The firmware is fetched from npm with the integrity hash pinned in
# package-lock.json and embedded into the binary at build time.
$(FIRMWARE_PKG)/micropython.wasm: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(FIRMWARE): $(FIRMWARE_PKG)/micropython.wasm
	mkdir -p $(dir $@)
	cp $< $@

firmware: $(FIRMWARE)

build: $(FIRMWARE)
	$(GO) build -o bin/esp8266sim ./cmd/esp8266sim

test: build
	./internal/tools/test-deps.sh
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 12m ./...
	$(GO) test -count=1 -race -timeout 12m $(RACE_PKGS)
	$(GO) test -count=1 -race -timeout 5m -run 'TestPlain|TestUncaught' ./sim/
	./internal/tools/fuzz-all.sh 20000x

fuzz: $(FIRMWARE)
	./internal/tools/fuzz-all.sh $(FUZZTIME)

bench: build
	$(GO) run ./internal/tools/benchtable

clean:
	rm -rf bin $(FIRMWARE)
