#!/usr/bin/env bash
# Simulator benchmarks, each against a baseline measured in the same run:
#  1. request rate: `sluice sim` vs nginx serving the same chat completion body, both under wrk with
#     the same threads, connections and duration; prints sim/nginx.
#  2. 2,000 concurrent streams on one sim thread: observed TTFT and inter-token latency p50/p99
#     against the configured timing model.
# Everything runs on 127.0.0.1 and stops by itself. Knobs: DURATION (s), CONNECTIONS, STREAMS,
# RAMP_MS (streams start spread over this), SLUICE_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SLUICE_BIN:-$root/build/sluice}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-64}"
streams="${STREAMS:-2000}"
wrk_threads=1
source "$root/bench/lib.sh"  # for post_lua; this script keeps its own set-up

for tool in wrk nginx node curl; do
  command -v "$tool" >/dev/null || { echo "bench/sim: $tool is missing (make deps installs it)" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "bench/sim: $bin not built" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n 16384 2>/dev/null || true

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts the sim with the given flags; sets sim_url and sim_pid.
start_sim() {
  "$bin" sim --host 127.0.0.1 --port 0 --deployment bench=gpt-4o --api-key bench=bench-key "$@" \
    >"$work/sim.out" 2>"$work/sim.err" &
  sim_pid=$!
  pids+=("$sim_pid")
  for _ in $(seq 1 100); do
    sim_url="$(sed -n 's/^sluice sim listening on \(http:[^ ]*\).*/\1/p' "$work/sim.out")"
    [ -n "$sim_url" ] && return 0
    sleep 0.1
  done
  echo "bench/sim: sim did not start" >&2; cat "$work/sim.err" >&2; exit 1
}
stop_sim() { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }

requests_per_second() { sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$1"; }
non_2xx() { sed -n 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$1"; }

# ---- 1. request rate vs nginx ------------------------------------------------------------------
echo "== sim vs nginx: wrk -t$wrk_threads -c$connections -d${duration}s, one server thread/worker each"
start_sim --threads 1 --tpm 0 --ttft-ms 0 --tokens-per-second 0
path="/openai/deployments/bench/chat/completions?api-version=2024-10-21"
request='{"messages":[{"role":"user","content":"Say hi."}],"max_tokens":8}'
body="$(curl -sS -X POST -H 'content-type: application/json' -H 'api-key: bench-key' -d "$request" "$sim_url$path")"
case "$body" in *'"chat.completion"'*) ;; *) echo "bench/sim: unexpected sim answer: $body" >&2; exit 1 ;; esac
case "$body" in *"'"*|*'\'*|*'$'*) echo "bench/sim: body needs escaping for nginx" >&2; exit 1 ;; esac

post_lua "$work/post.lua" "$request" api-key bench-key

mkdir -p "$work/nginx/logs"
nginx_port=$(( 20000 + RANDOM % 20000 ))
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      default_type application/json;
      return 200 '$body';
    }
  }
}
NGINX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
pids+=("$nginx_pid")
for _ in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$nginx_port/" 2>/dev/null && break; sleep 0.1; done
nginx_body="$(curl -sS -X POST -d "$request" "http://127.0.0.1:$nginx_port$path")"
[ "${#nginx_body}" -eq "${#body}" ] || { echo "bench/sim: nginx body differs in size" >&2; exit 1; }

wrk -t$wrk_threads -c"$connections" -d"${duration}s" -s "$work/post.lua" "$sim_url$path" >"$work/wrk-sim.txt"
wrk -t$wrk_threads -c"$connections" -d"${duration}s" -s "$work/post.lua" "http://127.0.0.1:$nginx_port$path" >"$work/wrk-nginx.txt"
sim_rps="$(requests_per_second "$work/wrk-sim.txt")"
nginx_rps="$(requests_per_second "$work/wrk-nginx.txt")"
bad="$(non_2xx "$work/wrk-sim.txt")"
if [ -n "$bad" ] && [ "$bad" != "0" ]; then echo "bench/sim: the sim answered $bad non-2xx responses" >&2; cat "$work/wrk-sim.txt" >&2; exit 1; fi
grep -E "Latency|Requests/sec" "$work/wrk-sim.txt" | sed 's/^/  sim   /'
grep -E "Latency|Requests/sec" "$work/wrk-nginx.txt" | sed 's/^/  nginx /'
kill "$nginx_pid" 2>/dev/null || true
stop_sim
ratio="$(awk -v a="$sim_rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }')"
echo "sim: req/s sim=$sim_rps nginx=$nginx_rps ratio=$ratio body_bytes=${#body}"

# ---- 2. concurrent streams ----------------------------------------------------------------------
ttft=500
tps=10
tokens=30
echo "== $streams concurrent streams on one sim thread: TTFT ${ttft} ms, $tps tokens/s, $tokens tokens, no jitter"
# A config file, so the deployment can have no jitter: the model is then exact.
cat >"$work/streams.yaml" <<YAML
listen: {address: 127.0.0.1, port: 0, threads: 1}
deployments:
  bench: {model: gpt-4o, tokens_per_minute: 0, time_to_first_token: ${ttft}ms, tokens_per_second: $tps, jitter: 0}
auth:
  mode: keys
  api_keys: [{name: bench, key: bench-key}]
YAML
"$bin" sim --config "$work/streams.yaml" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
pids+=("$sim_pid")
sim_url=""
for _ in $(seq 1 100); do
  sim_url="$(sed -n 's/^sluice sim listening on \(http:[^ ]*\).*/\1/p' "$work/sim.out")"
  [ -n "$sim_url" ] && break
  sleep 0.1
done
# CPU time the sim's threads ran and waited for a CPU (/proc schedstat): a busy machine shows up
# as wait, which delays timers no matter how the sim is written.
sched_ns() { cat /proc/"$sim_pid"/task/*/schedstat 2>/dev/null | awk -v f="$1" '{ s += $f } END { printf "%.0f\n", s }'; }
run_before="$(sched_ns 1)"
wait_before="$(sched_ns 2)"
node "$here/streams.mjs" --url "$sim_url" --streams "$streams" --ttft-ms "$ttft" \
  --itl-ms "$(( 1000 / tps ))" --tokens "$tokens" --ramp-ms "${RAMP_MS:-1000}" --deadline-ms 60000
# The sim's own view: how late each token left against its due time (timer and scheduling only),
# which separates the server's drift from the client's.
timing="$(curl -sS "$sim_url/sim/timing")"
run_ms=$(( ($(sched_ns 1) - run_before) / 1000000 ))
wait_ms=$(( ($(sched_ns 2) - wait_before) / 1000000 ))
echo "sim-streams-server: $(node -e 'const t = JSON.parse(process.argv[1]).token_lateness;
  console.log(`tokens=${t.tokens} lateness_p50_ms=${(t.p50_us / 1000).toFixed(2)} lateness_p99_ms=${(t.p99_us / 1000).toFixed(2)} lateness_max_ms=${(t.max_us / 1000).toFixed(2)}`)' "$timing") cpu_ms=$run_ms runqueue_wait_ms=$wait_ms"
stop_sim
