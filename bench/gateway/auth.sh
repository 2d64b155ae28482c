#!/usr/bin/env bash
# What inbound authentication costs the gateway, every variant measured in the same run against the
# same upstream (nginx returning a fixed chat completion JSON), with the same client:
#   off          sluice gateway, no identity policy               (the baseline; the client still
#                sends its bearer token, so every variant parses the same request bytes)
#   api_key      identity policy, API key in the api-key header   (SHA-256 + lookup per request;
#                the api-key header wins over the bearer token the client also sends)
#   jwt          identity policy, Entra-shaped RS256 bearer JWT, validation cache on (default)
#   jwt_nocache  the same with cache_size: 0                       (RSA verification per request)
#   jwt_limit    jwt, and a local token limit per app              (issue 14's "JWT (cached) +
#                local token limit" row: prompt estimate, reservation and settlement per request)
#   off_again    `off` once more, measured last in each round: the control. Its distance from
#                `off` is the noise floor of this run; read the other ratios against it.
# Each variant runs ROUNDS times, interleaved, at CONNECTIONS connections. Two figures per variant:
#   CPU per request   the gateway process's user+system CPU time (from /proc) over the requests it
#                     served, median of the rounds: the cost itself, and steady on a shared machine
#   requests/s        best round (the least disturbed one), with its p50 and p99 latency
# and both as ratios of `off`.
# Then issue 14's row on its own, as tracing.sh and accounting.sh measure theirs: PAIRS rounds of
# `off` and `jwt_limit` side by side, the order alternating, with the gateways on CPU 1 and nginx
# and wrk on CPU 0 (PIN, as bench/lib.sh). This machine's speed drifts by a third within a minute
# (`off_again` has read 1.28-1.47x `off` in the table above), so a cost of a few per cent shows
# only in ratios of neighbouring runs: the row is the median of the per-pair ratios of req/s and of
# CPU per request. Prints
#   auth: jwt_limit req/s ratio=R cpu ratio=C (median of N paired rounds; aim cost <= 5%)
# Keys and the token are made here with node:crypto (no dependencies); the JWKS is a file.
# Knobs: DURATION (s per round, default 5), ROUNDS (default 3), PAIRS (default 12; 2 s runs),
# CONNECTIONS (default 32),
# WORKERS (gateway threads, default 1), SLUICE_BIN, PERF=<variant> (one more round of that variant
# under `perf record -g`, written to perf-auth-<variant>.data in the working directory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-5}"
rounds="${ROUNDS:-3}"
connections="${CONNECTIONS:-32}"
workers="${WORKERS:-1}"

bench_name="bench/gateway/auth"
source "$root/bench/lib.sh"
bench_require wrk nginx node curl

bench_workdir


entra_token "$work"
token="$(cat "$work/token")"
api_key=bench-client-key-5d9c0a7e
api_key_sha="$(printf %s "$api_key" | sha256sum | cut -d' ' -f1)"

upstream_port="$(free_port)"
body='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today?"}}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}'
start_nginx 1 "$(fixed_json_server "$upstream_port" "$body")"
wait_http "http://127.0.0.1:$upstream_port/"

jwt_section() {  # cache_size
  echo "policies:"
  jwt_identity_yaml "$work" "$1"
}

declare -A port gateway_pid
variants=(off api_key jwt jwt_nocache jwt_limit off_again)
for variant in "${variants[@]}"; do
  port[$variant]="$(free_port)"
  {
    gateway_config "${port[$variant]}"
    case "$variant" in
      api_key) printf 'policies:\n  identity:\n    api_keys: {keys: [{id: bench, sha256: %s}]}\n' "$api_key_sha" ;;
      jwt) jwt_section 4096 ;;
      jwt_nocache) jwt_section 0 ;;
      jwt_limit)
        jwt_section 4096
        printf '  token_limit:\n    limits:\n      - {name: per-app, counter_key: app_id, tokens_per_minute: 1000000000000}\n'
        ;;
    esac
  } >"$work/$variant.yaml"
  "$bin" gateway --config "$work/$variant.yaml" >"$work/$variant.out" 2>"$work/$variant.err" &
  pids+=($!)
  gateway_pid[$variant]=$!
done
for variant in "${variants[@]}"; do
  for _ in $(seq 1 100); do grep -q "listening on" "$work/$variant.out" && break; sleep 0.1; done
  grep -q "listening on" "$work/$variant.out" || { cat "$work/$variant.err" >&2; exit 1; }
done

request='{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'
for variant in "${variants[@]}"; do
  case "$variant" in
    api_key) header="wrk.headers[\"api-key\"] = \"$api_key\"
wrk.headers[\"Authorization\"] = \"Bearer $token\"" ;;
    *) header="wrk.headers[\"Authorization\"] = \"Bearer $token\"" ;;
  esac
  cat >"$work/$variant.lua" <<LUA
wrk.method = "POST"
wrk.body = '$request'
wrk.headers["Content-Type"] = "application/json"
$header
local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.requests))
end
LUA
  # Every variant must answer 200 before it is measured (a refused request is not a fast one).
  auth=()
  case "$variant" in
    api_key) auth=(-H "api-key: $api_key" -H "Authorization: Bearer $token") ;;
    *) auth=(-H "Authorization: Bearer $token") ;;
  esac
  headers="$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' \
    ${auth[@]+"${auth[@]}"} --data "$request" \
    "http://127.0.0.1:${port[$variant]}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")"
  status="$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' <<<"$headers")"
  [ "$status" = 200 ] || { echo "bench/gateway/auth: $variant answers $status" >&2; cat "$work/$variant.err" >&2; exit 1; }
  # The limited variant must really be limiting, the others not.
  limited=no
  grep -qi '^x-ratelimit-remaining-tokens:' <<<"$headers" && limited=yes
  if [ "$limited" != "$([ "$variant" = jwt_limit ] && echo yes || echo no)" ]; then
    echo "bench/gateway/auth: $variant limiting=$limited" >&2; exit 1
  fi
