#!/usr/bin/env bash
# Replays tests/regress/ (inputs kept from fuzzing and from the hostile-input
# work, see tests/regress/README.md) through the real ptc binary:
#
#   parse/, compile_vm/  templates: ptc compile, ptc disasm, and ptc run of
#                        three fixed phones (tests/regress/phones.conf)
#   bc/                  bytecode files planted as the cache file of
#                        bc/base.conf: with a NAME.why, ptc disasm -v must
#                        report the miss for that reason, then recompile and
#                        print the same disassembly as from a clean cache;
#                        without, the loader accepts it (its header names
#                        base.conf) and ptc run runs it for one phone
#   records/             phone lists: ptc run against tests/regress/fuzz.conf
#
# Every command must end (time limit), exit 0-3, and print no sanitizer report
# (make check SANITIZE=1 builds ptc with ASan+UBSan; under check-valgrind
# the wrapper exits 99 on a memcheck error).
source "$(dirname "$0")/../lib.sh"
export LC_ALL=C
R=$REPO_DIR/tests/regress
LIMIT=30
[ -n "${VALGRIND:-}" ] && LIMIT=300
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=99:print_stacktrace=1

# replay NAME CMD...: runs CMD; it must exit 0-3 without a sanitizer report.
replay() {
  local name=$1; shift
  timeout "$LIMIT" "$@" </dev/null >"$T_WORK/out" 2>"$T_WORK/err"
  local rc=$?
  if [ $rc -gt 3 ] || grep -qE 'Sanitizer|runtime error:|LeakSanitizer' "$T_WORK/err"; then
    fail "$name: exit $rc"; head -20 "$T_WORK/err" >&2
    return 1
  fi
  ok
  return 0
}

root=$(mkroot regress)
RUN=("$PTC" run --cache-dir "$T_WORK/cache" --root "$root")
TD=$root/mnt/kd/phoneprov/templates
cp "$R/fuzz.conf" "$TD/fuzz.conf"
cp "$R/fuzz.conf" "$TD/fuzz-2.model+x.conf"
n=0

# ---- templates ---------------------------------------------------------------
for f in "$R"/parse/* "$R"/compile_vm/*; do
  [ -f "$f" ] || continue
  name=${f#"$R"/}
  replay "$name: compile" "$PTC" compile --cache-dir "$T_WORK/cache" "$f"
  replay "$name: disasm" "$PTC" disasm --cache-dir "$T_WORK/cache" "$f"
  cp "$f" "$TD/fuzz.conf"
  cp "$f" "$TD/fuzz-2.model+x.conf"
  replay "$name: run" "${RUN[@]}" -f -q "$R/phones.conf"
  n=$((n + 1))
done
cp "$R/fuzz.conf" "$TD/fuzz.conf"
cp "$R/fuzz.conf" "$TD/fuzz-2.model+x.conf"
replay "the fixed template runs" "${RUN[@]}" -f -q "$R/phones.conf"
expect_eq "the fixed template writes its files" "$(find "$root/mnt/kd/phoneprov/v" -type f | wc -l)" 3

# ---- bytecode ----------------------------------------------------------------
bcc=$T_WORK/bc-cache
"$PTC" disasm -v --cache-dir "$bcc" "$R/bc/base.conf" >"$T_WORK/base.disasm" 2>/dev/null
cached=$(ls "$bcc"/*.ptcb)
check "bc: base.ptcb.src is what ptc writes for base.conf" cmp -s "$cached" "$R/bc/base.ptcb.src"
bcroot=$(mkroot bc)
cp "$R/bc/base.conf" "$bcroot/mnt/kd/phoneprov/templates/"
printf 'base 00:0b:82:11:22:33 201 pw\n' >"$T_WORK/base.list"
for f in "$R"/bc/*.bin; do
  name=bc/$(basename "$f")
  cp "$f" "$cached"
  replay "$name" "$PTC" disasm -v --cache-dir "$bcc" "$R/bc/base.conf" || continue
  if [ -f "${f%.bin}.why" ]; then         # the loader must refuse it, for this reason
    check "$name: same disassembly after the miss" cmp -s "$T_WORK/out" "$T_WORK/base.disasm"
    want="ptc: cache miss for $R/bc/base.conf: $(cat "${f%.bin}.why")"
    check "$name: rejected for: $(cat "${f%.bin}.why")" grep -qxF "$want" "$T_WORK/err"
    check "$name: the cache holds a good file again" cmp -s "$cached" "$R/bc/base.ptcb.src"
  else                                      # a program the loader accepts: run it
    check "$name: a cache hit for base.conf" sh -c "! grep -q 'cache miss' '$T_WORK/err'"
    replay "$name: run" "$PTC" run --cache-dir "$bcc" --root "$bcroot" -f "$T_WORK/base.list"
  fi
  n=$((n + 1))
done

# ---- phone lists ---------------------------------------------------------------
for f in "$R"/records/*; do
  [ -f "$f" ] || continue
  replay "${f#"$R"/}: run" "${RUN[@]}" -f "$f"
  replay "${f#"$R"/}: dry run" "${RUN[@]}" -n "$f"
  n=$((n + 1))
done

echo "fuzz_regress: $n inputs replayed"
finish
