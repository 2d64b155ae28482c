#!/usr/bin/env bash
# Gateway throughput and added latency, every proxy measured in the same run against the same
# upstream (nginx returning a fixed chat completion JSON):
#   direct     wrk → upstream                    (the baseline for added latency)
#   nginx      wrk → nginx reverse proxy (keep-alive upstream) → upstream
#   sluice     wrk → sluice gateway (default policies) → upstream
#   portkey    wrk → Portkey gateway (npm @portkey-ai/gateway) → upstream
# at 1 and 64 connections, each proxy with the same number of worker threads (WORKERS, default 1;
# Portkey is single-threaded Node). Prints requests/s, p50/p99 latency added over direct, and the
# ratios to nginx, and the CPU each proxy spends per request (steadier than req/s on a shared
# machine); and, measured first, the memory nginx and sluice hold per idle keep-alive
# connection. Loopback only; everything stops by itself.
# Knobs: DURATION (s per measurement, default 4), ROUNDS (default 5), WORKERS, SLUICE_BIN,
# SKIP_PORTKEY=1, IDLE_CONNECTIONS (default 2000).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-4}"
workers="${WORKERS:-1}"

bench_name="bench/gateway"
source "$root/bench/lib.sh"
bench_require wrk nginx node curl

bench_workdir


upstream_port="$(free_port)"; nginx_port="$(free_port)"; sluice_port="$(free_port)"; portkey_port="$(free_port)"
body='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today?"}}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}'

# The upstream is an nginx of its own (as many workers as the proxies), so every proxy reaches it the way a gateway
# reaches Azure: across processes. (With the upstream inside the proxying nginx, nginx's upstream
# hop would stay in one process and skip the two wake-ups every other proxy pays.)
start_nginx $workers "$(fixed_json_server "$upstream_port" "$body")" upstream
start_nginx $workers "$(nginx_proxy_server "$nginx_port" "$upstream_port")"

gateway_config "$sluice_port" >"$work/gateway.yaml"
"$bin" gateway --config "$work/gateway.yaml" >"$work/gateway.out" 2>"$work/gateway.err" &
gateway_pid=$!
pids+=($gateway_pid)

with_portkey=0
if [ "${SKIP_PORTKEY:-0}" != 1 ]; then
  if (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1); then
    PORT="$portkey_port" NODE_ENV=production node "$here/node_modules/@portkey-ai/gateway/build/start-server.js" \
      --port="$portkey_port" --headless >"$work/portkey.out" 2>&1 &
    portkey_pid=$!
    pids+=($portkey_pid)
    with_portkey=1
  else
    echo "bench/gateway: could not install @portkey-ai/gateway; Portkey left out" >&2
  fi
fi

wait_http "http://127.0.0.1:$upstream_port/"
wait_http "http://127.0.0.1:$nginx_port/"
for _ in $(seq 1 100); do grep -q "listening on" "$work/gateway.out" && break; sleep 0.1; done
[ "$with_portkey" = 1 ] && wait_http "http://127.0.0.1:$portkey_port/"

post_lua "$work/azure.lua" '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}' api-key client
cat >"$work/portkey.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
wrk.headers["x-portkey-provider"] = "openai"
wrk.headers["x-portkey-custom-host"] = "http://127.0.0.1:$upstream_port/v1"
LUA

# Prints "rps p50_us p99_us cpu_us_per_request" for one wrk run; the CPU figure is that of the
# processes PIDS, summed (0 when none is given): every nginx worker when WORKERS > 1. CPU per
# request moves far less than req/s on a shared machine.
measure() {  # url script connections [pids, space-separated]
  local out="$work/wrk.out" cpu_before=0 cpu_after=0
  # shellcheck disable=SC2086 # the pids are words
  [ "${4:-0}" != 0 ] && cpu_before="$(cpu_seconds $4)"
  wrk -t1 -c"$3" -d"${duration}s" --latency -s "$2" "$1" >"$out" 2>&1 || true
  # shellcheck disable=SC2086
  [ "${4:-0}" != 0 ] && cpu_after="$(cpu_seconds $4)"
  local rps p50 p99 errors requests cpu
  rps="$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$out")"
  errors="$(sed -n 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$out")"
  to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1000000}}'; }
  p50="$(awk '$1=="50%"{print $2}' "$out" | to_us)"
  p99="$(awk '$1=="99%"{print $2}' "$out" | to_us)"
  if [ -n "$errors" ] && [ "$errors" != 0 ]; then echo "bench/gateway: $1 answered $errors non-2xx responses" >&2; fi
  requests="$(awk '/requests in/{print $1}' "$out")"
  cpu="$(awk -v a="$cpu_after" -v b="$cpu_before" -v n="${requests:-0}" 'BEGIN{printf "%.1f", (n>0)?(a-b)*1e6/n:0}')"
  echo "${rps:-0} ${p50:-0} ${p99:-0} $cpu"
}

