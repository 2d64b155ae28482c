#!/usr/bin/env bash
# How req/s grows from one worker thread to two: the sluice gateway with `threads: 1` and
# `threads: 2`, and, as the baseline measured in the same run, an nginx reverse proxy with
# `worker_processes 1` and `2`, all in front of the same upstream (nginx returning a fixed chat
# completion, two workers) and driven by the same wrk (two threads, 64 connections). Rounds
# alternate the order of the four proxies, and each figure is the median over the rounds, because
# this machine's speed drifts by a third from one minute to the next.
#
# What it can show depends on the machine: a second worker can only help as far as there is a core
# for it. On a 2-core machine, wrk and the upstream already take about a core, so neither proxy
# can double; the line to read there is sluice's scaling next to nginx's, not the 1.8x of a
# machine with cores to spare.
#
# Prints:  scaling: sluice rps_1=A rps_2=B ratio=R  nginx rps_1=C rps_2=D ratio=S  relative=R/S
# Knobs: DURATION (s per measurement, default 3), ROUNDS (default 5), CONNECTIONS (default 64),
# SLUICE_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-3}"
rounds="${ROUNDS:-5}"
connections="${CONNECTIONS:-64}"

bench_name="bench/gateway/scaling"
source "$root/bench/lib.sh"
bench_require wrk nginx curl

bench_workdir

upstream_port="$(free_port)"
body='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today?"}}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}'
start_nginx 2 "$(fixed_json_server "$upstream_port" "$body")" upstream
wait_http "http://127.0.0.1:$upstream_port/"

declare -A url
for n in 1 2; do
  port="$(free_port)"
  start_nginx "$n" "$(nginx_proxy_server "$port" "$upstream_port")" "nginx-$n"
  url[nginx-$n]="http://127.0.0.1:$port"
  wait_http "${url[nginx-$n]}/"
  workers=$n
  start_gateway "sluice-$n" "admin: {address: 127.0.0.1, port: 0}"
  url[sluice-$n]="${gateway_url[sluice-$n]}"
done

path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
post_lua "$work/post.lua" '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}' api-key bench
for name in sluice-1 sluice-2 nginx-1 nginx-2; do
  status="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}' "${url[$name]}$path")"
  [ "$status" = 200 ] || { echo "$bench_name: $name answers $status" >&2; exit 1; }
done

# Prints the req/s of one wrk run (two wrk threads, so that wrk is not what limits two workers).
rps_of() {  # url
  local out="$work/wrk.out" errors
  wrk -t2 -c"$connections" -d"${duration}s" -s "$work/post.lua" "$1" >"$out" 2>&1 || true
  errors="$(sed -n 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$out")"
  if [ -n "$errors" ] && [ "$errors" != 0 ]; then
    echo "$bench_name: $1 answered $errors non-2xx responses" >&2; cat "$out" >&2; exit 1
  fi
  sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$out"
}


declare -A samples
orders=("sluice-1 sluice-2 nginx-1 nginx-2" "nginx-2 nginx-1 sluice-2 sluice-1"
        "sluice-2 nginx-1 sluice-1 nginx-2" "nginx-1 sluice-2 nginx-2 sluice-1")
for round in $(seq 1 "$rounds"); do
  for name in ${orders[$(( (round - 1) % ${#orders[@]} ))]}; do
    rps="$(rps_of "${url[$name]}$path")"
    samples[$name]="${samples[$name]:-} $rps"
    echo "round $round  $name  $rps req/s" >&2
  done
done
declare -A med
for name in sluice-1 sluice-2 nginx-1 nginx-2; do
  med[$name]="$(median <<<"${samples[$name]}")"
done

echo
echo "worker scaling: $connections connections, wrk with 2 threads, $rounds rounds x ${duration}s (medians), $(nproc) CPUs"
printf '%-8s %12s %12s %8s\n' proxy "1 worker" "2 workers" ratio
for proxy in sluice nginx; do
  awk -v p="$proxy" -v a="${med[$proxy-1]}" -v b="${med[$proxy-2]}" \
    'BEGIN{printf "%-8s %12.0f %12.0f %8.2f\n", p, a, b, b / a}'
done
awk -v s1="${med[sluice-1]}" -v s2="${med[sluice-2]}" -v n1="${med[nginx-1]}" -v n2="${med[nginx-2]}" \
  'BEGIN{printf "scaling: sluice rps_1=%.0f rps_2=%.0f ratio=%.2f  nginx rps_1=%.0f rps_2=%.0f ratio=%.2f  relative=%.2f (aim: ratio >= 1.8 where a core is free for the second worker)\n", s1, s2, s2 / s1, n1, n2, n2 / n1, (s2 / s1) / (n2 / n1)}'