done

cpu_ticks() {  # pid → utime + stime in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
ticks_per_second="$(getconf CLK_TCK)"

# One wrk run of `variant` for `seconds`: sets rps, p50, p99 and cpu_us (the gateway's CPU per
# request). Every response must be a 200.
measure() {  # variant seconds
  local variant="$1" before after line non200 total
  before="$(cpu_ticks "${gateway_pid[$variant]}")"
  line="$(${wrk_cpu:+taskset -c "$wrk_cpu"} wrk -t1 -c"$connections" -d"$2s" -s "$work/$variant.lua" \
    "http://127.0.0.1:${port[$variant]}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21" |
    grep '^RESULT')"
  after="$(cpu_ticks "${gateway_pid[$variant]}")"
  read -r _ rps p50 p99 non200 total <<<"$line"
  if [ "$non200" != 0 ]; then
    echo "bench/gateway/auth: $variant: $non200 of $total responses were not 200" >&2; exit 1
  fi
  cpu_us="$(awk "BEGIN{printf \"%.2f\", ($after - $before) * 1e6 / $ticks_per_second / $total}")"
}

declare -A best_rps best_p50 best_p99 cpu_samples
for round in $(seq 1 "$rounds"); do
  for variant in "${variants[@]}"; do
    measure "$variant" "$duration"
    cpu_samples[$variant]="${cpu_samples[$variant]:-} $cpu_us"
    if [ -z "${best_rps[$variant]:-}" ] || awk "BEGIN{exit !($rps > ${best_rps[$variant]})}"; then
      best_rps[$variant]=$rps; best_p50[$variant]=$p50; best_p99[$variant]=$p99
    fi
    echo "round $round  $variant  $rps req/s  $cpu_us CPU us/request" >&2
  done
done

if [ -n "${PERF:-}" ]; then
  perf record -q -F 499 --call-graph dwarf,16384 -o "perf-auth-$PERF.data" -p "${gateway_pid[$PERF]}" -- sleep "$duration" &
  perf_pid=$!
  wrk -t1 -c"$connections" -d"${duration}s" -s "$work/$PERF.lua" \
    "http://127.0.0.1:${port[$PERF]}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21" >/dev/null
  wait "$perf_pid" || true
  echo "bench/gateway/auth: profile of $PERF in perf-auth-$PERF.data (perf report -i ...)" >&2
fi

declare -A cpu
for variant in "${variants[@]}"; do cpu[$variant]="$(median <<<"${cpu_samples[$variant]}")"; done

echo
echo "inbound auth cost: $connections connections, $workers gateway thread(s), $rounds rounds x ${duration}s"
printf '%-12s %14s %12s %12s %10s %10s %10s\n' variant "CPU us/req" "CPU vs off" "best req/s" "req/s vs off" "p50 us" "p99 us"
for variant in "${variants[@]}"; do
  printf '%-12s %14.2f %12s %12.0f %12s %10.0f %10.0f\n' "$variant" "${cpu[$variant]}" \
    "$(awk "BEGIN{printf \"%.3f\", ${cpu[$variant]} / ${cpu[off]}}")" "${best_rps[$variant]}" \
    "$(awk "BEGIN{printf \"%.3f\", ${best_rps[$variant]} / ${best_rps[off]}}")" \
    "${best_p50[$variant]}" "${best_p99[$variant]}"
done
summary="auth: cpu_per_request_vs_off"
for variant in "${variants[@]}"; do
  [ "$variant" = off ] && continue
  summary+=" $variant=$(awk "BEGIN{printf \"%.3f\", ${cpu[$variant]} / ${cpu[off]}}")"
done
echo "$summary"

# Issue 14's row: off and jwt_limit in neighbouring runs, the order alternating, pinned.
pairs="${PAIRS:-12}"
pin_gateways "${pids[0]}" "${gateway_pid[off]}" "${gateway_pid[jwt_limit]}"
rps_ratios=()
cpu_ratios=()
declare -A pair_rps pair_cpu
for pair in $(seq 1 "$pairs"); do
  order="off jwt_limit"
  [ $((pair % 2)) = 0 ] && order="jwt_limit off"
  for variant in $order; do
    measure "$variant" 2
    pair_rps[$variant]=$rps
    pair_cpu[$variant]=$cpu_us
    echo "pair $pair  $variant  $rps req/s  $cpu_us CPU us/request" >&2
  done
  rps_ratios+=("$(awk -v a="${pair_rps[jwt_limit]}" -v b="${pair_rps[off]}" 'BEGIN{printf "%.4f", a / b}')")
  cpu_ratios+=("$(awk -v a="${pair_cpu[jwt_limit]}" -v b="${pair_cpu[off]}" 'BEGIN{printf "%.4f", a / b}')")
done
printf "auth: jwt_limit req/s ratio=%.3f cpu ratio=%.3f" "$(median <<<"${rps_ratios[*]}")" "$(median <<<"${cpu_ratios[*]}")"; echo " (median of $pairs paired rounds$pin_note; aim cost <= 5%)"
