#!/usr/bin/env bash
# make test-sanitize: the unit and integration tiers under ASan+UBSan (preset asan, build-asan/)
# and under TSan (preset tsan, build-tsan/). The two cannot share a build, so each has its own.
#   SANITIZERS="asan tsan" (default) | asan | tsan     which builds to run
#   JOBS=2                                            compile jobs
# Builds hold /tmp/sluice-build.lock so that several worktrees on one small machine take turns.
# Prints how long each build and each run took (the figures in docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers="${SANITIZERS:-asan tsan}"
jobs="${JOBS:-2}"
suppressions="$PWD/scripts/sanitizers"

# Every finding fails the test that caused it: halt at the first report, non-zero exit.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$suppressions/ubsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$suppressions/tsan.supp"

summary=()
for sanitizer in $sanitizers; do
  case "$sanitizer" in
    asan | tsan) ;;
    *) echo "run-sanitizers: unknown sanitizer '$sanitizer' (asan or tsan)" >&2; exit 2 ;;
  esac
  build_dir="build-$sanitizer"
  start=$SECONDS
  cmake --preset "$sanitizer" >/dev/null
  flock /tmp/sluice-build.lock cmake --build "$build_dir" -j "$jobs"
  built=$SECONDS
  BUILD_DIR="$build_dir" ./scripts/run-tests.sh unit
  BUILD_DIR="$build_dir" ./scripts/run-tests.sh integration
  summary+=("$sanitizer: build $((built - start))s, unit+integration $((SECONDS - built))s")
done
printf 'run-sanitizers: %s\n' "${summary[@]}"
