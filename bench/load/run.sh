#!/usr/bin/env bash
# sluice load vs wrk against the same nginx endpoint, in one run.
#
#   bench/load/run.sh [DURATION_SECONDS]   (default 6; ROUNDS, default 3)
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
#   load: req/s sluice=X wrk=Y ratio=Z          (per core, medians of the rounds)
#   load: memory per VU = N KiB
set -euo pipefail
duration="${1:-6}"
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

# --- wrk and sluice load, in rounds ----------------------------------------------------------------
# This machine's speed moves by a third within a minute (one run read 1.02, the next 0.77, the same
# binary): each round measures both tools back to back, the order turning each round, and the
# figures printed are the medians of the rounds' ratios and of each tool's rounds.
rounds="${ROUNDS:-3}"
cat >"$work/plain.yaml" <<YAML
testId: bench-plain
target: {endpoint: "$url", path: /, timeout: 10s}
request: {method: GET, body: "", response: plain, label: get}
autoStop: disable
load: {virtualUsers: 64, duration: ${duration}s}
YAML
run_wrk() {  # prints "<requests> <cpu_seconds>"
  local out="$work/wrk.txt" cpu
  read -r cpu _ < <(measure wrk -t1 -c64 -d"${duration}s" --latency "$url" 2>"$out")
  echo "$(awk '/requests in/ {print $1}' "$out") $cpu"
}
run_sluice() {  # prints "<requests> <cpu_seconds> <errors> <jtl_lines>"
  local cpu
  rm -rf "$work/out-plain"
  read -r cpu _ < <(measure "$sluice" load run "$work/plain.yaml" --threads 1 --quiet --out "$work/out-plain" 2>/dev/null)
  python3 - "$work/out-plain" "$cpu" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1] + "/results.json"))["summary"]
with open(sys.argv[1] + "/results.jtl") as jtl:
    lines = sum(1 for _ in jtl) - 1
print(summary["requests"], sys.argv[2], summary["errors"], lines)
PY
}
: >"$work/rounds"
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) = 1 ]; then
    read -r wr wc < <(run_wrk); read -r sr sc se jl < <(run_sluice)
  else
    read -r sr sc se jl < <(run_sluice); read -r wr wc < <(run_wrk)
  fi
  echo "$wr $wc $sr $sc $se $jl" >>"$work/rounds"
done

python3 - "$duration" "$work/rounds" <<'PY'
import statistics, sys
d = float(sys.argv[1])
rows = [[float(x) for x in line.split()] for line in open(sys.argv[2])]
for i, (wr, wc, sr, sc, se, jl) in enumerate(rows, 1):
    print(f"round {i}: wrk {wr:.0f} requests, {wc:.2f} CPU s -> {wr/wc:.0f} req/s per core; "
          f"sluice {sr:.0f} requests, {sc:.2f} CPU s -> {sr/sc:.0f} req/s per core, "
          f"{se:.0f} errors, {jl:.0f} JTL lines (every sample: {'yes' if jl == sr else 'NO'})")
w = statistics.median(wr / wc for wr, wc, *_ in rows)
s = statistics.median(sr / sc for _, _, sr, sc, *_ in rows)
ratio = statistics.median((sr / sc) / (wr / wc) for wr, wc, sr, sc, *_ in rows)
print(f"load: req/s sluice={s:.0f} wrk={w:.0f} ratio={ratio:.2f} (per core; medians of {len(rows)} rounds, "
      f"the ratio paired within each; {d:.0f} s each)")
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
