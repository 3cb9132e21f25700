# The project's commands. Each installs missing Debian packages first
# (scripts/install-deps), then configures and builds what it needs through
# the CMake presets in CMakePresets.json (build trees under build/<preset>).

JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
CMAKE_BUILD = cmake --build --preset

.PHONY: all deps tour test check-tsan check-asan check-clang check-chaos \
        bench install format tidy clean

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
check-chaos: deps build/chaos/CMakeCache.txt
	$(CMAKE_BUILD) chaos -j $(JOBS)
	ctest --preset chaos

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
