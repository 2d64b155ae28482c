#!/usr/bin/env bash
# Flame graphs of where sluice's cycles go under load, written to docs/flame/<name>.svg:
#   gateway   the gateway's plain path (default policies) at 64 connections, nginx upstream
#   sim       the simulator answering chat completions at 64 connections (no pacing)
#   tracing   the gateway's plain path with tracing at 100 % sampling, exporting to an nginx
#             collector, at 64 connections (the exporter thread is in the graph too)
#   policies  the gateway with Entra JWT validation (cache on; an ~850-byte RS256 bearer token on
#             every request) and a local token limit, at 64 connections
#   load      `sluice load` (64 VUs, one thread, every sample recorded) against an nginx answering
#             "ok": the load generator's own cycles
#   accounting  the gateway with the usage journal, SQLite store and metrics of accounting.sh, at
#             64 connections (the shipper thread is in the graph too)
#   redis     the gateway with limits.sh's token limit kept in a private redis-server, at 64
#             connections (the Redis connection runs on the worker's own event loop)
#   streams   the gateway relaying 1,000 concurrent streamed chat completions from `sluice sim`
#             (streams.sh's set-up at 10 tokens a second, 40 tokens each, so that the streams
#             outlast the sampling)
#   cache     the gateway with the exact cache, every request a hit (cache.sh's set-up), at 64
#             connections: the upstream is not called
#   scaling   the gateway's plain path with two worker threads, driven by two wrk threads at 64
#             connections (scaling.sh's two-worker case)
# perf samples the one sluice process (user and kernel, DWARF call stacks: the build keeps no frame
# pointers) for SECONDS while wrk keeps it busy; bench/flamegraph.mjs draws the SVG.
# Usage: bench/flame.sh [gateway|sim|tracing|policies|load|accounting|redis|streams|cache|scaling ...]   Knobs: SAMPLE_SECONDS (default 4), SLUICE_BIN.
# Needs perf (Debian linux-perf) and permission to profile (root, or perf_event_paranoid <= 1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
seconds="${SAMPLE_SECONDS:-4}"
workers=1
bench_name="bench/flame"
source "$root/bench/lib.sh"
bench_require wrk nginx node curl perf
bench_workdir
mkdir -p "$root/docs/flame"

post_lua "$work/post.lua" '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}' api-key client
path="/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"

# Records process $1 with perf for $seconds (user and kernel, DWARF stacks) and draws
# docs/flame/$2.svg titled $3.
record() {  # pid name title
  perf record -q -F 499 --call-graph dwarf,16384 -p "$1" -o "$work/perf.data" -- sleep "$seconds" \
    >/dev/null 2>&1
  perf script -i "$work/perf.data" 2>/dev/null | node "$here/flamegraph.mjs" "$3" >"$root/docs/flame/$2.svg"
}

# Records process $1 while wrk drives $2 at 64 connections; draws docs/flame/$3.svg titled $4.
sample() {  # pid url name title
  wrk -t"$workers" -c64 -d"$((seconds + 2))s" -s "$work/post.lua" "$2" >"$work/wrk.out" 2>&1 &
  local load=$!
  sleep 1
  record "$1" "$3" "$4"
  wait "$load" || true
  echo "$3: $(sed -n 's/^Requests\/sec:[[:space:]]*//p' "$work/wrk.out") req/s while sampled → docs/flame/$3.svg"
}

# Records gateway NAME (started with start_gateway in front of a fresh nginx upstream answering
# a chat completion, EXTRA_YAML appended to its config) under wrk; draws docs/flame/$2.svg.
sample_gateway() {  # name svg-name title extra-yaml
  upstream_port="$(free_port)"
  start_nginx 1 "$(fixed_json_server "$upstream_port" "$chat_completion_body")" "$1-upstream"
  wait_http "http://127.0.0.1:$upstream_port/"
  start_gateway "$1" "$4"
  sample "${gateway_pids[$1]}" "${gateway_url[$1]}$path" "$2" "$3"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gateway sim tracing policies load accounting redis streams cache scaling)
for target in "${targets[@]}"; do
  case "$target" in
    gateway)
      sample_gateway gateway gateway-c64 "sluice gateway, plain path, 64 connections" ""
      ;;
    tracing)
      collector_port="$(free_port)"
      start_nginx 1 "$(fixed_json_server "$collector_port" '{}')" collector
      wait_http "http://127.0.0.1:$collector_port/"
      sample_gateway tracing gateway-tracing-c64 \
        "sluice gateway, tracing at 100 % sampling, 64 connections" "policies:
  tracing: {endpoint: \"http://127.0.0.1:$collector_port\", sample_ratio: 1.0}"
      ;;
    sim)
      port="$(free_port)"
      "$bin" sim --host 127.0.0.1 --port "$port" --threads 1 --tpm 0 --ttft-ms 0 --tokens-per-second 0 \
        --deployment gpt-4o=gpt-4o --api-key client=client >"$work/sim.out" 2>&1 &
      pid=$!; pids+=("$pid")
      for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.out" && break; sleep 0.1; done
      sample "$pid" "http://127.0.0.1:$port$path" sim-c64 "sluice sim, chat completions, 64 connections"
      ;;
    policies)
      entra_token "$work"
      cp "$work/post.lua" "$work/post-plain.lua"
      echo "wrk.headers[\"Authorization\"] = \"Bearer $(cat "$work/token")\"" >>"$work/post.lua"
      sample_gateway policies gateway-policies-c64 \
        "sluice gateway, JWT (cached) + local token limit, 64 connections" "policies:
