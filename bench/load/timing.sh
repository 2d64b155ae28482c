#!/usr/bin/env bash
# How closely `sluice load` measures a known timing: the baseline is the simulator's own timing
# model (TTFT, inter-token gap, end-to-end time, no jitter), and sluice's observed p50s are printed
# as ratios to it, measured in one run. Then the open model's intended-start latency: VUS virtual
# users against RATE arrivals/s of requests that take a fixed time, so the queueing is known too.
#
# These figures were once assertions in the test tiers (tests/e2e/load.test.mjs,
# src/loadgen/tests/engine_test.cpp: TTFT within 40 ms of 300, gaps within 6 ms of 20, ...). They
# depend on how busy the machine is, so they live here; the tests keep only the bounds the
# simulator guarantees (no token comes early).
#
#   bench/load/timing.sh            Knobs: VUS (4), LOOPS (10), SLUICE_BIN.
# Prints grep-able lines:
#   load-timing: ttft_p50_ms=X model=300 ratio=R itl_p50_ms=... e2e_p50_ms=...
#   load-open: e2e_p50_ms=X e2e_max_ms=Y requests=N dropped=D
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
bench_name="bench/load/timing"
vus="${VUS:-4}"
loops="${LOOPS:-10}"
ttft=300
tps=50
tokens=20
# shellcheck source=../lib.sh
source "$root/bench/lib.sh"
bench_require node curl
bench_workdir

cat >"$work/sim.yaml" <<YAML
listen: {address: 127.0.0.1, port: 0, threads: 1}
deployments:
  chat: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: ${ttft}ms, tokens_per_second: $tps, jitter: 0, natural_length: $tokens}
  fixed: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: 100ms, tokens_per_second: 0, jitter: 0, natural_length: 4}
auth:
  mode: keys
  api_keys: [{name: bench, key: bench-key}]
YAML
"$bin" sim --config "$work/sim.yaml" >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
sim_url=""
for _ in $(seq 1 600); do
  sim_url="$(sed -n 's/^sluice sim listening on \(http:[^ ]*\).*/\1/p' "$work/sim.out")"
  [ -n "$sim_url" ] && break
  sleep 0.1
done
[ -n "$sim_url" ] || { echo "$bench_name: the simulator did not start" >&2; cat "$work/sim.err" >&2; exit 1; }

# --- 1. closed model against the timing model ----------------------------------------------------
cat >"$work/closed.yaml" <<YAML
testId: bench-timing
target: {endpoint: "$sim_url", deployment: chat}
auth: {type: apiKey, key: bench-key}
syntheticPrompt: {tokens: 20, count: 4}
request: {max_tokens: 100, stream: true, stream_options: {include_usage: true}}
autoStop: disable
load: {virtualUsers: $vus, loops: $loops}
YAML
"$bin" load run "$work/closed.yaml" --out "$work/out-closed" --quiet --no-jtl

# --- 2. open model: 20 arrivals/s into 1 VU whose requests take 100 ms ---------------------------
cat >"$work/open.yaml" <<YAML
testId: bench-open
target: {endpoint: "$sim_url", deployment: fixed}
auth: {type: apiKey, key: bench-key}
syntheticPrompt: {tokens: 20, count: 4}
request: {max_tokens: 4}
autoStop: disable
load: {arrivalRate: 20, arrival: constant, maxConcurrency: 1, duration: 3s}
YAML
"$bin" load run "$work/open.yaml" --out "$work/out-open" --quiet --no-jtl

node - "$work" "$ttft" "$tps" "$tokens" <<'JS'
const fs = require('fs');
const [work, ttft, tps, tokens] = process.argv.slice(2).map((v, i) => (i ? Number(v) : v));
const closed = JSON.parse(fs.readFileSync(`${work}/out-closed/results.json`, 'utf8'));
const c = Object.values(closed.labels_summary)[0];
const model = { ttft, itl: 1000 / tps, e2e: ttft + (tokens - 1) * (1000 / tps) };
const f = (x) => x.toFixed(1);
const r = (x, m) => (x / m).toFixed(3);
console.log(`closed model, ${c.requests} streamed requests, model: TTFT ${model.ttft} ms, gap ${model.itl} ms, ` +
  `end to end ${model.e2e} ms`);
for (const [name, key, m] of [['TTFT', 'ttft_ms', model.ttft], ['gap', 'itl_ms', model.itl], ['e2e', 'response_time_ms', model.e2e]]) {
  const h = c[key];
  console.log(`  ${name.padEnd(5)} p50 ${f(h.p50)} ms  p99 ${f(h.p99)} ms  min ${f(h.min)} ms  (p50/model ${r(h.p50, m)})`);
}
console.log(`load-timing: ttft_p50_ms=${f(c.ttft_ms.p50)} model=${model.ttft} ratio=${r(c.ttft_ms.p50, model.ttft)} ` +
  `itl_p50_ms=${f(c.itl_ms.p50)} model=${model.itl} ratio=${r(c.itl_ms.p50, model.itl)} ` +
  `e2e_p50_ms=${f(c.response_time_ms.p50)} model=${model.e2e} ratio=${r(c.response_time_ms.p50, model.e2e)}`);
const open = JSON.parse(fs.readFileSync(`${work}/out-open/results.json`, 'utf8'));
const o = Object.values(open.labels_summary)[0];
// One VU, 100 ms per request, an arrival every 50 ms: the k-th request waits about k x 50 ms.
console.log(`open model, 20 arrivals/s into 1 VU, 100 ms per request: ${o.requests} ran, ` +
  `${open.dropped_iterations} dropped at the end; latency from the intended start grows with the queue`);
console.log(`load-open: e2e_p50_ms=${f(o.response_time_ms.p50)} e2e_max_ms=${f(o.response_time_ms.max)} ` +
  `requests=${o.requests} dropped=${open.dropped_iterations}`);
JS
