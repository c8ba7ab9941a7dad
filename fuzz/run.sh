#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets of fuzz/ with clang into build/fuzz/
# and runs each one for FUZZ_SECONDS.
#
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_TARGETS  which targets (default: parse compile_vm bc records)
#   FUZZ_JOBS     targets run at once (default: the number of CPUs)
#   FUZZ_CC       the compiler (default clang; needs libFuzzer: on Debian
#                 `apt-get install -y clang libclang-rt-14-dev`, done here
#                 when missing and running as root)
#   SHARED        ../shared beside the clone (conformance vectors as seeds;
#                 skipped when absent)
#
# Library sources are compiled with -fsanitize=fuzzer-no-link,address,undefined;
# the re2c/bison outputs come from build/gen/ (`make` makes them: `make fuzz`
# runs it first).  Seeds come from templates/, examples/, tests/, fuzz/seeds/,
# tests/regress/ and the conformance vectors; bytecode seeds are the stock
# templates compiled by build/ptc.  Corpora grow in build/fuzz/corpus/ across
# runs.  Crashing inputs land in build/fuzz/artifacts/TARGET/: keep each one
# in tests/regress/TARGET/ (tests/cli/fuzz_regress.sh replays them).
#
# Before fuzzing, every input in tests/regress/ is replayed through its
# target.  Exit status: 0 when nothing crashed, 1 otherwise.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-"parse compile_vm bc records"}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
CC=${FUZZ_CC:-clang}
SHARED=${SHARED:-$ROOT/../shared}
B=$ROOT/build/fuzz

die() { echo "fuzz: $*" >&2; exit 1; }

# ---- the toolchain ----------------------------------------------------------
have_libfuzzer() {
  mkdir -p "$B"
  printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n'\
'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$B/probe.c"
  "$CC" -fsanitize=fuzzer,address,undefined -o "$B/probe" "$B/probe.c" >/dev/null 2>&1
}
if ! have_libfuzzer; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "fuzz: installing clang and libFuzzer (clang libclang-rt-14-dev)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null \
      || die "apt-get install clang libclang-rt-14-dev failed"
  fi
  have_libfuzzer || die "$CC cannot build libFuzzer targets; run: sudo apt-get install -y clang libclang-rt-14-dev"
fi
[ -f build/gen/lexer.c ] && [ -f build/gen/parser.c ] || die "build/gen/ is missing: run make first"

# ---- build ------------------------------------------------------------------
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g $SAN -Iinclude -Ibuild/gen $(pkg-config --cflags sqlite3 libpq 2>/dev/null)"
LIBS="$(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3) -lpthread -ldl"
# The library the targets link: everything but the commands and the server.
srcs=()
for f in src/*/*.c runtime/*.c; do
  case $f in src/cmd/*|src/serve/*|src/web/*) continue ;; esac
  srcs+=("$f")
done
srcs+=(build/gen/lexer.c build/gen/parser.c)
mkdir -p "$B/obj" "$B/logs"
newest_header=$(ls -t include/ptc/*.h build/gen/parser.h | head -1)
objs=() stale=()
for f in "${srcs[@]}"; do
  o=$B/obj/$(echo "${f%.c}" | tr / _).o
  objs+=("$o")
  if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || [ "$newest_header" -nt "$o" ]; then stale+=("$f:$o"); fi
done
if [ ${#stale[@]} -gt 0 ]; then
  echo "fuzz: compiling ${#stale[@]} library sources with $CC ($SAN)"
  printf '%s\n' "${stale[@]}" | xargs -P "$FUZZ_JOBS" -I{} sh -c '
    f=${1%%:*}; o=${1#*:}
    case $f in build/gen/*) w="-w" ;; *) w="-Wall -Wextra" ;; esac
    '"$CC"' '"$CFLAGS"' $w -c -o "$o" "$f" || { echo "fuzz: cannot compile $f" >&2; exit 255; }' _ {} \
    || die "library build failed"
fi
rm -f "$B/libptc-fuzz.a"
ar rcs "$B/libptc-fuzz.a" "${objs[@]}" || die "ar failed"
for t in $FUZZ_TARGETS; do
  [ -f "fuzz/fuzz_$t.c" ] || die "no target fuzz/fuzz_$t.c"
  if [ ! -x "$B/fuzz_$t" ] || [ "fuzz/fuzz_$t.c" -nt "$B/fuzz_$t" ] || [ fuzz/common.h -nt "$B/fuzz_$t" ] \
     || [ "$B/libptc-fuzz.a" -nt "$B/fuzz_$t" ]; then
    "$CC" ${CFLAGS//fuzzer-no-link/fuzzer} -Wall -Wextra -Werror -Wno-unused-function \
      -o "$B/fuzz_$t" "fuzz/fuzz_$t.c" "$B/libptc-fuzz.a" $LIBS || die "cannot build fuzz_$t"
  fi
done

# ---- seeds ------------------------------------------------------------------
# seed DIR FILE...: copies the files (up to 64 KiB each) into DIR under
# content-derived names, so re-running adds nothing twice.
seed() {
  local dir=$1; shift
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ] || continue
    cp "$f" "$dir/$(sha1sum <"$f" | cut -c1-16)"
  done
}
rm -rf "$B/seeds"
tmpl_seeds=(templates/*.conf fuzz/seeds/template/* tests/hostile/inputs/*.conf tests/regress/fuzz.conf tests/regress/bc/base.conf)
list_seeds=(examples/*.conf fuzz/seeds/records/* tests/regress/phones.conf)
if [ -d "$SHARED/conformance" ]; then
  tmpl_seeds+=("$SHARED"/conformance/*/input/templates/*.conf)
  list_seeds+=("$SHARED"/conformance/*/input/massdeployment.conf)
else
  echo "fuzz: no conformance vectors at $SHARED/conformance: seeding from this tree only"
fi
seed "$B/seeds/parse" "${tmpl_seeds[@]}" tests/regress/parse/* tests/regress/compile_vm/*
seed "$B/seeds/compile_vm" "${tmpl_seeds[@]}" tests/regress/compile_vm/* tests/regress/parse/*
seed "$B/seeds/records" "${list_seeds[@]}" tests/regress/records/*
mkdir -p "$B/seeds/bc"
if [ -x build/ptc ]; then
  rm -rf "$B/bc-cache" && mkdir -p "$B/bc-cache"
  for f in "${tmpl_seeds[@]}"; do
    [ -f "$f" ] && build/ptc compile --cache-dir "$B/bc-cache" "$f" >/dev/null 2>&1
  done
  seed "$B/seeds/bc" "$B"/bc-cache/*.ptcb
else
  echo "fuzz: build/ptc missing: no bytecode seeds"
fi
seed "$B/seeds/bc" tests/regress/bc/*.bin tests/regress/bc/*.src

# ---- replay the kept crashers -------------------------------------------------
status=0
for t in $FUZZ_TARGETS; do
  if [ "$t" = bc ]; then set -- tests/regress/bc/*.bin tests/regress/bc/*.src; else set -- tests/regress/"$t"/*; fi
  [ -f "$1" ] || continue
  if ! "$B/fuzz_$t" "$@" >"$B/logs/$t.regress.log" 2>&1; then
    echo "fuzz: REGRESSION: fuzz_$t crashes on a kept input (see $B/logs/$t.regress.log)"
    status=1
  fi
done

# ---- fuzz -------------------------------------------------------------------
dict_of() { case $1 in parse|compile_vm) echo fuzz/template.dict ;; records) echo fuzz/records.dict ;; bc) echo fuzz/bc.dict ;; esac; }
run_target() {
  local t=$1
  mkdir -p "$B/corpus/$t" "$B/artifacts/$t"
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$B/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -max_len=16384 -dict="$(dict_of "$t")" \
    -artifact_prefix="$B/artifacts/$t/" "$B/corpus/$t" "$B/seeds/$t" >"$B/logs/$t.log" 2>&1
}
echo "fuzz: running $FUZZ_TARGETS for ${FUZZ_SECONDS}s each, $FUZZ_JOBS at a time (logs in $B/logs/)"
pids=() names=()
for t in $FUZZ_TARGETS; do
  while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n; done
  run_target "$t" &
  pids+=($!) names+=("$t")
done
rcs=()
for i in "${!pids[@]}"; do wait "${pids[$i]}"; rcs[$i]=$?; done

# ---- report -----------------------------------------------------------------
printf '\n%-11s %10s %9s %6s %7s %7s %8s  %s\n' target execs exec/s cov ft corpus seconds result | tee "$B/summary.txt"
for i in "${!names[@]}"; do
  t=${names[$i]} log=$B/logs/${names[$i]}.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  crashes=$(find "$B/artifacts/$t" -type f -newer "$B/libptc-fuzz.a" | wc -l)
  result=ok
  if [ "${rcs[$i]}" != 0 ] || [ "$crashes" -gt 0 ]; then result="CRASH (${crashes} in $B/artifacts/$t/)"; status=1; fi
  printf '%-11s %10s %9s %6s %7s %7s %8s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "${secs:--}" "$result" | tee -a "$B/summary.txt"
done
if [ $status != 0 ]; then
  echo "fuzz: FAILED: keep each crashing input in tests/regress/TARGET/ and fix it" >&2
fi
exit $status
