# Shared helpers for the CLI test scripts in tests/cli/ (source "$(dirname "$0")/../lib.sh").
#   PTC     the ptc binary (set by `make check`)
#   SHARED  ../shared (conformance vectors)
# Each script counts with ok/fail and ends with `finish`, which prints
# "NAME: N passed, N failed" and exits non-zero on any failure.
set -u
PTC=${PTC:?PTC must name the ptc binary}
SHARED=${SHARED:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared}
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$TESTS_DIR/.." && pwd)
T_PASS=0 T_FAIL=0
T_NAME=$(basename "$0" .sh)
T_WORK=$(mktemp -d)
trap 'rm -rf "$T_WORK"' EXIT

ok()   { T_PASS=$((T_PASS+1)); }
fail() { T_FAIL=$((T_FAIL+1)); echo "FAIL [$T_NAME] $*" >&2; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok; else fail "$d"; fi; }

# expect_eq DESCRIPTION GOT WANT
expect_eq() {
  if [ "$2" == "$3" ]; then ok; else
    fail "$1"; printf '  got:  %s\n  want: %s\n' "$2" "$3" >&2; fi
}

# expect_file DESCRIPTION FILE WANT_TEXT: exact bytes (WANT_TEXT gets no newline added).
expect_file() {
  if [ -f "$2" ] && [ "$(cat "$2"; echo x)" == "$3"x ]; then ok; else
    fail "$1"; echo "  file $2:" >&2; cat "$2" >&2 2>/dev/null; echo "  want:" >&2; printf '%s' "$3" >&2; fi
}

# mkroot NAME: an empty --root with rc.conf and templates dir; prints its path.
mkroot() {
  local r=$T_WORK/$1
  mkdir -p "$r/etc" "$r/mnt/kd/phoneprov/templates"
  printf 'INTIF="eth1"\nINTIP="10.0.0.1"\nPHONEPROV_GW_IF="INTIF"\n' >"$r/etc/rc.conf"
  echo "$r"
}

# ptc_run ROOT ARGS...: ptc run with --root and a private cache.
ptc_run() { local r=$1; shift; "$PTC" run --root "$r" --cache-dir "$T_WORK/cache" "$@"; }

# port_of LOG PID: the port of a server's first "http(s)://127.0.0.1:PORT" in
# LOG, waiting up to 10 s while PID lives; empty when it never came.
port_of() {
  local p=
  for _ in $(seq 1 100); do
    p=$(grep -o 'https\?://127.0.0.1:[0-9]*' "$1" 2>/dev/null | head -1 | sed 's/.*://')
    [ -n "$p" ] && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "$p"
}

finish() {
  echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" -eq 0 ]
}
