#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, starting from the committed
# seeds, and prints executions and coverage per target. Exits non-zero on any crash;
# the crashing input is in fuzz/artifacts/<target>/ (copy it to fuzz/regressions/<target>/
# so that `cargo test` replays it from then on).
#
# usage: fuzz/run-all.sh [SECONDS] [TARGET...]     (default: 600 seconds, every target)
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
[ $# -gt 0 ] && shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
# cargo-fuzz has no --locked: a stale fuzz/Cargo.lock fails here instead of being rewritten.
cargo +nightly fetch --locked --quiet
cargo +nightly fuzz build >/dev/null 2>&1 || cargo +nightly fuzz build
stat() { grep -o "$1: [0-9]*" "$2" | tail -1 | awk '{print $2}'; }
printf '%-16s %8s %14s %10s %8s %8s %8s  %s\n' target seconds executions exec/s cov features corpus result
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  if cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    failed=1
  fi
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")"
  corp="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$done_line")"
  execs="$(stat stat::number_of_executed_units "$log")"
  rate="$(awk -v e="${execs:-0}" -v s="$secs" 'BEGIN { printf "%d", e / s }')"
  printf '%-16s %8s %14s %10s %8s %8s %8s  %s\n' "$t" "$secs" "${execs:--}" "$rate" "${cov:--}" "${ft:--}" "${corp:--}" "$result"
  if [ "$result" = CRASH ]; then
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 | sed 's/^/    /'
  fi
  rm -f "$log"
done
exit "$failed"