$(jwt_identity_yaml "$work" 4096)
  token_limit:
    limits:
      - {name: per-app, counter_key: app_id, tokens_per_minute: 1000000000000}"
      mv "$work/post-plain.lua" "$work/post.lua"
      ;;
    load)
      port="$(free_port)"
      start_nginx 1 "server { listen 127.0.0.1:$port; location / { default_type text/plain; return 200 \"ok\"; } }" load-target
      wait_http "http://127.0.0.1:$port/"
      cat >"$work/load.yaml" <<YAML
testId: flame-load
target: {endpoint: "http://127.0.0.1:$port/", path: /, timeout: 10s}
request: {method: GET, body: "", response: plain, label: get}
autoStop: disable
load: {virtualUsers: 64, duration: $((seconds + 2))s}
YAML
      "$bin" load run "$work/load.yaml" --threads 1 --quiet --out "$work/load-out" >/dev/null 2>&1 &
      pid=$!; pids+=("$pid")
      sleep 1
      record "$pid" load-c64 "sluice load, 64 VUs against nginx, every sample recorded"
      wait "$pid" || true
      echo "load-c64: $(python3 -c "import json; print(json.load(open('$work/load-out/results.json'))['summary']['requests'])") requests → docs/flame/load-c64.svg"
      ;;
    accounting)
      sample_gateway accounting accounting-on \
        "sluice gateway, usage journal + SQLite store + metrics, 64 connections" "policies:
$(accounting_policies_yaml "$work")"
      ;;
    redis)
      bench_require redis-server redis-cli
      redis_port="$(free_port)"
      start_redis "$redis_port"
      cp "$work/post.lua" "$work/post-plain.lua"
      echo 'wrk.headers["x-team"] = "flame"' >>"$work/post.lua"
      sample_gateway redis gateway-redis-limit-c64 \
        "sluice gateway, token limit in Redis, 64 connections" "policies:
  token_limit:
    limits:
      - {name: per-team, counter_key: \"header:x-team\", tokens_per_minute: 1000000000000}
    store: redis
    redis: {url: \"redis://127.0.0.1:$redis_port\", timeout: 200ms, pool_size: 4, key_prefix: \"flame:\"}"
      mv "$work/post-plain.lua" "$work/post.lua"
      ;;
    streams)
      "$bin" sim --host 127.0.0.1 --port 0 --deployment bench=gpt-4o --api-key bench=bench-key \
        --ttft-ms 300 --tokens-per-second 10 --tpm 0 >"$work/streams-sim.out" 2>&1 &
      pids+=($!)
      for _ in $(seq 1 100); do grep -q "listening on" "$work/streams-sim.out" && break; sleep 0.1; done
      sim_url="$(sed -n 's/^sluice sim listening on \(http:[^ ]*\).*/\1/p' "$work/streams-sim.out" | head -1)"
      port="$(free_port)"
      sim_gateway_yaml "$port" "$sim_url" >"$work/streams.yaml"
      "$bin" gateway --config "$work/streams.yaml" >"$work/streams.out" 2>&1 &
      pid=$!; pids+=("$pid")
      for _ in $(seq 1 100); do grep -q "listening on" "$work/streams.out" && break; sleep 0.1; done
      node "$here/sim/streams.mjs" --url "http://127.0.0.1:$port" --streams 1000 --ttft-ms 300 \
        --itl-ms 100 --tokens 40 --ramp-ms 1000 --deadline-ms 60000 --key bench-key \
        >"$work/streams-client.out" 2>&1 &
      client=$!
      sleep 1
      record "$pid" gateway-streams "sluice gateway relaying 1,000 concurrent streams from sluice sim"
      wait "$client" || true
      echo "gateway-streams: $(grep -o 'ok=[0-9]*' "$work/streams-client.out" | head -1) → docs/flame/gateway-streams.svg"
      ;;
    cache)
      cp "$work/post.lua" "$work/post-plain.lua"
      # cache.sh's request: deterministic (temperature 0), so the cache answers it.
      cache_request='{"messages":[{"role":"user","content":"Hello, how are you today?"}],"max_tokens":16,"temperature":0}'
      post_lua "$work/post.lua" "$cache_request" api-key client
      sample_gateway cache gateway-cache-hit-c64 \
        "sluice gateway, exact cache, every request a hit, 64 connections" "policies:
  cache: {ttl: 1h}"
      curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' -H 'api-key: client' \
        --data "$cache_request" \
        "${gateway_url[cache]}$path" | grep -qi '^x-sluice-cache: hit' ||
        { echo "bench/flame: the cache target's requests are not cache hits" >&2; exit 1; }
      mv "$work/post-plain.lua" "$work/post.lua"
      ;;
    scaling)
      workers=2
      sample_gateway scaling gateway-2-workers-c64 \
        "sluice gateway, plain path, two worker threads, 64 connections" ""
      workers=1
      ;;
    *) echo "bench/flame: unknown target '$target' (gateway, sim, tracing, policies, load, accounting, redis, streams, cache, scaling)" >&2; exit 2 ;;
  esac
done
