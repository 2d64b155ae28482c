# The front door. `make demo` and `make test` work on a fresh Debian 12 machine:
# each installs the packages it needs and builds first.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: deps build test test-unit test-integration test-e2e test-reliability soak test-sanitize demo bench flame fuzz fuzz-hours format clean

deps:
	./scripts/install-deps.sh

build: deps
	cmake --preset default
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	./scripts/run-tests.sh all

test-unit: build
	./scripts/run-tests.sh unit

test-integration: build
	./scripts/run-tests.sh integration

test-e2e: build
	./scripts/run-tests.sh e2e

test-reliability: build
	./scripts/run-tests.sh reliability

# The soak test alone, for 30 minutes by default (the reliability tier runs it for 2):
# make soak SOAK_SECONDS=600. See docs/reliability.md, "Soak".
SOAK_SECONDS ?= 1800
soak: build
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	SOAK_SECONDS=$(SOAK_SECONDS) SLUICE_BIN=$(CURDIR)/$(BUILD_DIR)/sluice \
	  node --test --test-concurrency=1 tests/e2e/reliability/soak.test.mjs

# Unit + integration tiers under ASan+UBSan, then TSan, each in its own build folder
# (make test-sanitize SANITIZERS=asan for one). Two compile jobs: the builds share the machine.
SANITIZERS ?= asan tsan
test-sanitize: deps
	SANITIZERS="$(SANITIZERS)" JOBS=2 ./scripts/run-sanitizers.sh

demo: build
	./$(BUILD_DIR)/sluice demo

bench: build
	./bench/run-all.sh

# Flame graphs of the gateway (plain, with tracing, with JWT + a local limit, with accounting, with a Redis limit, relaying streams, answering from the cache, with two workers), the simulator and the load generator under load, into docs/flame/ (needs linux-perf).
flame: build
	./bench/flame.sh

FUZZ_TARGETS = core_config_fuzz jwt_fuzz gateway_json_fuzz resp_reader_fuzz sse_parser_fuzz jmx_fuzz sim_request_fuzz tokenizer_fuzz
fuzz: deps
	cmake --preset fuzz
	cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)

# Fuzzing hours: every target for FUZZ_SECONDS (default 600) with ASan+UBSan, corpora grown in
# fuzz/corpus/ (commit them). See docs/reliability.md, "Fuzzing hours".
fuzz-hours: fuzz
	./scripts/fuzz-hours.sh

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz
