#!/usr/bin/env bash
# What token limits cost: three sluice gateways in the same run, same config but for the
# token_limit policy, in front of the same upstream (nginx returning a fixed chat completion):
#   off     no token_limit policy                                  (the baseline)
#   local   token_limit, store: local  (sharded in-process counters)
#   redis   token_limit, store: redis  (a private redis-server on loopback started here)
# Every request is limited (tokenizer prompt estimate + max_tokens reserved, reconciled with the
# upstream's usage afterwards) against one counter key, the worst case for contention; the limits
# are high enough that nothing is refused (a refusal would make the run look faster). wrk drives
# each gateway in turn, ROUNDS times; the order turns each round (off local redis, local redis off,
# redis off local) so that a drift of the machine's speed does not favour one gateway. This
# machine's speed can halve for a few seconds: taking the best round of each (as this script did
# until 2026-12-07) once printed redis 1.14x off when off's two rounds were both slowed. So each
# round gives its own local/off and redis/off ratios, and the medians of those are the figures.
# Prints: limits: req/s off=X local=Y (ratio) redis=Z (ratio), the ratios the medians of the
# rounds' and the req/s the medians of each gateway's rounds; and per round the CPU each request
# cost the gateway (and redis-server, for the redis gateway), which the machine's noise moves less.
# Knobs: DURATION (s per measurement, default 4), CONNECTIONS (default 32), WORKERS (gateway
# threads, default 1), ROUNDS (default 6), SLUICE_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-4}"
connections="${CONNECTIONS:-32}"
workers="${WORKERS:-1}"
rounds="${ROUNDS:-6}"

bench_name="bench/limits"
source "$root/bench/lib.sh"
bench_require wrk nginx node curl redis-server redis-cli

bench_workdir


upstream_port="$(free_port)"
redis_port="$(free_port)"
start_nginx 1 "$(fixed_json_server "$upstream_port" "$chat_completion_body")"
start_redis "$redis_port"

policy_local='
policies:
  token_limit:
    limits:
      - {name: per-team, counter_key: "header:x-team", tokens_per_minute: 1000000000000, token_quota: 1000000000000, token_quota_period: daily}'
policy_redis="$policy_local
    store: redis
    redis: {url: \"redis://127.0.0.1:$redis_port\", timeout: 200ms, pool_size: 4, key_prefix: \"bench-$$:\"}"

start_gateway off ""
start_gateway local "$policy_local"
start_gateway redis "$policy_redis"
wait_http "http://127.0.0.1:$upstream_port/"

path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
request='{"messages":[{"role":"user","content":"Hello, how are you today?"}],"max_tokens":16}'
post_lua "$work/post.lua" "$request" x-team bench

# The policy must really be on: the limited gateways answer with the headers, the other without.
for name in off local redis; do
  headers="$(curl -sS -D - -o /dev/null -X POST -H 'content-type: application/json' -H 'x-team: bench' \
    -d "$request" "${gateway_url[$name]}$path")"
  case "$name:$headers" in
    off:*x-ratelimit-remaining-tokens*) echo "bench/limits: 'off' gateway is limiting" >&2; exit 1 ;;
    off:*) ;;
    *x-ratelimit-remaining-tokens*) ;;
    *) echo "bench/limits: gateway '$name' did not limit:" >&2; echo "$headers" >&2; exit 1 ;;
  esac
done

measure() {  # name -> "rps p50 gateway_us_per_request redis_us_per_request"
  local out="$work/wrk-$1.out"
  local gateway_before redis_before gateway_after redis_after
  gateway_before="$(cpu_seconds "${gateway_pids[$1]}")"
  redis_before="$(cpu_seconds "$redis_pid")"
  wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$work/post.lua" "${gateway_url[$1]}$path" >"$out" 2>&1 || true
  gateway_after="$(cpu_seconds "${gateway_pids[$1]}")"
  redis_after="$(cpu_seconds "$redis_pid")"
  local rps p50 errors requests
  rps="$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$out")"
  p50="$(awk '$1=="50%"{print $2}' "$out")"
  errors="$(sed -n 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$out")"
  if [ -n "$errors" ] && [ "$errors" != 0 ]; then
    echo "bench/limits: gateway '$1' answered $errors non-2xx responses" >&2; cat "$out" >&2; exit 1
  fi
  requests="$(sed -n 's/^[[:space:]]*\([0-9]*\) requests in.*/\1/p' "$out")"
  echo "${requests:-0}" >>"$work/requests-$1"
  awk -v rps="${rps:-0}" -v p50="${p50:-?}" -v n="${requests:-0}" -v g0="$gateway_before" \
    -v g1="$gateway_after" -v r0="$redis_before" -v r1="$redis_after" \
    'BEGIN{ if (n < 1) n = 1; printf "%s %s %.1f %.1f\n", rps, p50, (g1-g0)*1e6/n, (r1-r0)*1e6/n }'
}

declare -A round_rps all_rps all_p50
local_ratios=()
redis_ratios=()
names=(off local redis)
echo "== token limits: wrk -t1 -c$connections -d${duration}s, $workers gateway thread(s), $rounds rounds"
for round in $(seq 1 "$rounds"); do
  turn=$(( (round - 1) % 3 ))
  for name in "${names[@]:$turn}" "${names[@]:0:$turn}"; do
    read -r rps p50 gateway_cpu redis_cpu < <(measure "$name")
    if [ "$name" = redis ]; then
      printf '  round %s %-6s %10.0f req/s  p50 %-8s CPU/request: gateway %s us, redis-server %s us\n' \
        "$round" "$name" "$rps" "$p50" "$gateway_cpu" "$redis_cpu"
    else
      printf '  round %s %-6s %10.0f req/s  p50 %-8s CPU/request: gateway %s us\n' \
        "$round" "$name" "$rps" "$p50" "$gateway_cpu"
    fi
    round_rps[$name]="$rps"
    all_rps[$name]="${all_rps[$name]:-} $rps"
    all_p50[$name]="${all_p50[$name]:-} $p50"
  done
  local_ratios+=("$(awk -v a="${round_rps[local]}" -v b="${round_rps[off]}" 'BEGIN{printf "%.4f", (b>0)?a/b:0}')")
  redis_ratios+=("$(awk -v a="${round_rps[redis]}" -v b="${round_rps[off]}" 'BEGIN{printf "%.4f", (b>0)?a/b:0}')")
done
# Redis really holds the counter (the window key of the bench counter exists).
keys="$(redis-cli -p "$redis_port" --scan --pattern "bench-$$:tl:per-team:*" | wc -l)"
[ "$keys" -ge 1 ] || { echo "bench/limits: no token_limit keys in Redis" >&2; exit 1; }

# What Redis did per request of the redis gateway: script calls (a reservation each, plus the
# settlements, which are coalesced) and the server's time per call.
redis_requests="$(awk '{n += $1} END {print n + 0}' "$work/requests-redis")"
read -r evalsha_calls evalsha_usec < <(redis-cli -p "$redis_port" info commandstats |
  sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),usec=[0-9]*,usec_per_call=\([0-9.]*\).*/\1 \2/p')
awk -v calls="${evalsha_calls:-0}" -v usec="${evalsha_usec:-0}" -v n="$redis_requests" \
  'BEGIN{ if (n < 1) n = 1; printf "redis: %.2f script calls per request, %s us per call in redis-server\n", calls / n, usec }'

# p50s as wrk prints them ("812.00us", "1.18ms", "1.02s"); their median in ms.
median_p50_ms() {
  local value out=()
  for value in $1; do
    case "$value" in
      *us) out+=("$(awk -v v="${value%us}" 'BEGIN{print v / 1000}')") ;;
      *ms) out+=("${value%ms}") ;;
      *s) out+=("$(awk -v v="${value%s}" 'BEGIN{print v * 1000}')") ;;
    esac
  done
  median <<<"${out[*]}"
}
printf 'limits: req/s off=%.0f local=%.0f (%.2f) redis=%.0f (%.2f)  p50 off=%.2fms local=%.2fms redis=%.2fms (medians of %s rounds; ratios paired within each round)\n' \
  "$(median <<<"${all_rps[off]}")" "$(median <<<"${all_rps[local]}")" \
  "$(median <<<"${local_ratios[*]}")" "$(median <<<"${all_rps[redis]}")" \
  "$(median <<<"${redis_ratios[*]}")" "$(median_p50_ms "${all_p50[off]}")" \
  "$(median_p50_ms "${all_p50[local]}")" "$(median_p50_ms "${all_p50[redis]}")" "$rounds"