# Memory per idle keep-alive connection, measured first, while the proxies are fresh (after load an
# allocator keeps freed memory for reuse and RSS no longer grows): each proxy takes IDLE_CONNECTIONS
# client connections that had one request answered and now wait for the next;
# (RSS with them - RSS before) / connections.
# 32 are opened at a time, so the upstream pools stay small. Kernel socket buffers are not in RSS.
idle_connections="${IDLE_CONNECTIONS:-2000}"
rss_kib() {  # pid... → their resident memory, summed (KiB)
  local pid files=()
  for pid in "$@"; do files+=("/proc/$pid/status"); done
  awk '/^VmRSS:/{s += $2} END{print s}' "${files[@]}"
}
idle_rss() {  # name pids (space-separated) port path
  local before after holder
  # shellcheck disable=SC2086 # the pids are words
  before="$(rss_kib $2)"
  node "$here/idle_connections.mjs" 127.0.0.1 "$3" "$4" "$idle_connections" 32 >"$work/idle.out" 2>&1 &
  holder=$!
  for _ in $(seq 1 600); do grep -q '^ready' "$work/idle.out" && break; kill -0 "$holder" 2>/dev/null || break; sleep 0.1; done
  if ! grep -q '^ready' "$work/idle.out"; then
    echo "bench/gateway: $1 did not take $idle_connections idle connections: $(cat "$work/idle.out")" >&2
    kill "$holder" 2>/dev/null || true
    return
  fi
  # shellcheck disable=SC2086
  after="$(rss_kib $2)"
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  awk -v n="$idle_connections" -v a="$after" -v b="$before" -v name="$1" \
    'BEGIN{printf "memory: %s idle_connections=%d rss_before_kib=%d rss_after_kib=%d kib_per_idle_connection=%.1f\n", name, n, b, a, (a-b)/n}' \
    | tee -a "$work/summary"
}
path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
# Every worker of the proxying nginx (WORKERS of them): their CPU and memory are summed.
nginx_workers="$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | tr '\n' ' ')"
echo
idle_rss nginx "$nginx_workers" "$nginx_port" "$path"
idle_rss sluice "$gateway_pid" "$sluice_port" "$path"

# Rounds: this machine's speed can halve for seconds, and one measurement of each proxy in turn
# once read 0.76 of nginx at c=64 where the next run read 1.12 with the same binary (both had the
# same CPU a request). So each connection count is measured ROUNDS times; each round takes direct,
# nginx and sluice back to back, in an order that turns each round, and gives its own ratios to
# nginx; the figures printed are the medians of those paired ratios and of each proxy's rounds.
# Portkey (the slowest by far) is measured once, in the first round.
rounds="${ROUNDS:-5}"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.4f", (a>0 && b>0)?a/b:0}'; }
printf '\n%-8s %5s %12s %12s %12s %10s %14s %14s %12s %10s\n' proxy conns "req/s" "p50 added" "p99 added" \
  "rps/nginx" "p50add/nginx" "p99add/nginx" "cpu us/req" "cpu/nginx"
