# The project's commands. Each installs missing Debian packages first
# (scripts/install-deps), then configures and builds what it needs through
# the CMake presets in CMakePresets.json (build trees under build/<preset>).

JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 30
CMAKE_BUILD = cmake --build --preset

.PHONY: all deps tour test check-tsan check-asan check-clang check-chaos \
        fuzz bench install format tidy clean

all: test

deps:
	@scripts/install-deps

build/%/CMakeCache.txt: CMakePresets.json CMakeLists.txt | deps
	cmake --preset $* >/dev/null

tour: deps build/release/CMakeCache.txt
	$(CMAKE_BUILD) release -j $(JOBS) --target concur_tour
	build/release/concur tour --all

test: deps build/release/CMakeCache.txt
	$(CMAKE_BUILD) release -j $(JOBS)
	ctest --preset release

check-tsan: deps build/tsan/CMakeCache.txt
	$(CMAKE_BUILD) tsan -j $(JOBS)
	ctest --preset tsan

check-asan: deps build/asan/CMakeCache.txt
	$(CMAKE_BUILD) asan -j $(JOBS)
	ctest --preset asan

check-clang: deps build/clang/CMakeCache.txt
	$(CMAKE_BUILD) clang -j $(JOBS)
	ctest --preset clang

# The stress tests with invariant checks on and random pauses and yields at
# every atomic step of the lock-free structures (concur/detail/assert.hpp).
# Only the test programs that hold them are built (the chaos test preset
# selects their suites).
CHAOS_TESTS := concur_futures_tests concur_queue_tests concur_threading_tests
check-chaos: deps build/chaos/CMakeCache.txt
	$(CMAKE_BUILD) chaos -j $(JOBS) --target $(CHAOS_TESTS)
	ctest --preset chaos

# Every libFuzzer target in fuzz/ (concur_<name>_fuzz), each for
# FUZZ_SECONDS on the corpus its concur_<name>_corpus generates into
# build/fuzz/corpus/<name>/; fails on the first crash, leak or UB report
# (the input is left in build/fuzz/artifacts/).
fuzz: deps build/fuzz/CMakeCache.txt
	$(CMAKE_BUILD) fuzz -j $(JOBS) --target concur_fuzz
	@set -e; mkdir -p build/fuzz/artifacts; \
	for fuzzer in build/fuzz/fuzz/concur_*_fuzz; do \
	  name=$${fuzzer##*/concur_}; name=$${name%_fuzz}; \
	  corpus=build/fuzz/corpus/$$name; mkdir -p $$corpus; \
	  if [ -x build/fuzz/fuzz/concur_$${name}_corpus ]; then \
	    build/fuzz/fuzz/concur_$${name}_corpus $$corpus; fi; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
	  $$fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/artifacts/$$name- $$corpus; \
	done

bench: deps build/release/CMakeCache.txt
	$(CMAKE_BUILD) release -j $(JOBS) --target concur_bench
	python3 bench/peers/run.py --build build/release

install: deps build/release/CMakeCache.txt
	$(CMAKE_BUILD) release -j $(JOBS) --target concur
	cmake --install build/release --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.hpp' '*.cpp')

tidy: build/release/CMakeCache.txt
	clang-tidy -p build/release --quiet $$(git ls-files 'src/*.cpp')

clean:
	rm -rf build
