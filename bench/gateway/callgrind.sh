#!/usr/bin/env bash
# Instructions a request, counted exactly: the gateway under `valgrind --tool=callgrind` (cpu-clock
# sampling on a VM under-attributes short functions), driven by wrk at c=4 for 10 s with an
# Entra-shaped RS256 bearer token (~850 bytes) and an x-team header on every request.
#   bench/gateway/callgrind.sh off|auth|limit|redis|both|usage|tracing|cache|nginx [out-dir]
# off: no policies; auth: the identity policy with JWT validation (cache on); limit: a local token
# limit keyed by x-team; redis: the same limit kept in a private redis-server (limits.sh's); both:
# auth and limit; usage: accounting as accounting.sh runs it (the usage
# journal and SQLite store, and the metrics policy), counting every thread's instructions;
# tracing: every request traced (sample ratio 1.0) and exported to a collector nginx answers;
# cache: the exact cache, every request (temperature 0) a hit after the first. Writes <out-dir>/<variant>.out (callgrind_annotate it) and
# prints the request count: divide a function's inclusive count by it. Needs valgrind, wrk, nginx.
# REQUEST: the JSON body wrk posts (default a one-line chat message), to see what grows with a
# real prompt's size.
# nginx: the nginx proxy `run.sh` measures against (one worker, master_process off so the worker is
# the process valgrind runs), relaying the same requests from the same upstream, for a baseline.
# CACHE_SIM=1: callgrind's cache simulator too, set to this machine's caches (48 KiB L1d, 32 KiB
# L1i, the 1 MiB L2 as the last level; perf has no hardware counters on this VM), so the output also
# counts each function's L1i, L1d and L2 misses (docs/performance.md, "Caches, not only
# instructions").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin=${SLUICE_BIN:-$root/build/sluice}
variant=${1:-off}
out_dir="$(mkdir -p "${2:-.}" && cd "${2:-.}" && pwd)"
workers=1
bench_name=bench/gateway/callgrind
source "$root/bench/lib.sh"
bench_require wrk nginx node curl valgrind
[ "$variant" = redis ] && bench_require redis-server redis-cli
bench_workdir
entra_token "$work"
token="$(cat "$work/token")"
upstream_port="$(free_port)"
collector_port="$(free_port)"
start_nginx 1 "$(fixed_json_server "$upstream_port" "$chat_completion_body")
$(fixed_json_server "$collector_port" '{}')"
wait_http "http://127.0.0.1:$upstream_port/"
if [ "$variant" = redis ]; then
  redis_port="$(free_port)"
  start_redis "$redis_port"
fi
port=$(free_port)
{
  gateway_config "$port"
  echo "policies:"
  case "$variant" in auth|both) jwt_identity_yaml "$work" 4096 ;; esac
  case "$variant" in limit|both|redis) cat <<YAML
  token_limit:
    limits:
      - {name: per-team, counter_key: "header:x-team", tokens_per_minute: 1000000000000, token_quota: 1000000000000, token_quota_period: daily}
YAML
  ;; esac
  [ "$variant" = redis ] &&
    echo "    store: redis" &&
    echo "    redis: {url: \"redis://127.0.0.1:$redis_port\", timeout: 200ms, key_prefix: \"callgrind-$$:\"}"
  [ "$variant" = usage ] && accounting_policies_yaml "$work"
  [ "$variant" = cache ] && echo "  cache: {ttl: 1h}"
  [ "$variant" = tracing ] &&
    echo "  tracing: {endpoint: \"http://127.0.0.1:$collector_port\", sample_ratio: 1.0}"
  true
} > "$work/g.yaml"
[ "$variant" = off ] && sed -i '/^policies:$/d' "$work/g.yaml"
cache_sim=()
[ "${CACHE_SIM:-0}" = 1 ] && cache_sim=(--cache-sim=yes --I1=32768,8,64 --D1=49152,12,64 --LL=1048576,8,64)
if [ "$variant" = nginx ]; then
  # run.sh's nginx proxy, with its one worker as the process valgrind runs.
  nginx_conf 1 "$(nginx_proxy_server "$port" "$upstream_port")" "$work/proxy"
  echo "master_process off;" >>"$work/proxy/nginx.conf"
  valgrind --tool=callgrind "${cache_sim[@]}" --callgrind-out-file="$out_dir/$variant.out" \
    nginx -p "$work/proxy" -c "$work/proxy/nginx.conf" >"$work/g.out" 2>"$work/g.err" &
  vpid=$!
  for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
else
  valgrind --tool=callgrind "${cache_sim[@]}" --callgrind-out-file="$out_dir/$variant.out" \
    "$bin" gateway --config "$work/g.yaml" >"$work/g.out" 2>"$work/g.err" &
  vpid=$!
  for _ in $(seq 1 300); do grep -q "listening on" "$work/g.out" && break; sleep 0.2; done
  grep -q "listening on" "$work/g.out" || { cat "$work/g.err"; exit 1; }
fi
default_request='{"messages":[{"role":"user","content":"Hello, how are you today?"}],"max_tokens":16}'
request="${REQUEST:-$default_request}"
[ "$variant" = cache ] && request='{"messages":[{"role":"user","content":"Hello, how are you today?"}],"max_tokens":16,"temperature":0}'
post_lua "$work/p.lua" "$request" x-team bench
echo "wrk.headers[\"Authorization\"] = \"Bearer $token\"" >>"$work/p.lua"
path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
status="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $token" -H 'x-team: bench' \
  --data '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}' "http://127.0.0.1:$port$path")"
[ "$status" = 200 ] || { echo "$bench_name: the $variant proxy answers $status" >&2; cat "$work/g.err" >&2; exit 1; }
wrk -t1 -c4 -d10s -s "$work/p.lua" "http://127.0.0.1:$port$path" | grep -E 'requests in|Non-2xx'
kill -INT "$vpid"; wait "$vpid" || true
