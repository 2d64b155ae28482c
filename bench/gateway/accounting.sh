#!/usr/bin/env bash
# What token accounting costs the gateway: the same gateway config with and without the `usage`
# policy (one journal record per request, write() before the response, batched fdatasync, shipper
# thread into SQLite) and the `metrics` policy (token counters, histograms), measured in the same
# run, interleaved, against the same upstream (nginx returning a fixed chat completion) with wrk on
# loopback. Rounds alternate the order (off then on, then on then off), and the cost is the median
# of the per-round ratios, each from two neighbouring runs: this machine's speed drifts by a third
# from one minute to the next. The best round of each variant is printed too.
# With PIN=1 (the default on a machine of 2 or more CPUs) both gateways, every thread of theirs
# (workers, the journal's sync, the shipper and its SQLite inserts), run on CPU 1, and nginx and
# wrk on CPU 0: the gateway's core pays for all of accounting, as it would in production, and the
# scheduler's sharing of two cores between the busy processes stays out of the ratio (as in
# tracing.sh).
# Prints:  accounting: req/s off=X on=Y cost=Z%   (Z from the median paired ratio)
# Knobs: DURATION (s per round, default 4), ROUNDS (default 6), CONNECTIONS (default 32),
# WORKERS (gateway threads, default 1), PIN (0 or 1), SLUICE_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-4}"
rounds="${ROUNDS:-6}"
connections="${CONNECTIONS:-32}"
workers="${WORKERS:-1}"

bench_name="bench/gateway/accounting"
source "$root/bench/lib.sh"
bench_require wrk nginx node curl sqlite3

bench_workdir


upstream_port="$(free_port)"
body='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today?"}}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}'
start_nginx 1 "$(fixed_json_server "$upstream_port" "$body")"
wait_http "http://127.0.0.1:$upstream_port/"

declare -A port pid_of
variants=(off on)
for variant in "${variants[@]}"; do
  port[$variant]="$(free_port)"
  {
    gateway_config "${port[$variant]}"
    echo "admin: {address: 127.0.0.1, port: 0}"
    if [ "$variant" = on ]; then
      echo "policies:"
      accounting_policies_yaml "$work"
    fi
  } >"$work/$variant.yaml"
  "$bin" gateway --config "$work/$variant.yaml" >"$work/$variant.out" 2>"$work/$variant.err" &
  pids+=($!)
  pid_of[$variant]=$!
done
# CPU seconds (user + system, every thread: workers, journal sync, shipper) a process has used.
# Throughput on a shared machine is noisy; CPU per request is what accounting really costs.
for variant in "${variants[@]}"; do
  for _ in $(seq 1 100); do grep -q "admin on" "$work/$variant.out" && break; sleep 0.1; done
  grep -q "admin on" "$work/$variant.out" || { cat "$work/$variant.err" >&2; exit 1; }
done

pin_gateways "${pids[0]}" "${pid_of[off]}" "${pid_of[on]}"

request='{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'
url_of() { echo "http://127.0.0.1:${port[$1]}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"; }
cat >"$work/bench.lua" <<LUA
wrk.method = "POST"
wrk.body = '$request'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.requests))
end
LUA
for variant in "${variants[@]}"; do
  status="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "$request" "$(url_of "$variant")")"
  [ "$status" = 200 ] || { echo "bench/gateway/accounting: $variant answers $status" >&2; cat "$work/$variant.err" >&2; exit 1; }
done

declare -A best_rps best_p50 best_p99 sent cpu round_rps
ratios=()
for round in $(seq 1 "$rounds"); do
  order="off on"
  [ $((round % 2)) = 0 ] && order="on off"
  for variant in $order; do
    before="$(cpu_seconds "${pid_of[$variant]}")"
    line="$(${wrk_cpu:+taskset -c "$wrk_cpu"} wrk -t1 -c"$connections" -d"${duration}s" -s "$work/bench.lua" "$(url_of "$variant")" | grep '^RESULT')"
    sleep 0.3  # let the shipper drain this round's records, so their CPU counts here
    after="$(cpu_seconds "${pid_of[$variant]}")"
    read -r _ rps p50 p99 non200 total <<<"$line"
    cpu[$variant]="$(awk -v a="${cpu[$variant]:-0}" -v b="$before" -v c="$after" 'BEGIN{print a + c - b}')"
    if [ "$non200" != 0 ]; then
      echo "bench/gateway/accounting: $variant: $non200 of $total responses were not 200" >&2; exit 1
    fi
    sent[$variant]=$(( ${sent[$variant]:-0} + total ))
    if [ -z "${best_rps[$variant]:-}" ] || awk "BEGIN{exit !($rps > ${best_rps[$variant]})}"; then
      best_rps[$variant]=$rps; best_p50[$variant]=$p50; best_p99[$variant]=$p99
    fi
    round_rps[$variant]=$rps
    echo "round $round  $variant  $rps req/s" >&2
  done
  ratios+=("$(awk -v off="${round_rps[off]}" -v on="${round_rps[on]}" 'BEGIN{printf "%.4f", on / off}')")
done
median_ratio="$(median <<<"${ratios[*]}")"

# The accounting side must have kept up: every request measured (plus the probe) has its record.
expected=$(( ${sent[on]} + 1 ))
for _ in $(seq 1 100); do
  stored="$(sqlite3 "$work/usage.db" 'SELECT COUNT(*) FROM sluice_usage' 2>/dev/null || echo 0)"
  [ "$stored" -ge "$expected" ] && break
  sleep 0.2
done
[ "$stored" -ge "$expected" ] || { echo "bench/gateway/accounting: $stored records in the store, $expected expected" >&2; exit 1; }

echo
echo "accounting cost: $connections connections, $workers gateway thread(s), $rounds alternating rounds x ${duration}s$pin_note, $stored records stored"
printf '%-8s %12s %10s %10s\n' variant "req/s" "p50 us" "p99 us"
for variant in "${variants[@]}"; do
  printf '%-8s %12.0f %10.0f %10.0f\n' "$variant" "${best_rps[$variant]}" "${best_p50[$variant]}" "${best_p99[$variant]}"
done
awk -v off="${best_rps[off]}" -v on="${best_rps[on]}" -v median="$median_ratio" \
  'BEGIN{printf "accounting: req/s off=%.0f on=%.0f cost=%.1f%% (median of paired rounds; best-round cost %.1f%%; aim <= 5%%)\n", off, on, (1 - median) * 100, (off - on) / off * 100}'
awk -v off="${cpu[off]}" -v on="${cpu[on]}" -v n_off="${sent[off]}" -v n_on="${sent[on]}" \
  'BEGIN{a = off / n_off * 1e6; b = on / n_on * 1e6
         printf "accounting: cpu_us/req off=%.1f on=%.1f cost=%.1f%%\n", a, b, (b - a) / a * 100}'
