#!/usr/bin/env bash
# Hardening checks, run by scripts/test.sh after the normal suite; each in its
# own build directory, with clang:
#   fuzz      build the libFuzzer targets (tests/fuzz/) and run each for
#             FUZZ_SECONDS (default 60; fuzz_telegram 30) on a temporary
#             copy of its seeds
#   sanitize  build the unit tests (hub_tests) with AddressSanitizer and
#             UndefinedBehaviorSanitizer (-DHUBD_SANITIZE=ON) and run them
# Usage: bash scripts/test-hardening.sh [fuzz|sanitize]...   (default: both)
# Build directories: FUZZ_BUILD_DIR (build-fuzz), SANITIZE_BUILD_DIR
# (build-sanitize). Nothing in the repository is written but those. A crash
# input is kept in a directory named on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(fuzz sanitize)
bash scripts/install-deps.sh
seconds=${FUZZ_SECONDS:-60}
clang=(-DCMAKE_CXX_COMPILER=clang++ -DHUBD_BUILD_BENCH=OFF)
work=$(mktemp -d "${TMPDIR:-/tmp}/hubd-hardening-XXXXXX")
trap 'rm -rf "$work"' EXIT
# Stack traces with file and line; a UBSan report fails the run.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

started=$SECONDS
step() { echo "== test-hardening: $* (at $((SECONDS - started)) s)"; }

# Runs one fuzz target for $seconds on a copy of its seeds; on a crash,
# leak, timeout or broken invariant keeps the input and fails.
fuzz() {
  local target=$1 build=$2
  local corpus="$work/corpus-$target" artifacts="$work/artifacts-$target/"
  mkdir -p "$corpus" "$artifacts" "$work/tmp-$target"
  cp tests/fuzz/corpus/"$target"/* "$corpus"/
  step "$target for ${seconds} s"
  if ! TMPDIR="$work/tmp-$target" "$build/tests/fuzz/$target" "$corpus" \
      -dict=tests/fuzz/"$target".dict -max_total_time="$seconds" -timeout=25 \
      -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts" \
      >"$work/$target.log" 2>&1; then
    tail -n 60 "$work/$target.log"
    local keep
    keep=$(mktemp -d "${TMPDIR:-/tmp}/hubd-fuzz-failure-XXXXXX")
    cp -r "$artifacts" "$work/$target.log" "$keep"/
    echo "test-hardening: $target failed; input and log kept in $keep" >&2
    echo "reproduce: $build/tests/fuzz/$target $keep/artifacts-$target/<file>" >&2
    return 1
  fi
  grep -E '^stat::number_of_executed_units|^Done ' "$work/$target.log" || true
}

for s in "${steps[@]}"; do
  case $s in
    fuzz)
      build=${FUZZ_BUILD_DIR:-build-fuzz}
      step "build fuzz targets in $build"
      CMAKE_ARGS="${clang[*]} -DHUBD_BUILD_TESTS=OFF -DHUBD_FUZZ=ON" BUILD_DIR="$build" \
        bash scripts/build.sh fuzz_frame fuzz_telegram fuzz_api
      build=$(cd "$build" && pwd)
      fuzz fuzz_frame "$build"
      seconds=${FUZZ_SECONDS:-30} fuzz fuzz_telegram "$build"
      fuzz fuzz_api "$build"
      ;;
    sanitize)
      build=${SANITIZE_BUILD_DIR:-build-sanitize}
      step "build hub_tests with ASan+UBSan in $build"
      CMAKE_ARGS="${clang[*]} -DHUBD_SANITIZE=ON" BUILD_DIR="$build" bash scripts/build.sh hub_tests
      build=$(cd "$build" && pwd)
      step "hub_tests under ASan+UBSan"
      (cd "$work" && TMPDIR="$work" "$build/hub_tests" --gtest_brief=1)
      ;;
    *)
      echo "usage: $0 [fuzz|sanitize]..." >&2
      exit 2
      ;;
  esac
done
step "done"
