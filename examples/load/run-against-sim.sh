#!/usr/bin/env bash
# One command: start `sluice sim` on a free loopback port, run examples/load/chat-entra.yaml
# against it, stop the simulator. Extra arguments go to `sluice load run` (e.g. --out DIR).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
sluice="${SLUICE:-$root/build/sluice}"
log="$(mktemp)"
"$sluice" sim --config "$root/examples/sim.yaml" --port 0 >"$log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; rm -f "$log"' EXIT
url=""
for _ in $(seq 100); do
  url="$(grep -o 'http://[0-9.]*:[0-9]*' "$log" | head -1 || true)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "sluice sim did not start:"; cat "$log"; exit 2; }
"$sluice" load run "$here/chat-entra.yaml" --env "SIM_URL=$url" \
  --secrets-file "$here/secrets.env" "$@"
