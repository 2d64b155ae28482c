#!/usr/bin/env bash
# Fuzzing hours: runs every libFuzzer target (build-fuzz, `make fuzz`) for FUZZ_SECONDS each
# (default 600) with ASan+UBSan, starting from the committed corpus in fuzz/corpus/<name>, then
# merges what it grew back into that folder with libFuzzer -merge=1: every committed input stays
# (hand-written seeds and crash reproducers among them) and only new inputs that add coverage are
# added, so the corpus grows by what the hours found and no more. Crashes stop the script with the reproducer's path; the fix goes
# in with the reproducer copied into the corpus, where the ordinary build's replay test keeps it.
#
# Prints a table of executions, coverage (edges) and features per target, and writes it to
# build-fuzz/fuzz-hours.md for docs/reliability.md. FUZZ_JOBS targets run side by side (default 1:
# the figures are per target, and two at once on a 2-core machine halve each one's executions).
#   scripts/fuzz-hours.sh                      # every target, 10 minutes each
#   FUZZ_SECONDS=60 scripts/fuzz-hours.sh jwt  # one target, one minute
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-1}
BUILD=build-fuzz
WORK=$BUILD/fuzz-hours

# target binary (under build-fuzz) : corpus folder (under fuzz/corpus)
TARGETS=(
  src/core/core_config_fuzz:config
  src/gateway/jwt_fuzz:jwt
  src/gateway/gateway_json_fuzz:gateway_json
  src/gateway/resp_reader_fuzz:resp
  src/http/sse_parser_fuzz:sse
  src/loadgen/jmx_fuzz:jmx
  src/sim/sim_request_fuzz:sim_request
  src/tokenizer/tokenizer_fuzz:tokenizer
)

selected=()
for entry in "${TARGETS[@]}"; do
  corpus=${entry#*:}
  if [[ $# -eq 0 ]] || [[ " $* " == *" $corpus "* ]]; then selected+=("$entry"); fi
done
if [[ ${#selected[@]} -eq 0 ]]; then
  echo "fuzz-hours: no target named '$*'; the targets are: ${TARGETS[*]#*:}" >&2
  exit 2
fi
for entry in "${selected[@]}"; do
  if [[ ! -x $BUILD/${entry%%:*} ]]; then
    echo "fuzz-hours: $BUILD/${entry%%:*} is missing: build the targets first with 'make fuzz'" >&2
    exit 2
  fi
done

mkdir -p "$WORK"

# One target: fuzz from a copy of the committed corpus, then merge the grown copy back, minimised.
fuzz_one() {
  local binary=$BUILD/${1%%:*} corpus=${1#*:}
  local grown=$WORK/$corpus.grown minimal=$WORK/$corpus.min log=$WORK/$corpus.log
  rm -rf "$grown" "$minimal" "$WORK/$corpus.crashes"
  mkdir -p "$grown" "$minimal" "$WORK/$corpus.crashes"
  cp -r fuzz/corpus/"$corpus"/. "$grown"/
  local before
  before=$(find fuzz/corpus/"$corpus" -type f | wc -l)
  echo "[$(date +%H:%M:%S)] $corpus: fuzzing for ${SECONDS_EACH} s from $before committed inputs"
  # -rss_limit_mb bounds a leak; -max_len lets the JSON and JMX targets reach real-sized documents.
  if ! "$binary" "$grown" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -max_len=65536 \
      -rss_limit_mb=2048 -timeout=20 -artifact_prefix="$WORK/$corpus.crashes/" >"$log" 2>&1; then
    echo "fuzz-hours: $corpus found a crash; reproducer(s) in $WORK/$corpus.crashes/, log in $log" >&2
    tail -40 "$log" >&2
    return 1
  fi
  cp -r fuzz/corpus/"$corpus"/. "$minimal"/
  "$binary" -merge=1 "$minimal" "$grown" >"$WORK/$corpus.merge.log" 2>&1
  cp -n "$minimal"/* fuzz/corpus/"$corpus"/
  local execs cov ft after
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  after=$(find fuzz/corpus/"$corpus" -type f | wc -l)
  printf '| %s | %s s | %s | %s | %s | %s -> %s |\n' "$corpus" "$SECONDS_EACH" "$execs" "$cov" "$ft" "$before" "$after" \
    >"$WORK/$corpus.row"
  echo "[$(date +%H:%M:%S)] $corpus: $execs executions, $cov edges, $ft features, corpus $before -> $after"
}

failed=0
running=0
for entry in "${selected[@]}"; do
  fuzz_one "$entry" &
  running=$((running + 1))
  if [[ $running -ge $JOBS ]]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [[ $running -gt 0 ]]; do
  wait -n || failed=1
  running=$((running - 1))
done

{
  echo '| target (corpus) | time | executions | edges covered | features | corpus files (before -> after the merge) |'
  echo '| --- | --- | --- | --- | --- | --- |'
  for entry in "${selected[@]}"; do cat "$WORK/${entry#*:}.row" 2>/dev/null || true; done
} | tee "$BUILD/fuzz-hours.md"
exit $failed
