#!/usr/bin/env bash
# `make bench`: runs every benchmark script and writes one summary table of ratios against the
# named baselines, each measured in the same run as its sluice figure. Output: bench/results/.
# A benchmark that fails is reported in the table and the others still run.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/results"
mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
summary="$out/summary-$stamp.txt"

benches=(
  "tokenizer|tokenizer/run.sh|npm tiktoken (WASM)"
  "simulator|sim/run.sh|nginx (fixed JSON), wrk"
  "gateway|gateway/run.sh|nginx reverse proxy, Portkey"
  "gateway-streams|gateway/streams.sh|direct to the simulator"
  "gateway-accounting|gateway/accounting.sh|gateway with accounting off"
  "gateway-auth|gateway/auth.sh|gateway with auth off"
  "gateway-limits|gateway/limits.sh|gateway with limits off"
  "gateway-cache|gateway/cache.sh|nginx reverse proxy (same response)"
  "gateway-tracing|gateway/tracing.sh|gateway with tracing off"
  "gateway-scaling|gateway/scaling.sh|nginx reverse proxy, 1 and 2 workers"
  "syscalls|gateway/syscalls.sh|nginx reverse proxy, nginx (fixed JSON)"
  "load|load/run.sh|wrk"
  "load-timing|load/timing.sh|the simulator's timing model"
)

{
  echo "sluice benchmark summary ($stamp, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
} >"$summary"
for entry in "${benches[@]}"; do
  IFS='|' read -r name script baseline <<<"$entry"
  log="$out/$name-$stamp.log"
  if [ ! -x "$here/$script" ]; then
    printf '%-20s missing (%s)\n' "$name" "$script" >>"$summary"
    continue
  fi
  echo "== $name ($script) vs $baseline"
  if timeout 900 "$here/$script" >"$log" 2>&1; then status=ok; else status="FAILED (see $log)"; fi
  tail -n 3 "$log" | sed 's/^/   /'
  {
    printf '%-20s baseline: %s [%s]\n' "$name" "$baseline" "$status"
    # Each script ends its output with grep-able "name: key=value ..." lines.
    grep -E '^(tokenizer|sim|sim-streams|gateway|gateway-streams|accounting|auth|limits|cache|semantic|tracing|scaling|syscalls|load|memory)[a-z-]*:' "$log" | sed 's/^/    /'
  } >>"$summary"
done
echo
cat "$summary"
echo "summary written to $summary"
