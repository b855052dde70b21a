# Top-level convenience targets over CMake.
#   make        builds build/sam2 (optimised)
#   make test   builds and runs every test (optimised build), then again under
#               AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench  runs the benchmarks
#   make bench-quality  checks --robust's low-contrast targets on shapes-dev and held-out scenes
#   make demo   runs the main job on the embedded default model
JOBS ?= $(shell nproc)

.PHONY: all test test-fast test-asan bench bench-quality demo clean deps

all: build/sam2

build/sam2: FORCE
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS)

build-asan/sam2: FORCE
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSAM2_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)

test: test-fast test-asan

test-fast: build/sam2
	cd build && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan/sam2
	cd build-asan && ctest --output-on-failure -j $(JOBS)

bench: build/sam2
	bash bench/run.sh

bench-quality: build/sam2
	bash bench/quality.sh

demo: build/sam2
	bash scripts/demo.sh

deps:
	bash scripts/install-deps.sh

clean:
	rm -rf build build-asan

FORCE:
