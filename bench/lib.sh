# Shared set-up of the benchmark scripts (sourced, not run). Before sourcing, set `bench_name`
# (used in messages) and `bin` (the sluice binary). Everything listens on 127.0.0.1 only.
#   bench_require TOOL...          exit 2 naming a missing tool, or a sluice binary not built
#   bench_workdir                  $work (removed at exit) and $pids (stopped at exit)
#   free_port                      prints a free loopback port
#   cpu_seconds PID                prints the user + system CPU seconds PID has used
#   wait_http URL                  waits (at most 10 s) until URL answers
#   start_nginx WORKERS SERVERS [NAME]  nginx in the foreground with the given server blocks
#   nginx_conf WORKERS SERVERS DIR  writes the config start_nginx runs into DIR/nginx.conf
#   nginx_proxy_server PORT UPSTREAM_PORT  prints the nginx reverse proxy baseline's server block
#   fixed_json_server PORT BODY    prints a server block answering BODY to every request
#   gateway_config PORT            prints a gateway config in front of $upstream_port
#   wrk_measure NAME URL [PID]     wrk POSTing $work/post.lua at URL ($connections, $duration;
#                                  on CPU $wrk_cpu when set);
#                                  prints "rps p50 cpu_us_per_request" (CPU of PID, 0 without);
#                                  exits naming NAME on non-2xx answers
#   start_gateway NAME YAML        a gateway of gateway_config + YAML; sets gateway_url[NAME], gateway_pids[NAME]
#   pin_to_cpu CPU PID...          moves the processes, their threads and children onto CPU
#   pin_gateways NGINX_PID GW_PID...  with $pin = 1 (knob PIN; default 1 on 2 or more CPUs): nginx
#                                  and wrk on CPU 0, the gateways on CPU 1; $pin_note says so
#   median                         prints the median of the numbers on stdin (spaces or lines)
#   post_lua FILE BODY HEADER VALUE  writes a wrk script POSTing BODY as JSON with HEADER: VALUE
#   jwt_identity_yaml DIR SIZE, accounting_policies_yaml DIR  policy YAML the scripts share
#   start_redis PORT               a private redis-server on loopback; sets redis_pid
#   sim_gateway_yaml PORT SIM_URL  a gateway in front of `sluice sim` (deployment bench, as streams.sh)
#   $chat_completion_body          the fixed chat completion nginx answers as the upstream

pin_to_cpu() {  # cpu pid...: the processes and all their threads and children onto one CPU
  local cpu="$1" pid child
  shift
  for pid in "$@"; do
    taskset -a -p -c "$cpu" "$pid" >/dev/null
    for child in $(pgrep -P "$pid" || true); do taskset -a -p -c "$cpu" "$child" >/dev/null; done
  done
}

pin="${PIN:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}"
pin_note=""
pin_gateways() {  # nginx_pid gateway_pid...: the gateway's core to itself, as in production
  [ "$pin" = 1 ] || return 0
  bench_require taskset
  pin_to_cpu 0 "$1"
  shift
  pin_to_cpu 1 "$@"
  wrk_cpu=0
  pin_note=", gateways on CPU 1, nginx and wrk on CPU 0"
}

median() {
  tr -s ' ' '\n' | grep . | sort -g |
    awk '{v[NR] = $1} END{print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

bench_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$bench_name: $tool is missing (make deps)" >&2; exit 2; }
  done
  [ -x "$bin" ] || { echo "$bench_name: $bin not built (make build)" >&2; exit 2; }
  ulimit -n 65536 2>/dev/null || true
}

bench_workdir() {
  work="$(mktemp -d)"
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}

post_lua() {  # file json_body header value: a wrk script POSTing the body as JSON with that header
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["$3"] = "$4"
LUA
}

cpu_seconds() {  # pid... → user + system CPU seconds they have used so far, summed
  local pid stats=()
  for pid in "$@"; do stats+=("/proc/$pid/stat"); done
  awk -v hz="$(getconf CLK_TCK)" '{s += $14 + $15} END{print s / hz}' "${stats[@]}"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_http() {  # url
  for _ in $(seq 1 100); do
    curl -s -o /dev/null -m 1 "$1" && return 0
    sleep 0.1
  done
  echo "$bench_name: $1 did not come up" >&2
  exit 1
}

fixed_json_server() {  # port body
  printf '  server {\n    listen 127.0.0.1:%s;\n    location / { default_type application/json; return 200 '"'"'%s'"'"'; }\n  }\n' "$1" "$2"
}

# The reverse proxy every nginx baseline is: keep-alive to the upstream, responses buffered.
nginx_proxy_server() {  # listen_port upstream_port
  cat <<NGINX
  upstream backend { server 127.0.0.1:$2; keepalive 128; }
  server {
    listen 127.0.0.1:$1;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }
  }
NGINX
}

nginx_conf() {  # worker_processes server_blocks dir: writes dir/nginx.conf (foreground, no logs)
  local dir="$3"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<NGINX
worker_processes $1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
$2
}
NGINX
}

start_nginx() {  # worker_processes server_blocks [instance name, for a second nginx]
  local dir="$work/${3:-nginx}"
  nginx_conf "$1" "$2" "$dir"
  nginx -p "$dir" -c "$dir/nginx.conf" &
  pids+=($!)
}

