#!/usr/bin/env bash
# Where accounting's CPU goes: user and system time per request of each gateway thread, with and
# without the usage + metrics policies of accounting.sh, against nginx returning a fixed chat
# completion, wrk at c=32 for DURATION seconds (default 5) per variant. System time is worth
# reading apart on a VM where system calls are expensive (the journal's write() per record).
#   bench/gateway/accounting_split.sh
# Prints, per variant, one line per thread that used CPU:  <thread> user X us/req  sys Y us/req
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-5}"
workers=1
bench_name=bench/gateway/accounting_split
source "$root/bench/lib.sh"
bench_require wrk nginx node curl
bench_workdir
upstream_port="$(free_port)"
start_nginx 1 "$(fixed_json_server "$upstream_port" "$chat_completion_body")"
wait_http "http://127.0.0.1:$upstream_port/"
post_lua "$work/p.lua" '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}' x-team bench
ticks_per_second="$(getconf CLK_TCK)"
url_path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
# "<tid> <user ticks> <system ticks> <thread name>" for each thread of a process.
thread_times() {
  for task in /proc/"$1"/task/*; do
    local stat fields
    stat="$(cat "$task/stat")"
    read -r -a fields <<<"${stat##*) }"  # after the name, which may hold spaces
    echo "$(basename "$task") ${fields[11]} ${fields[12]} $(cat "$task/comm")"
  done
}
for variant in off on; do
  extra=""
  [ "$variant" = on ] && extra="policies:
$(accounting_policies_yaml "$work")"
  start_gateway "$variant" "$extra"
  pid="${gateway_pids[$variant]}"
  thread_times "$pid" >"$work/$variant.before"
  requests=$(wrk -t1 -c32 -d"${duration}s" -s "$work/p.lua" "${gateway_url[$variant]}$url_path" |
    awk '/requests in/ {print $1}')
  thread_times "$pid" >"$work/$variant.after"
  echo "$variant: $requests requests"
  awk -v n="$requests" -v hz="$ticks_per_second" '
    NR == FNR { user[$1] = $2; sys[$1] = $3; next }
    { u = ($2 - user[$1]) * 1e6 / hz / n; s = ($3 - sys[$1]) * 1e6 / hz / n
      if (u + s > 0) printf "  %-15s user %5.1f us/req  sys %5.1f us/req\n", $4, u, s }' \
    "$work/$variant.before" "$work/$variant.after"
  kill -INT "$pid"
  wait "$pid" || true
done
