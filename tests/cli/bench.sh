#!/usr/bin/env bash
# `make bench` at a tiny size, so the benchmark cannot rot: fails only on a
# crash or on outputs that differ between ptc and the baseline, never on time.
set -u
PTC=${PTC:?PTC must name the ptc binary}
if bash "$(dirname "$0")/../../bench/run.sh" "$PTC" --quick >/tmp/ptc-bench-quick.$$ 2>&1; then
  echo "bench: 1 passed, 0 failed"; rm -f /tmp/ptc-bench-quick.$$
else
  cat /tmp/ptc-bench-quick.$$; rm -f /tmp/ptc-bench-quick.$$
  echo "bench: 0 passed, 1 failed"; exit 1
fi
