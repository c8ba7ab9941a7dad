#!/usr/bin/env bash
# Runs every test suite: the Check binaries given as arguments, then every
# tests/cli/*.sh script.  Prints one closing line "N passed, N failed".
# Environment: PTC (the ptc binary), SHARED (../shared, for conformance).
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0 failed=()
for t in "$@"; do
  echo "== $t"
  if ${VALGRIND:+valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect} "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$t"); fi
done
for t in tests/cli/*.sh; do
  [ -e "$t" ] || continue
  echo "== $t"
  if bash "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$t"); fi
done
echo
[ ${#failed[@]} -gt 0 ] && printf 'FAILED: %s\n' "${failed[@]}"
echo "suites: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
