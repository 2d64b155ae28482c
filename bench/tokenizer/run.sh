#!/usr/bin/env bash
# Tokenizer benchmark: sluice vs npm tiktoken (OpenAI's Rust core compiled to WASM), both
# encodings, same 10 MB corpus, single thread. Prints MB/s, the ratio and sluice's split of
# time between pre-tokenization and merging, the linear-time ratios on adversarial text, and
# whole-process counting of the corpus file; the last lines read
#   tokenizer: <encoding> sluice X MB/s, tiktoken Y MB/s, ratio Z
#   tokenizer-linear: <encoding> letter=R spaces=R digits=R cjk=R random=R (aim <= 4.5)
#   tokenizer-process: <encoding> sluice X s, tiktoken Y s, speedup Z
# Needs a configured build (cmake --preset default) and node; no network beyond `npm ci` from
# the lockfile in tests/e2e if its node_modules are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir="${BUILD_DIR:-build}"
cmake --build "$build_dir" --target sluice_tokenizer_bench sluice >/dev/null
if [ ! -d tests/e2e/node_modules/tiktoken ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
exec node bench/tokenizer/compare.mjs "$build_dir/src/tokenizer/sluice_tokenizer_bench" \
  "$build_dir/sluice"
