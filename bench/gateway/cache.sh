#!/usr/bin/env bash
# What an exact cache hit costs, against nginx proxying the same response, in the same run:
#   nginx   nginx as a reverse proxy in front of an nginx upstream returning a fixed completion
#   proxy   sluice gateway without a cache, in front of the same upstream
#   cache   sluice gateway with the cache policy; the request repeats, so every request is a hit
#           (checked: x-sluice-cache: hit, and the upstream sees no request during the runs)
# wrk drives each in turn, ROUNDS times interleaved; the best round of each counts. CPU per request
# (user + system of the proxy process) moves far less than req/s on a shared machine.
# Prints: cache: req/s nginx=X proxy=Y cache=Z  cache/nginx=R  cpu_us/req nginx=.. proxy=.. cache=..
# Then the semantic cache, in the same run:
#   index   bench_semantic_index: the HNSW look-up of one partition holding SEMANTIC_ENTRIES
#           (default 100,000) questions embedded by the simulator at SEMANTIC_DIMS (default 1536),
#           the embedding call excluded; and the resident memory those entries take
#   embed   the embedding call alone, one at a time: the embeddings request the cache sends, through
#           a gateway route to `sluice sim` (0 ms model time), against the simulator directly
# Prints: semantic-index: ... lookup_us p50=.. ... per_100k_mib=..
#         semantic-embedding: p50 direct=.. gateway=..
# Knobs: DURATION (s per measurement, default 6), CONNECTIONS (default 32), WORKERS (gateway
# threads and nginx workers, default 1), ROUNDS (default 2), SLUICE_BIN, SEMANTIC_ENTRIES,
# SEMANTIC_DIMS, SEMANTIC_BENCH_BIN (default: bench_semantic_index next to SLUICE_BIN's build).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-6}"
connections="${CONNECTIONS:-32}"
workers="${WORKERS:-1}"
rounds="${ROUNDS:-2}"

bench_name="bench/cache"
source "$root/bench/lib.sh"
bench_require wrk nginx node curl

bench_workdir

upstream_port="$(free_port)"
nginx_port="$(free_port)"
body='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today?"}}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}'
# The upstream logs its requests, so the run can show that cache hits never reach it.
start_nginx "$workers" "  log_format bare '\$request';
  server {
    listen 127.0.0.1:$upstream_port;
    access_log $work/upstream.log bare;
    location / { default_type application/json; return 200 '$body'; }
  }" upstream
start_nginx "$workers" "$(nginx_proxy_server "$nginx_port" "$upstream_port")" proxy
start_gateway proxy ""
start_gateway cache 'policies:
  cache: {ttl: 1h}'
wait_http "http://127.0.0.1:$upstream_port/"
wait_http "http://127.0.0.1:$nginx_port/"
gateway_url[nginx]="http://127.0.0.1:$nginx_port"

path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
request='{"messages":[{"role":"user","content":"Hello, how are you today?"}],"max_tokens":16,"temperature":0}'
post_lua "$work/post.lua" "$request" api-key bench

# Warm the cache and check that it answers.
post() { curl -sS -D - -o /dev/null -X POST -H 'content-type: application/json' -d "$request" "${gateway_url[$1]}$path"; }
post cache >/dev/null
case "$(post cache)" in
  *"x-sluice-cache: hit"*) ;;
  *) echo "bench/cache: the cache gateway does not answer from its cache" >&2; exit 1 ;;
esac

declare -A proxy_pid=([proxy]="${gateway_pids[proxy]}" [cache]="${gateway_pids[cache]}"
                      [nginx]="$(pgrep -P "$(cat "$work/proxy/nginx.pid")" | tr '\n' ' ')")

declare -A best best_p50 best_cpu
for name in nginx proxy cache; do best[$name]=0; best_p50[$name]="?"; best_cpu[$name]="?"; done
echo "== exact cache hits: wrk -t1 -c$connections -d${duration}s, $workers worker(s), $rounds rounds"
upstream_before="$(wc -l <"$work/upstream.log")"
cache_upstream=0
for round in $(seq 1 "$rounds"); do
  for name in nginx proxy cache; do
    seen="$(wc -l <"$work/upstream.log")"
    read -r rps p50 cpu < <(wrk_measure "$name" "${gateway_url[$name]}$path" "${proxy_pid[$name]}")
    [ "$name" = cache ] && cache_upstream=$((cache_upstream + $(wc -l <"$work/upstream.log") - seen))
    printf '  round %s %-6s %10.0f req/s  p50 %-8s cpu %s us/req\n' "$round" "$name" "$rps" "$p50" "$cpu"
    if awk -v a="$rps" -v b="${best[$name]}" 'BEGIN{exit !(a>b)}'; then
      best[$name]="$rps"; best_p50[$name]="$p50"; best_cpu[$name]="$cpu"
    fi
  done