# The YAML of one gateway on PORT forwarding deployment gpt-4o to the nginx upstream at
# $upstream_port with $workers threads; callers append policies and other top-level keys.
gateway_config() {  # port
  cat <<YAML
listeners: [{address: 127.0.0.1, port: $1, threads: $workers}]
backends:
  - {name: upstream, url: "http://127.0.0.1:$upstream_port", auth: {type: api-key, key: bench}}
pools:
  - {name: bench, members: [{backend: upstream}]}
routes:
  - {name: bench, match: {deployments: [gpt-4o]}, pool: bench}
YAML
}

declare -A gateway_url gateway_pids
start_gateway() {  # name extra-yaml
  local port
  port="$(free_port)"
  { gateway_config "$port"; printf '%s\n' "$2"; } >"$work/$1.yaml"
  "$bin" gateway --config "$work/$1.yaml" >"$work/$1.out" 2>"$work/$1.err" &
  pids+=($!)
  gateway_pids[$1]=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$work/$1.out" && break; sleep 0.1; done
  grep -q "listening on" "$work/$1.out" || { echo "$bench_name: gateway $1 did not start" >&2; cat "$work/$1.err" >&2; exit 1; }
  gateway_url[$1]="http://127.0.0.1:$port"
}

wrk_measure() {  # name url [pids, space-separated: their CPU is summed]
  local out="$work/wrk-$1.out" before=0 after=0 rps p50 errors requests
  # shellcheck disable=SC2086 # the pids are words
  [ -n "${3:-}" ] && before="$(cpu_seconds $3)"
  ${wrk_cpu:+taskset -c "$wrk_cpu"} wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$work/post.lua" "$2" >"$out" 2>&1 || true
  # shellcheck disable=SC2086
  [ -n "${3:-}" ] && after="$(cpu_seconds $3)"
  rps="$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$out")"
  p50="$(awk '$1=="50%"{print $2}' "$out")"
  errors="$(sed -n 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$out")"
  if [ -n "$errors" ] && [ "$errors" != 0 ]; then
    echo "$bench_name: '$1' answered $errors non-2xx responses" >&2; cat "$out" >&2; exit 1
  fi
  requests="$(awk '/requests in/{print $1}' "$out")"
  echo "${rps:-0} ${p50:-?} $(awk -v a="$after" -v b="$before" -v n="${requests:-0}" 'BEGIN{printf "%.1f", (n>0)?(a-b)*1e6/n:0}')"
}

# The benchmarks' Entra tenant and app (client) id.
bench_tenant=00000000-0000-4000-8000-0000000b0001
bench_app=aaaaaaaa-0000-4000-8000-0000000b0002

# An RSA key, its JWKS (<dir>/jwks.json, kid "bench") and an Entra-shaped v2 client-credentials
# token for $bench_app in $bench_tenant signed with it, valid for two hours (<dir>/token, ~850 bytes).
entra_token() {  # dir
  node - "$1" "$bench_tenant" "$bench_app" <<'NODE'
const crypto = require('node:crypto');
const fs = require('node:fs');
const [dir, tenant, app] = process.argv.slice(2);
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
fs.writeFileSync(`${dir}/jwks.json`, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig' }] }));
const now = Math.floor(Date.now() / 1000);
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const input = `${b64({ typ: 'JWT', alg: 'RS256', kid: 'bench' })}.${b64({
  aud: 'https://cognitiveservices.azure.com', iss: `https://login.microsoftonline.com/${tenant}/v2.0`,
  iat: now - 300, nbf: now - 300, exp: now + 7200, azp: app, azpacr: '1', idtyp: 'app',
  oid: app, sub: app, tid: tenant, roles: ['Inference.User'], ver: '2.0',
})}`;
const signature = crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
fs.writeFileSync(`${dir}/token`, `${input}.${signature}`);
NODE
}

# The identity policy's YAML (under `policies:`) accepting entra_token's tokens from <dir>.
jwt_identity_yaml() {  # dir cache_size
  cat <<YAML
  identity:
    jwt:
      issuers: ["https://login.microsoftonline.com/{tid}/v2.0"]
      tenants: [$bench_tenant]
      audiences: [https://cognitiveservices.azure.com]
      jwks_file: $1/jwks.json
      cache_size: $2
YAML
}

# The usage and metrics policies' YAML (under `policies:`) that accounting.sh measures: a journal
# and SQLite store in <dir>, token metrics by six dimensions.
accounting_policies_yaml() {  # dir
  cat <<YAML
  usage: {journal: $1/journal, store: $1/usage.db}
  metrics: {dimensions: [app, deployment, model, backend, operation, client_ip]}
YAML
}

# A chat completion as an upstream answers it (nginx serves it with fixed_json_server).
chat_completion_body='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello! How can I help you today?"}}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}'

# A private redis-server on loopback (no persistence), stopped at exit; waits until it answers.
start_redis() {  # port
  redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --loglevel warning >"$work/redis.log" 2>&1 &
  redis_pid=$!
  pids+=($!)
  for _ in $(seq 1 50); do redis-cli -p "$1" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

# The YAML of one gateway (one thread) on PORT in front of a `sluice sim` serving deployment
# `bench` with api-key bench-key; the gateway counts stream tokens itself (stream_usage: never).
sim_gateway_yaml() {  # port sim_url
  cat <<YAML
listeners: [{address: 127.0.0.1, port: $1, threads: 1}]
backends:
  - {name: sim, url: "$2", auth: {type: api-key, key: bench-key}, stream_usage: never}
pools:
  - {name: bench, members: [{backend: sim}]}
routes:
  - {name: bench, match: {deployments: [bench]}, pool: bench}
YAML
}