for conns in 1 64; do
  declare -A got=() all=()
  names=(direct nginx sluice)
  for round in $(seq 1 "$rounds"); do
    turn=$(( (round - 1) % 3 ))
    for name in "${names[@]:$turn}" "${names[@]:0:$turn}"; do
      case "$name" in
        direct) got[direct]="$(measure "http://127.0.0.1:$upstream_port$path" "$work/azure.lua" "$conns")" ;;
        nginx) got[nginx]="$(measure "http://127.0.0.1:$nginx_port$path" "$work/azure.lua" "$conns" "$nginx_workers")" ;;
        sluice) got[sluice]="$(measure "http://127.0.0.1:$sluice_port$path" "$work/azure.lua" "$conns" "$gateway_pid")" ;;
      esac
    done
    read -r d_rps d_p50 d_p99 _ <<<"${got[direct]}"
    read -r n_rps n_p50 n_p99 n_cpu <<<"${got[nginx]}"
    read -r s_rps s_p50 s_p99 s_cpu <<<"${got[sluice]}"
    n_add50="$(awk -v a="$n_p50" -v b="$d_p50" 'BEGIN{print a-b}')"
    n_add99="$(awk -v a="$n_p99" -v b="$d_p99" 'BEGIN{print a-b}')"
    # Per proxy and round: rps, added p50, added p99, CPU a request, and the four ratios to nginx's.
    for name in nginx sluice; do
      read -r rps p50 p99 cpu <<<"${got[$name]}"
      add50="$(awk -v a="$p50" -v b="$d_p50" 'BEGIN{print a-b}')"
      add99="$(awk -v a="$p99" -v b="$d_p99" 'BEGIN{print a-b}')"
      all[$name.rps]="${all[$name.rps]:-} $rps"
      all[$name.add50]="${all[$name.add50]:-} $add50"
      all[$name.add99]="${all[$name.add99]:-} $add99"
      all[$name.cpu]="${all[$name.cpu]:-} $cpu"
      all[$name.rr]="${all[$name.rr]:-} $(ratio "$rps" "$n_rps")"
      all[$name.lr]="${all[$name.lr]:-} $(ratio "$add50" "$n_add50")"
      all[$name.pr]="${all[$name.pr]:-} $(ratio "$add99" "$n_add99")"
      all[$name.cr]="${all[$name.cr]:-} $(ratio "$cpu" "$n_cpu")"
    done
    all[direct.rps]="${all[direct.rps]:-} $d_rps"
    printf '  round %s c=%-3s req/s direct %.0f nginx %.0f sluice %.0f (%.2f); cpu us/req nginx %s sluice %s\n' \
      "$round" "$conns" "$d_rps" "$n_rps" "$s_rps" "$(ratio "$s_rps" "$n_rps")" "$n_cpu" "$s_cpu"
    if [ "$round" = 1 ] && [ "$with_portkey" = 1 ]; then
      read -r p_rps p_p50 p_p99 p_cpu < <(measure "http://127.0.0.1:$portkey_port/v1/chat/completions" "$work/portkey.lua" "$conns" "$portkey_pid")
      p_add50="$(awk -v a="$p_p50" -v b="$d_p50" 'BEGIN{print a-b}')"
      p_add99="$(awk -v a="$p_p99" -v b="$d_p99" 'BEGIN{print a-b}')"
      all[portkey.rps]=" $p_rps"; all[portkey.add50]=" $p_add50"; all[portkey.add99]=" $p_add99"
      all[portkey.cpu]=" $p_cpu"; all[portkey.rr]=" $(ratio "$p_rps" "$n_rps")"
      all[portkey.lr]=" $(ratio "$p_add50" "$n_add50")"; all[portkey.pr]=" $(ratio "$p_add99" "$n_add99")"
      all[portkey.cr]=" $(ratio "$p_cpu" "$n_cpu")"
    fi
  done
  m() { median <<<"${all[$1]}"; }
  row() {  # name
    local n="$1" rr lr pr cr
    rr="$(printf '%.2f' "$(m "$n.rr")")"; lr="$(printf '%.2f' "$(m "$n.lr")")"
    pr="$(printf '%.2f' "$(m "$n.pr")")"; cr="$(printf '%.2f' "$(m "$n.cr")")"
    printf '%-8s %5s %12.0f %10.0fus %10.0fus %10s %14s %14s %12s %10s\n' "$n" "$conns" "$(m "$n.rps")" \
      "$(m "$n.add50")" "$(m "$n.add99")" "$rr" "$lr" "$pr" "$(m "$n.cpu")" "$cr"
    echo "gateway: c=$conns $n req/s=$(m "$n.rps") p50_added_us=$(m "$n.add50") p99_added_us=$(m "$n.add99") rps_ratio_to_nginx=$rr p50_added_ratio_to_nginx=$lr p99_added_ratio_to_nginx=$pr cpu_us_per_req=$(m "$n.cpu") cpu_ratio_to_nginx=$cr rounds=$rounds" >>"$work/summary"
  }
  printf '%-8s %5s %12.0f %12s %12s\n' direct "$conns" "$(m direct.rps)" "-" "-"
  row nginx
  row sluice
  [ "$with_portkey" = 1 ] && [ -n "${all[portkey.rps]:-}" ] && row portkey
  unset got all
done

echo
cat "$work/summary"