done
[ "$upstream_before" -gt 0 ] || { echo "bench/cache: the upstream log stayed empty" >&2; exit 1; }
[ "$cache_upstream" = 0 ] || { echo "bench/cache: $cache_upstream cache-run requests reached the upstream" >&2; exit 1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b>0)?a/b:0}'; }
printf 'cache: req/s nginx=%.0f proxy=%.0f cache=%.0f  cache/nginx=%s cache/proxy=%s  p50 nginx=%s proxy=%s cache=%s  cpu_us/req nginx=%s proxy=%s cache=%s\n' \
  "${best[nginx]}" "${best[proxy]}" "${best[cache]}" \
  "$(ratio "${best[cache]}" "${best[nginx]}")" "$(ratio "${best[cache]}" "${best[proxy]}")" \
  "${best_p50[nginx]}" "${best_p50[proxy]}" "${best_p50[cache]}" \
  "${best_cpu[nginx]}" "${best_cpu[proxy]}" "${best_cpu[cache]}"

# == Semantic cache ==
semantic_bin="${SEMANTIC_BENCH_BIN:-$(dirname "$bin")/src/gateway/bench_semantic_index}"
[ -x "$semantic_bin" ] || { echo "bench/cache: $semantic_bin is not built (cmake --build build --target bench_semantic_index)" >&2; exit 1; }
echo "== semantic cache: index look-up at ${SEMANTIC_ENTRIES:-100000} entries, embedding call excluded"
"$semantic_bin" "${SEMANTIC_ENTRIES:-100000}" "${SEMANTIC_DIMS:-1536}"

"$bin" sim --host 127.0.0.1 --port 0 --deployment emb=text-embedding-3-small --api-key bench=bench \
  --ttft-ms 0 --tpm 0 >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
sim_url=""
for _ in $(seq 1 100); do
  sim_url="$(sed -n 's/.*sluice sim listening on \(http:[^ ]*\).*/\1/p' "$work/sim.out" | head -1)"
  [ -n "$sim_url" ] && break
  sleep 0.1
done
[ -n "$sim_url" ] || { echo "bench/cache: the simulator did not start" >&2; cat "$work/sim.err" >&2; exit 1; }
cat >"$work/embed.yaml" <<YAML
listeners: [{address: 127.0.0.1, port: 0, threads: $workers}]
backends:
  - {name: sim, url: "$sim_url", auth: {type: api-key, key: bench}}
pools:
  - {name: embeddings, members: [{backend: sim}]}
routes:
  - {name: embeddings, match: {deployments: [emb]}, pool: embeddings}
YAML
"$bin" gateway --config "$work/embed.yaml" >"$work/embed.out" 2>"$work/embed.err" &
pids+=($!)
embed_url=""
for _ in $(seq 1 100); do
  embed_url="$(sed -n 's/.*sluice gateway listening on \(http:[^ ]*\).*/\1/p' "$work/embed.out" | head -1)"
  [ -n "$embed_url" ] && break
  sleep 0.1
done
[ -n "$embed_url" ] || { echo "bench/cache: the embeddings gateway did not start" >&2; cat "$work/embed.err" >&2; exit 1; }
embed_path="/openai/deployments/emb/embeddings?api-version=2024-10-21"
post_lua "$work/post.lua" '{"input":"What is the capital of France?"}' api-key bench
connections=1  # the call's own latency, not a queue's
declare -A embed_p50=([direct]="?" [gateway]="?")
echo "== semantic cache: the embedding call, one at a time, $rounds rounds"
for round in $(seq 1 "$rounds"); do
  for name in direct gateway; do
    url="$sim_url"; [ "$name" = gateway ] && url="$embed_url"
    read -r rps p50 cpu < <(wrk_measure "embed-$name" "$url$embed_path")
    printf '  round %s %-8s %8.0f req/s  p50 %s\n' "$round" "$name" "$rps" "$p50"
    embed_p50[$name]="$p50"
  done
done
printf 'semantic-embedding: p50 direct=%s gateway=%s (the cache adds the gateway figure to a semantic look-up)\n' \
  "${embed_p50[direct]}" "${embed_p50[gateway]}"
