#!/usr/bin/env bash
# Runs the test tiers: unit (fast, ctest -L unit), integration (ctest -L integration: the real binary
# on loopback), e2e (the official openai npm client against the real binary, node --test), and
# reliability (the fault matrix: backends, stores and signals failing under the openai client).
set -euo pipefail
cd "$(dirname "$0")/.."
tier="${1:-all}"
build_dir="${BUILD_DIR:-build}"
jobs="$(nproc)"

run_unit() { ctest --test-dir "$build_dir" -L unit --output-on-failure -j "$jobs"; }
run_integration() { ctest --test-dir "$build_dir" -L integration --output-on-failure -j 1; }
run_e2e() {
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  SLUICE_BIN="$PWD/$build_dir/sluice" node --test --test-concurrency=1 tests/e2e/*.test.mjs
}
run_reliability() {
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  SLUICE_BIN="$PWD/$build_dir/sluice" node --test --test-concurrency=1 tests/e2e/reliability/*.test.mjs
}

case "$tier" in
  unit) run_unit ;;
  integration) run_integration ;;
  e2e) run_e2e ;;
  reliability) run_reliability ;;
  all) run_unit; run_integration; run_e2e; run_reliability ;;
  *) echo "usage: $0 [unit|integration|e2e|reliability|all]" >&2; exit 2 ;;
esac
