#!/usr/bin/env bash
# What tracing costs the gateway: the same gateway with and without the `tracing` policy at 100 %
# sampling (a SERVER span and a CLIENT attempt span per request, ~30 attributes, OTLP/protobuf
# export in batches to a collector), measured in the same run, alternating rounds, against the same
# upstream (nginx returning a fixed chat completion) with wrk on loopback. The collector is a second
# nginx server block that accepts every export (what a healthy collector does, at no cost to us).
# This machine's speed drifts by a third from one minute to the next, so the rounds alternate (off
# then on, then on then off) and the ratio is the median of the per-round ratios, each taken from two
# neighbouring runs; the best round of each variant is printed too. CPU per request includes the
# exporter thread.
# Prints:  tracing: req/s off=X on=Y ratio=R   and   tracing: cpu_us/req off=A on=B, and how much of
# the on gateway's extra CPU its export thread spent (the rest is the request thread's encoding).
# With PIN=1 (the default on a machine of 2 or more CPUs) the gateways (all their threads, the
# exporter's included) run on CPU 1 and nginx and wrk on CPU 0: the gateway has a core to itself,
# as it does in production, so req/s measures what the gateway costs and not how the scheduler
# happened to share two cores between five busy processes (unpinned, the same binary's ratio
# swings by ±0.1 from run to run, and the kernel's wake-ups of wrk and nginx from the gateway's
# sends grow with every extra runnable thread). The collector's own work (nginx reading the
# exports) stays on CPU 0, beside the upstream, as a collector on another machine would be.
# Sixteen rounds by default: with eight, the same pair of binaries gave medians 0.93-0.97 within an
# hour (2026-12-06); more pairs narrow the median, at ~50 s more.
# Knobs: DURATION (s per round, default 3), ROUNDS (default 16), CONNECTIONS (default 32),
# WORKERS (gateway threads, default 1), PIN (0 or 1), SLUICE_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-3}"
rounds="${ROUNDS:-16}"
connections="${CONNECTIONS:-32}"
workers="${WORKERS:-1}"

bench_name="bench/gateway/tracing"
source "$root/bench/lib.sh"
bench_require wrk nginx node curl

bench_workdir

upstream_port="$(free_port)"
collector_port="$(free_port)"
body='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today?"}}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}'
start_nginx 1 "$(fixed_json_server "$upstream_port" "$body")
$(fixed_json_server "$collector_port" '{}')"
wait_http "http://127.0.0.1:$upstream_port/"
wait_http "http://127.0.0.1:$collector_port/"

start_gateway off "admin: {address: 127.0.0.1, port: 0}"
start_gateway on "admin: {address: 127.0.0.1, port: 0}
policies:
  tracing: {endpoint: \"http://127.0.0.1:$collector_port\", sample_ratio: 1.0}"

pin_gateways "${pids[0]}" "${gateway_pids[off]}" "${gateway_pids[on]}"

path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
request='{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'
post_lua "$work/post.lua" "$request" x-bench tracing
for variant in off on; do
  status="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "$request" "${gateway_url[$variant]}$path")"
  [ "$status" = 200 ] || { echo "$bench_name: $variant answers $status" >&2; cat "$work/$variant.err" >&2; exit 1; }
done

# The on gateway's export thread, by the name it gives itself: its CPU seconds so far.
exporter_seconds() {
  local task
  for task in /proc/"$1"/task/*; do
    if [ "$(cat "$task/comm" 2>/dev/null)" = otlp-export ]; then
      awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "$task/stat"
      return
    fi
  done
  echo 0
}

declare -A best_rps best_p50 cpu_total n_rounds round_rps
exporter_cpu=0
exporter_requests=0
ratios=()
for round in $(seq 1 "$rounds"); do
  order="off on"
  [ $((round % 2)) = 0 ] && order="on off"
  for variant in $order; do
    [ "$variant" = on ] && exporter_before="$(exporter_seconds "${gateway_pids[on]}")"
    read -r rps p50 cpu_us <<<"$(wrk_measure "$variant" "${gateway_url[$variant]}$path" "${gateway_pids[$variant]}")"
    if [ "$variant" = on ]; then
      exporter_cpu="$(awk -v a="$exporter_cpu" -v b="$exporter_before" -v c="$(exporter_seconds "${gateway_pids[on]}")" 'BEGIN{print a + c - b}')"
      exporter_requests=$(( exporter_requests + $(awk '/requests in/{print $1}' "$work/wrk-on.out") ))
    fi
    cpu_total[$variant]="$(awk -v a="${cpu_total[$variant]:-0}" -v b="$cpu_us" 'BEGIN{print a + b}')"
    n_rounds[$variant]=$(( ${n_rounds[$variant]:-0} + 1 ))
    if [ -z "${best_rps[$variant]:-}" ] || awk "BEGIN{exit !($rps > ${best_rps[$variant]})}"; then
      best_rps[$variant]=$rps; best_p50[$variant]=$p50
    fi
    round_rps[$variant]=$rps
    echo "round $round  $variant  $rps req/s  $cpu_us cpu_us/req" >&2
  done
  ratios+=("$(awk -v off="${round_rps[off]}" -v on="${round_rps[on]}" 'BEGIN{printf "%.4f", on / off}')")
done
median_ratio="$(median <<<"${ratios[*]}")"

# Tracing must really have been on, and the collector must have kept up: spans exported, none lost.
admin_of() { grep -o 'admin on http://[^ ]*' "$work/$1.out" | head -1 | sed 's/admin on //'; }
metrics="$(curl -s "$(admin_of on)/metrics")"
exported="$(awk '$1=="sluice_tracing_spans_exported_total"{print $2}' <<<"$metrics")"
dropped="$(awk '$1 ~ /^sluice_tracing_spans_dropped_total/{s += $2} END{print s + 0}' <<<"$metrics")"
[ "${exported:-0}" -gt 0 ] || { echo "$bench_name: no spans were exported" >&2; exit 1; }
[ "$dropped" = 0 ] || { echo "$bench_name: $dropped spans dropped: the collector did not keep up" >&2; exit 1; }

echo
echo "tracing cost: $connections connections, $workers gateway thread(s), $rounds alternating rounds x ${duration}s$pin_note; $exported spans exported, $dropped dropped"
printf '%-8s %12s %10s\n' variant "req/s" "p50"
for variant in off on; do
  printf '%-8s %12.0f %10s\n' "$variant" "${best_rps[$variant]}" "${best_p50[$variant]}"
done
awk -v off="${best_rps[off]}" -v on="${best_rps[on]}" -v median="$median_ratio" \
  'BEGIN{printf "tracing: req/s off=%.0f on=%.0f ratio=%.3f (median of paired rounds; best-round ratio %.3f; aim >= 0.95)\n", off, on, median, on / off}'
awk -v off="${cpu_total[off]}" -v on="${cpu_total[on]}" -v n="$rounds" \
  'BEGIN{a = off / n; b = on / n; printf "tracing: cpu_us/req off=%.1f on=%.1f cost=%.1f%%\n", a, b, (b - a) / a * 100}'
awk -v off="${cpu_total[off]}" -v n="$rounds" -v cpu="$exporter_cpu" -v requests="$exporter_requests" \
  'BEGIN{a = off / n; e = requests > 0 ? cpu * 1e6 / requests : 0; printf "tracing: export thread cpu_us/req=%.2f (%.1f%% of off; the rest of the cost is the request thread'"'"'s)\n", e, e / a * 100}'
