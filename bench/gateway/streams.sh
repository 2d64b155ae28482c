#!/usr/bin/env bash
# Streaming through the gateway: STREAMS (default 1,000) concurrent streamed chat completions from
# `sluice sim`, taken directly and through `sluice gateway` in the same run; prints the time to
# first token and inter-token latency the gateway adds (p50/p99). Loopback only; bounded.
# Knobs: STREAMS, TOKENS, RAMP_MS, SLUICE_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
streams="${STREAMS:-1000}"
tokens="${TOKENS:-20}"
ttft=300
tps=20
bench_name=bench/gateway/streams
source "$root/bench/lib.sh"  # sim_gateway_yaml
[ -x "$bin" ] || { echo "bench/gateway: $bin not built (make build)" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || true

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_line() {  # file pattern
  for _ in $(seq 1 150); do
    local url
    url="$(sed -n "s/^$2 \(http:[^ ]*\).*/\1/p" "$1" | head -1)"
    [ -n "$url" ] && { echo "$url"; return 0; }
    sleep 0.1
  done
  echo "bench/gateway: no '$2' line in $1" >&2; cat "${1%.out}.err" >&2 || true; exit 1
}

"$bin" sim --host 127.0.0.1 --port 0 --deployment bench=gpt-4o --api-key bench=bench-key \
  --ttft-ms "$ttft" --tokens-per-second "$tps" --tpm 0 >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
sim_url="$(wait_line "$work/sim.out" "sluice sim listening on")"

sim_gateway_yaml 0 "$sim_url" >"$work/gateway.yaml"
"$bin" gateway --config "$work/gateway.yaml" >"$work/gateway.out" 2>"$work/gateway.err" &
pids+=($!)
gateway_url="$(wait_line "$work/gateway.out" "sluice gateway listening on")"

itl=$(( 1000 / tps ))
run() {  # url label
  node "$root/bench/sim/streams.mjs" --url "$1" --streams "$streams" --ttft-ms "$ttft" --itl-ms "$itl" \
    --tokens "$tokens" --ramp-ms "${RAMP_MS:-1000}" --deadline-ms 60000 --key bench-key \
    | tee "$work/$2.txt" | sed "s/^/  [$2] /"
}
echo "direct to the simulator:"
run "$sim_url" direct || true
curl -s -X POST "$sim_url/sim/limits/reset" >/dev/null || true
echo "through the gateway:"
run "$gateway_url" gateway || true

field() { sed -n "s/.* $2=\([-0-9.]*\).*/\1/p" "$work/$1.txt" | head -1; }
added() { awk -v a="$(field gateway "$1")" -v b="$(field direct "$1")" 'BEGIN{printf "%.1f", a-b}'; }
echo "gateway-streams: streams=$streams ok_direct=$(field direct ok) ok_gateway=$(field gateway ok)" \
  "ttft_added_p50_ms=$(added ttft_p50) ttft_added_p99_ms=$(added ttft_p99)" \
  "itl_added_p50_ms=$(added itl_p50) itl_added_p99_ms=$(added itl_p99)"
