#!/usr/bin/env bash
# sluice load vs wrk against the same nginx endpoint, in one run.
#
#   bench/load/run.sh [DURATION_SECONDS]
#
# 1. Throughput per core: nginx (one worker, pinned to CPU 0) answers "ok"; wrk and then
#    `sluice load` (one thread each, pinned to CPU 1, 64 keep-alive connections / VUs) hammer it for
#    DURATION seconds. Each tool's requests are divided by the CPU seconds it used, so the figure is
#    requests/s per core even where the tool could not saturate a core. sluice records every sample
#    (histograms of TTFB and end-to-end time, per-second timeline, JTL line per request).
# 2. Memory per virtual user: `sluice load` with 10,000 VUs (think time 1 s, so each holds an idle
#    keep-alive connection most of the time) against 10 VUs; (peak RSS difference) / 9,990.
#
# Prints grep-able lines:
#   load: req/s sluice=X wrk=Y ratio=Z          (per core)
#   load: memory per VU = N KiB
set -euo pipefail
duration="${1:-10}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
sluice="${SLUICE:-$root/build/sluice}"
for tool in nginx wrk taskset python3; do
  command -v "$tool" >/dev/null || { echo "bench/load: $tool is required" >&2; exit 2; }
done
[ -x "$sluice" ] || { echo "bench/load: build sluice first ($sluice)" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work="$(mktemp -d)"
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/logs" "$work/tmp"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 32768; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $work/tmp;
  proxy_temp_path $work/tmp;
  fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp;
  scgi_temp_path $work/tmp;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$port backlog=16384;
    location / { default_type text/plain; return 200 "ok"; }
  }
}
CONF
taskset -c 0 nginx -p "$work" -c "$work/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
  sleep 0.1
done
url="http://127.0.0.1:$port/"

# Runs a command pinned to CPU 1; prints "<cpu_seconds> <max_rss_kib>" of it (and its children).
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
p = subprocess.run(["taskset", "-c", "1"] + sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
if p.returncode not in (0, 1):
    sys.stderr.write(p.stdout + p.stderr)
    sys.exit(p.returncode)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{u.ru_utime + u.ru_stime:.3f} {u.ru_maxrss}")
sys.stdout.flush()
sys.stderr.write(p.stdout)
PY
}

# --- wrk -------------------------------------------------------------------------------------------
wrk_out="$work/wrk.txt"
read -r wrk_cpu _ < <(measure wrk -t1 -c64 -d"${duration}s" --latency "$url" 2>"$wrk_out")
wrk_requests="$(awk '/requests in/ {print $1}' "$wrk_out")"

# --- sluice load ------------------------------------------------------------------------------------
cat >"$work/plain.yaml" <<YAML
testId: bench-plain
target: {endpoint: "$url", path: /, timeout: 10s}
request: {method: GET, body: "", response: plain, label: get}
autoStop: disable
load: {virtualUsers: 64, duration: ${duration}s}
YAML
read -r sluice_cpu _ < <(measure "$sluice" load run "$work/plain.yaml" --threads 1 --quiet --out "$work/out-plain" 2>/dev/null)
sluice_requests="$(python3 -c "import json,sys; print(json.load(open('$work/out-plain/results.json'))['summary']['requests'])")"
sluice_errors="$(python3 -c "import json,sys; print(json.load(open('$work/out-plain/results.json'))['summary']['errors'])")"
jtl_lines="$(($(wc -l <"$work/out-plain/results.jtl") - 1))"

python3 - "$wrk_requests" "$wrk_cpu" "$sluice_requests" "$sluice_cpu" "$duration" "$sluice_errors" "$jtl_lines" <<'PY'
import sys
wr, wc, sr, sc, d, se, jl = (float(x) for x in sys.argv[1:])
w = wr / wc
s = sr / sc
print(f"wrk:    {wr:.0f} requests in {d:.0f}s, {wc:.2f} CPU s -> {w:.0f} req/s per core ({wr/d:.0f} req/s)")
print(f"sluice: {sr:.0f} requests in {d:.0f}s, {sc:.2f} CPU s -> {s:.0f} req/s per core ({sr/d:.0f} req/s), "
      f"{se:.0f} errors, {jl:.0f} JTL lines")
print(f"load: req/s sluice={s:.0f} wrk={w:.0f} ratio={s / w:.2f}")
PY

# --- memory per VU -------------------------------------------------------------------------------------
mem_run() {  # VUS -> peak RSS KiB
  cat >"$work/mem.yaml" <<YAML
testId: bench-memory
target: {endpoint: "$url", path: /, timeout: 30s}
request: {method: GET, body: "", response: plain, label: get}
autoStop: disable
load: {virtualUsers: $1, rampUp: 5s, duration: 10s, thinkTime: 1s}
YAML
  measure "$sluice" load run "$work/mem.yaml" --threads 1 --quiet --no-jtl --out "$work/out-mem-$1" 2>/dev/null | awk '{print $2}'
}
small="$(mem_run 10)"
large="$(mem_run 10000)"
large_errors="$(python3 -c "import json; print(json.load(open('$work/out-mem-10000/results.json'))['summary']['errors'])")"
large_requests="$(python3 -c "import json; print(json.load(open('$work/out-mem-10000/results.json'))['summary']['requests'])")"
echo "memory: peak RSS ${small} KiB at 10 VUs, ${large} KiB at 10000 VUs (${large_requests} requests, ${large_errors} errors)"
python3 -c "print(f'load: memory per VU = {($large - $small) / 9990:.1f} KiB')"
