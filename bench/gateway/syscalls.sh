#!/usr/bin/env bash
# System calls per request, counted exactly: the sluice gateway against nginx as a plain reverse
# proxy, and the sluice simulator against nginx answering fixed JSON, each under wrk at
# $CONNECTIONS keep-alive connections with `strace -c -f` attached to the server process. On a
# virtual machine a system call is the dearest thing a request does (the hypervisor's interrupt
# enable on the way out of each one is ~18 % of the gateway's samples in docs/flame/), so the
# count is a cost that timing noise cannot hide. strace slows the process it traces; the counts
# do not depend on that, the request totals come from the same traced run.
# Prints, per server, the calls a request by name ("recvfrom 2.00 (1.00 failed)") and:
#   syscalls: gateway=G nginx_proxy=N ratio=G/N   and   syscalls: sim=S nginx=M ratio=S/M
# Knobs: DURATION (s of load, default 3), CONNECTIONS (default 64), SLUICE_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-3}"
connections="${CONNECTIONS:-64}"
workers=1

bench_name="bench/gateway/syscalls"
source "$root/bench/lib.sh"
bench_require wrk nginx node curl strace

bench_workdir

upstream_port="$(free_port)"
proxy_port="$(free_port)"
sluice_port="$(free_port)"
sim_port="$(free_port)"
start_nginx 1 "$(fixed_json_server "$upstream_port" "$chat_completion_body")" upstream
start_nginx 1 "$(nginx_proxy_server "$proxy_port" "$upstream_port")" proxy
gateway_config "$sluice_port" >"$work/gateway.yaml"
"$bin" gateway --config "$work/gateway.yaml" >"$work/gateway.out" 2>"$work/gateway.err" &
pids+=($!)
gateway_pid=$!
"$bin" sim --host 127.0.0.1 --port "$sim_port" --threads 1 --tpm 0 --ttft-ms 0 \
  --tokens-per-second 0 --deployment gpt-4o=gpt-4o --api-key bench=bench >"$work/sim.out" 2>&1 &
pids+=($!)
sim_pid=$!

path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
for url in "http://127.0.0.1:$upstream_port/" "http://127.0.0.1:$proxy_port/" \
  "http://127.0.0.1:$sluice_port/healthz" "http://127.0.0.1:$sim_port/healthz"; do
  wait_http "$url"
done
post_lua "$work/post.lua" '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}' api-key bench

# nginx's worker process (the one with a parent, not the master) of instance $1.
nginx_worker() { pgrep -P "$(cat "$work/$1/nginx.pid")" | head -1; }

# Traces PID while wrk drives URL; prints "total failed requests" and leaves the table in
# $work/strace-NAME.txt.
count() {  # name pid url
  local table="$work/strace-$1.txt" tracer requests
  strace -c -f -q -p "$2" -o "$table" &
  tracer=$!
  sleep 0.5
  wrk -t1 -c"$connections" -d"${duration}s" -s "$work/post.lua" "$3" >"$work/wrk-$1.out" 2>&1
  sleep 0.2
  kill -INT "$tracer"
  wait "$tracer" 2>/dev/null || true
  if grep -q "Non-2xx" "$work/wrk-$1.out"; then
    echo "$bench_name: $1 answered errors:" >&2
    cat "$work/wrk-$1.out" >&2
    exit 1
  fi
  requests="$(awk '/requests in/{print $1}' "$work/wrk-$1.out")"
  [ "${requests:-0}" -gt 0 ] || { echo "$bench_name: no requests reached $1" >&2; exit 1; }
  echo "$requests" >"$work/requests-$1"
}

# Prints the table of $1 per request, and sets per_request[$1].
declare -A per_request
report() {  # name
  local requests
  requests="$(cat "$work/requests-$1")"
  echo "$1 ($requests requests):"
  # strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall; the total row last.
  awk -v n="$requests" '
    /^-|% time|^$/ {next}
    $NF == "total" {next}
    { calls = $4; errors = (NF == 6) ? $5 : 0; name = $NF
      if (calls / n < 0.005) next
      line = sprintf("  %-14s %6.2f", name, calls / n)
      if (errors > 0) line = line sprintf("  (%.2f failed)", errors / n)
      print line }' "$work/strace-$1.txt"
  per_request[$1]="$(awk -v n="$requests" '$NF == "total" {printf "%.2f", $4 / n}' "$work/strace-$1.txt")"
  echo "  all            ${per_request[$1]}"
}

count gateway "$gateway_pid" "http://127.0.0.1:$sluice_port$path"
count nginx_proxy "$(nginx_worker proxy)" "http://127.0.0.1:$proxy_port$path"
count sim "$sim_pid" "http://127.0.0.1:$sim_port$path"
count nginx "$(nginx_worker upstream)" "http://127.0.0.1:$upstream_port$path"

echo
echo "system calls per request: $connections keep-alive connections, one worker each, ${duration}s under strace -c"
for name in gateway nginx_proxy sim nginx; do report "$name"; done
awk -v g="${per_request[gateway]}" -v n="${per_request[nginx_proxy]}" \
  'BEGIN{printf "syscalls: gateway=%.2f nginx_proxy=%.2f ratio=%.2f (per request; lower is better)\n", g, n, g / n}'
awk -v s="${per_request[sim]}" -v n="${per_request[nginx]}" \
  'BEGIN{printf "syscalls: sim=%.2f nginx=%.2f ratio=%.2f (per request, fixed JSON; lower is better)\n", s, n, s / n}'
