#!/usr/bin/env bash
# bench/run.sh: the ptc benchmark (`make bench`).  See bench/README.
#
#   bench/run.sh [PTC] [--quick] [--reps N] [--sizes "N1 N2 ..."] [--no-profile]
#
#   PTC           the ptc binary (default build/ptc)
#   --quick       tiny mode for `make check`: 50 phones, 1 repetition, no
#                 profile; a few seconds
#   --reps N      repetitions per measurement (default 5; medians reported)
#   --sizes LIST  phone counts (default "1000 10000 100000")
#   --no-profile  skip the callgrind/perf/strace profile of a 10,000-phone run
#
# Exit status: non-zero only when something crashed or failed (ptc, a
# helper) or when ptc's output differs from the reference or the baseline
# output; never because of a timing.  Timings against the targets are
# printed as PASS/MISS only.
set -u
export LC_ALL=C

REPO=$(cd "$(dirname "$0")/.." && pwd)
PTC=build/ptc
QUICK=0 REPS=5 SIZES="1000 10000 100000" PROFILE=1
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --sizes) SIZES=$2; shift ;;
    --no-profile) PROFILE=0 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "bench: unknown option $1" >&2; exit 64 ;;
    *) PTC=$1 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then SIZES=50 REPS=1 PROFILE=0; fi
case $PTC in /*) ;; *) PTC=$PWD/$PTC ;; esac
[ -x "$PTC" ] || { echo "bench: $PTC is not an executable (run make first)" >&2; exit 1; }
cd "$REPO"

FAILED=0
fail() { echo "bench: FAIL: $*" >&2; FAILED=$((FAILED + 1)); }

# ---- helpers, compiled here (cc -O2) ------------------------------------------
BB=$REPO/build/bench
mkdir -p "$BB"
CC=${CC:-cc}
build_helper() {    # name [extra args...]
  local n=$1; shift
  if [ ! -x "$BB/$n" ] || [ "bench/$n.c" -nt "$BB/$n" ] || [ "$#" -gt 0 ]; then
    $CC -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$BB/$n" "bench/$n.c" "$@" || return 1
  fi
}
for h in gen baseline timeit; do build_helper $h || { echo "bench: cannot compile bench/$h.c" >&2; exit 1; }; done
HAVE_CACHELOAD=0
if [ -f build/libptc.a ]; then
  LIBS=$(pkg-config --libs sqlite3 libmicrohttpd gnutls 2>/dev/null)
  if build_helper cacheload -Iinclude build/libptc.a $LIBS -lpthread 2>"$BB/cacheload.log"; then
    HAVE_CACHELOAD=1
  fi
fi
GEN=$BB/gen BASE=$BB/baseline TIMEIT=$BB/timeit

# ---- a tmpfs to work in ----------------------------------------------------------
MOUNTED=""
WORK=""
fstype() { stat -f -c %T "$1" 2>/dev/null; }
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(fstype /dev/shm)" = tmpfs ]; then
  WORK=$(mktemp -d /dev/shm/ptc-bench.XXXXXX)
  WHERE="tmpfs (/dev/shm)"
elif [ "$(id -u)" = 0 ]; then
  WORK=$(mktemp -d /tmp/ptc-bench.XXXXXX)
  if mount -t tmpfs -o size=4g ptc-bench "$WORK" 2>/dev/null; then
    MOUNTED=$WORK WHERE="tmpfs (mounted on $WORK)"
  else
    WHERE="NOT tmpfs: $(fstype "$WORK") at $WORK (mount failed); figures include disk"
  fi
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/ptc-bench.XXXXXX")
  WHERE="NOT tmpfs: $(fstype "$WORK") at $WORK; figures include disk"
fi
cleanup() {
  [ -n "$MOUNTED" ] && umount "$MOUNTED" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

OUT=$BB/results.txt
: >"$OUT"
say() { printf '%s\n' "$*" | tee -a "$OUT"; }
sayf() { printf "$@" | tee -a "$OUT"; }

median() { sort -n | awk '{v[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
maxof() { sort -n | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
passmiss() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }

# ---- the skeleton of a --root (as tests/demo.sh) ---------------------------------
SKEL=$WORK/skel CACHE=$WORK/cache
mkdir -p "$SKEL/etc" "$SKEL/mnt/kd/phoneprov/templates" "$CACHE"
printf 'INTIF="eth1"\nINTIP="192.168.101.1"\nPHONEPROV_GW_IF="INTIF"\n' >"$SKEL/etc/rc.conf"
cp templates/*.conf "$SKEL/mnt/kd/phoneprov/templates/"
fresh_root() { rm -rf "$1"; cp -a "$SKEL" "$1"; }
# after deleting a big tree the kernel frees its inodes and pages in the
# background (RCU): let that finish before the next timed step
settle() { [ "$1" -ge 10000 ] && sleep 0.5; return 0; }

# timed RESULTVAR COMMAND...: runs the command under timeit; sets RESULTVAR to
# "wall_us maxrss_kib user_us sys_us status"; stdout/stderr to $WORK/last.*
timed() {
  local var=$1; shift
  "$TIMEIT" "$@" 3>"$WORK/t.out" >"$WORK/last.out" 2>"$WORK/last.err"
  printf -v "$var" '%s' "$(cat "$WORK/t.out")"
}
field() { echo "$1" | awk -v f="$2" '{print $f}'; }
# same_output REF ROOT WHAT: ROOT's tree is REF's byte for byte, and so are
# the table's rows (the database is rebuilt and swapped: its bytes differ)
same_output() {
  "$BASE" cmp "$1/mnt/kd" "$2/mnt/kd" asterisk-odbc.sqlite3 >/dev/null || fail "ptc output differs $3"
  if command -v sqlite3 >/dev/null &&
     ! cmp -s <(sqlite3 "$1/mnt/kd/asterisk-odbc.sqlite3" .dump) <(sqlite3 "$2/mnt/kd/asterisk-odbc.sqlite3" .dump); then
    fail "the phoneprov table differs $3"
  fi
}


# ---- the machine -------------------------------------------------------------------
say "ptc bench  $(date -u '+%Y-%m-%d %H:%M UTC')  $("$PTC" --version 2>/dev/null)  git $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src runtime include grammar 2>/dev/null || echo '+dirty')"
say "machine    $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
say "work dir   $WHERE; a fresh --root per ptc run; template cache warm (shared --cache-dir)"
say "reps       $REPS per figure (medians), ptc and baselines interleaved; sizes: $SIZES"
say "load       $(cut -d' ' -f1-3 /proc/loadavg) at the start (other work on this machine makes wall times noisy)"

# what starting any process costs here (fork + exec + exit, as timeit sees it)
: >"$WORK/floor"
for ((k = 1; k <= 5; k++)); do timed t /bin/true; field "$t" 1 >>"$WORK/floor"; done
FLOOR=$(median <"$WORK/floor")
say "floor      /bin/true takes $(awk -v u="$FLOOR" 'BEGIN { printf "%.1f", u / 1000 }') ms wall under timeit (fork + exec + wait): part of every ptc figure"
say ""

# warm the cache (every run below loads templates from it)
"$PTC" compile --cache-dir "$CACHE" "$SKEL/mnt/kd/phoneprov/templates" >/dev/null 2>"$WORK/compile.err" ||
  { fail "ptc compile of the stock templates"; cat "$WORK/compile.err" >&2; }

# ---- runs ----------------------------------------------------------------------------
declare -A R_PTC R_US R_RSS R_RSSMAX R_PLAIN R_MIN R_REN R_RERUN R_RERUN_RSS R_FILES R_REWROTE R_ONE R_ONE_RSS R_ONE_WROTE
for N in $SIZES; do
  LIST=$WORK/list-$N.conf
  "$GEN" "$N" >"$LIST" || { fail "gen $N"; continue; }
  REF=$WORK/ref
  fresh_root "$REF"
  if ! "$PTC" run -q --root "$REF" --cache-dir "$CACHE" "$LIST" >"$WORK/last.out" 2>"$WORK/last.err"; then
    fail "ptc run of $N phones (reference run) exited $?"; head -5 "$WORK/last.err" >&2; continue
  fi
  nfiles=$("$BASE" snap "$REF/mnt/kd" | wc -l)
  R_FILES[$N]=$nfiles
  # the same list with the first phone's password changed, and its own reference
  LIST1=$WORK/list1-$N.conf REF1=$WORK/ref1
  awk '!d && NF >= 4 && $1 !~ /^#/ { $4 = "Changed0ne"; d = 1 } { print }' "$LIST" >"$LIST1"
  fresh_root "$REF1"
  "$PTC" run -q --root "$REF1" --cache-dir "$CACHE" "$LIST1" >"$WORK/last.out" 2>"$WORK/last.err" ||
    fail "ptc run of $N phones, one changed (reference run)"
  one_wrote=0
  : >"$WORK/ptc" ; : >"$WORK/rss" ; : >"$WORK/plain" ; : >"$WORK/rename" ; : >"$WORK/minimal" ; : >"$WORK/rerun" ; : >"$WORK/rerun_rss" ; : >"$WORK/one" ; : >"$WORK/one_rss"
  rewrote=0
  for ((k = 1; k <= REPS; k++)); do
    # odd repetitions: ptc first; even: baselines first (drift cancels out)
    for step in $( ((k % 2)) && echo "ptc plain minimal rename" || echo "rename minimal plain ptc"); do
      case $step in
      ptc)
        R=$WORK/r; fresh_root "$R"
        rm -f "$CACHE"/gen-*.idx        # a first run: no record of an earlier tree
        timed t "$PTC" run -q --root "$R" --cache-dir "$CACHE" "$LIST"
        if [ "$(field "$t" 5)" != 0 ]; then fail "ptc run, $N phones, exit $(field "$t" 5)"; head -5 "$WORK/last.err" >&2; continue; fi
        field "$t" 1 >>"$WORK/ptc"; field "$t" 2 >>"$WORK/rss"
        "$BASE" cmp "$REF/mnt/kd" "$R/mnt/kd" >/dev/null || fail "ptc output differs between runs ($N phones)"
        # the same list again over its own output: nothing may be rewritten
        "$BASE" snap "$R/mnt/kd" | grep -v '^asterisk-odbc.sqlite3 ' >"$WORK/snap1"
        timed t "$PTC" run -q -f --root "$R" --cache-dir "$CACHE" "$LIST"
        if [ "$(field "$t" 5)" != 0 ]; then fail "ptc run -f (no change), $N phones, exit $(field "$t" 5)"; head -5 "$WORK/last.err" >&2; continue; fi
        field "$t" 1 >>"$WORK/rerun"; field "$t" 2 >>"$WORK/rerun_rss"
        "$BASE" snap "$R/mnt/kd" | grep -v '^asterisk-odbc.sqlite3 ' >"$WORK/snap2"
        n=$(diff "$WORK/snap1" "$WORK/snap2" | grep -c '^>')
        [ "$n" -gt "$rewrote" ] && rewrote=$n
        same_output "$REF" "$R" "after a no-change rerun ($N phones)"
        # one phone edited: only its file and the include files may be rewritten,
        # and the tree must be what a fresh run of the edited list writes
        timed t "$PTC" run -q -f --root "$R" --cache-dir "$CACHE" "$LIST1"
        if [ "$(field "$t" 5)" != 0 ]; then fail "ptc run -f (one changed), $N phones, exit $(field "$t" 5)"; continue; fi
        field "$t" 1 >>"$WORK/one"; field "$t" 2 >>"$WORK/one_rss"
        "$BASE" snap "$R/mnt/kd" | grep -v '^asterisk-odbc.sqlite3 ' >"$WORK/snap3"
        n=$(diff "$WORK/snap2" "$WORK/snap3" | grep -c '^>')
        [ "$n" -gt "$one_wrote" ] && one_wrote=$n
        same_output "$REF1" "$R" "after one phone changed, against a fresh run ($N phones)"
        rm -rf "$R"; settle "$N" ;;
      plain|minimal|rename)
        D=$WORK/b; rm -rf "$D"
        us=$("$BASE" "$step" "$REF/mnt/kd" "$D/mnt/kd") || { fail "baseline $step crashed ($N phones)"; continue; }
        echo "$us" >>"$WORK/$step"
        if [ "$k" = 1 ]; then
          "$BASE" cmp "$REF/mnt/kd" "$D/mnt/kd" >/dev/null || fail "baseline $step output differs from ptc's ($N phones)"
        fi
        rm -rf "$D"; settle "$N" ;;
      esac
    done
  done
  R_PTC[$N]=$(median <"$WORK/ptc") R_RSS[$N]=$(median <"$WORK/rss") R_RSSMAX[$N]=$(maxof <"$WORK/rss")
  R_PLAIN[$N]=$(median <"$WORK/plain") R_REN[$N]=$(median <"$WORK/rename") R_MIN[$N]=$(median <"$WORK/minimal")
  R_RERUN[$N]=$(median <"$WORK/rerun") R_RERUN_RSS[$N]=$(maxof <"$WORK/rerun_rss")
  R_US[$N]=$(awk -v t="${R_PTC[$N]}" -v n="$N" 'BEGIN { printf "%.1f", t / n }')
  R_REWROTE[$N]=$rewrote
  R_ONE[$N]=$(median <"$WORK/one") R_ONE_RSS[$N]=$(maxof <"$WORK/one_rss") R_ONE_WROTE[$N]=$one_wrote
  rm -rf "$REF" "$REF1"
done

ms() { awk -v u="$1" 'BEGIN { if (u == "nan" || u == "") print "-"; else printf "%.1f", u / 1000 }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "nan" || k == "") print "-"; else printf "%.1f", k / 1024 }'; }

say "== ptc run on a fresh root vs the baselines (wall time, medians of $REPS)"
say "   plain  = mkdir + open/write/close of the same bytes under the same names"
say "   minimal = a temporary file beside each, write, close, rename: the least an atomic"
say "             replacement takes (no manifest, no fsync); the limit of issue 17"
say "   rename = the same with ptc's temp-file + syncfs + manifest + rename discipline"
sayf '%8s %7s %9s %8s %7s %9s %10s %9s %10s %8s %7s %9s\n' phones files "ptc ms" "us/phone" "RSS MiB" "plain ms" "minimal ms" "rename ms" ptc/plain ptc/min ptc/ren "slower by"
for N in $SIZES; do
  [ -n "${R_PTC[$N]:-}" ] || continue
  sayf '%8s %7s %9s %8s %7s %9s %10s %9s %10s %8s %7s %8sx\n' "$N" "${R_FILES[$N]}" "$(ms "${R_PTC[$N]}")" "${R_US[$N]}" \
    "$(mib "${R_RSSMAX[$N]}")" "$(ms "${R_PLAIN[$N]}")" "$(ms "${R_MIN[$N]}")" "$(ms "${R_REN[$N]}")" \
    "$(ratio "${R_PTC[$N]}" "${R_PLAIN[$N]}")" "$(ratio "${R_PTC[$N]}" "${R_MIN[$N]}")" "$(ratio "${R_PTC[$N]}" "${R_REN[$N]}")" \
    "$(awk -v p="${R_PTC[$N]}" -v n="$N" 'BEGIN { printf "%.0f", 140000 * n / p }')"
done
say "   (\"slower by\": how many times faster than the original's ~140 ms per phone)"
say ""
say "== no-change rerun (ptc run -f over its own output; every file unchanged)"
sayf '%8s %13s %9s %8s %9s %s\n' phones "first run ms" "rerun ms" speedup "RSS MiB" "files rewritten"
for N in $SIZES; do
  [ -n "${R_RERUN[$N]:-}" ] || continue
  sayf '%8s %13s %9s %7sx %9s %s\n' "$N" "$(ms "${R_PTC[$N]}")" "$(ms "${R_RERUN[$N]}")" \
    "$(ratio "${R_PTC[$N]}" "${R_RERUN[$N]}")" "$(mib "${R_RERUN_RSS[$N]}")" "${R_REWROTE[$N]} of ${R_FILES[$N]}"
done
say ""
say "== one phone's password changed (ptc run -f with the edited list over the tree just rerun)"
sayf '%8s %13s %9s %13s %9s %s\n' phones "first run ms" "rerun ms" "rerun / first" "RSS MiB" "files rewritten"
for N in $SIZES; do
  [ -n "${R_ONE[$N]:-}" ] || continue
  sayf '%8s %13s %9s %13s %9s %s\n' "$N" "$(ms "${R_PTC[$N]}")" "$(ms "${R_ONE[$N]}")" \
    "$(ratio "${R_ONE[$N]}" "${R_PTC[$N]}")" "$(mib "${R_ONE_RSS[$N]}")" "${R_ONE_WROTE[$N]} of ${R_FILES[$N]}"
done
say "   (the phone's file and the include files it has a share of: 5 at most)"
say ""

# ---- templates: compile, cached load ------------------------------------------------
say "== templates: compile (empty cache) and cached load, per stock template"
CL_MAX=""
if [ "$HAVE_CACHELOAD" = 1 ]; then
  it=$([ "$QUICK" = 1 ] && echo 5 || echo 300)
  mkdir -p "$WORK/clcache"
  if "$BB/cacheload" "$WORK/clcache" "$it" "$SKEL"/mnt/kd/phoneprov/templates/*.conf >"$WORK/cl.out" 2>"$WORK/cl.err"; then
    sayf '%-26s %6s %12s %14s %18s\n' template bytes "compile us" "cached load us" "read+load+free us"
    while read -r name bytes cold warm load; do
      sayf '%-26s %6s %12s %14s %18s\n' "$name" "$bytes" "$cold" "$warm" "$load"
    done <"$WORK/cl.out"
    CL_MAX=$(awk '{print $4}' "$WORK/cl.out" | maxof)
    say "   (bench/cacheload: ptc_cache_get through build/libptc.a, median of $it; compile = compile +"
    say "    encode + atomic store; cached load = read + decode + validate the .ptcb file)"
  else
    fail "bench/cacheload"; cat "$WORK/cl.err" >&2
  fi
  grep -q warning "$WORK/cl.err" 2>/dev/null && cat "$WORK/cl.err" | tee -a "$OUT"
else
  say "   bench/cacheload not built (needs build/libptc.a; see $BB/cacheload.log)"
fi
# the whole command, cold and warm
: >"$WORK/cc.cold"; : >"$WORK/cc.warm"
for ((k = 1; k <= REPS; k++)); do
  rm -rf "$WORK/cc"
  timed t "$PTC" compile --cache-dir "$WORK/cc" "$SKEL/mnt/kd/phoneprov/templates"
  [ "$(field "$t" 5)" = 0 ] || fail "ptc compile (cold) exit $(field "$t" 5)"
  field "$t" 1 >>"$WORK/cc.cold"
  timed t "$PTC" compile --cache-dir "$WORK/cc" "$SKEL/mnt/kd/phoneprov/templates"
  [ "$(field "$t" 5)" = 0 ] || fail "ptc compile (warm) exit $(field "$t" 5)"
  field "$t" 1 >>"$WORK/cc.warm"
done
say "   ptc compile templates/ (9 templates, whole process): empty cache $(ms "$(median <"$WORK/cc.cold")") ms, warm cache $(ms "$(median <"$WORK/cc.warm")") ms"
say ""

# ---- lint ----------------------------------------------------------------------------
say "== ptc lint on the stock templates"
"$PTC" lint "$SKEL/mnt/kd/phoneprov/templates" >"$WORK/lint.out" 2>"$WORK/lint.err"
lrc=$?
if [ "$lrc" != 0 ] && [ ! -s "$WORK/lint.out" ] && [ ! -s "$WORK/lint.err" ]; then
  say "   skipped: ptc lint is not implemented yet (it exits $lrc and says nothing: the stub)"
elif grep -qi 'not implemented\|not written' "$WORK/lint.err" "$WORK/lint.out"; then
  say "   skipped: $(head -1 "$WORK/lint.err" "$WORK/lint.out" | grep -v '^==' | head -1)"
else
  : >"$WORK/lint.t"
  for ((k = 1; k <= REPS; k++)); do
    timed t "$PTC" lint "$SKEL/mnt/kd/phoneprov/templates"
    field "$t" 1 >>"$WORK/lint.t"
    [ "$(field "$t" 5)" -lt 64 ] || fail "ptc lint crashed (status $(field "$t" 5))"
  done
  say "   ptc lint templates/: exit $lrc, $(ms "$(median <"$WORK/lint.t")") ms (median of $REPS)"
  [ "$lrc" = 0 ] || { say "   lint reported:"; head -5 "$WORK/lint.err" | sed 's/^/     /' | tee -a "$OUT"; }
fi
say ""

# ---- targets -------------------------------------------------------------------------
BIG=$(for N in $SIZES; do [ -n "${R_PTC[$N]:-}" ] && echo "$N"; done | sort -n | tail -1)
SMALL=$(for N in $SIZES; do [ -n "${R_PTC[$N]:-}" ] && echo "$N"; done | sort -n | head -1)
say "== targets (reported, not asserted)"
if [ -n "$BIG" ]; then
  r=$(ratio "${R_PTC[$BIG]}" "${R_REN[$BIG]}")
  say "   $(passmiss "$r <= 1.2")  ptc run at $BIG phones within 1.2x of the rename baseline: ${r}x"
  for N in $SIZES; do
    [ -n "${R_MIN[$N]:-}" ] || continue
    rm_=$(ratio "${R_PTC[$N]}" "${R_MIN[$N]}")
    say "   $(passmiss "$rm_ <= 1.2")  ptc run at $N phones within 1.2x of the minimal temp+rename: ${rm_}x"
  done
  big=${R_RSSMAX[$BIG]} small=${R_RSSMAX[$SMALL]}
  say "   $(passmiss "$big <= 32768")  peak RSS at most 32 MiB: $(mib "$big") MiB at $BIG phones"
  say "   $(passmiss "$big <= $small * 1.25 + 1024")  peak RSS not growing with N: $(mib "$small") MiB at $SMALL phones, $(mib "$big") MiB at $BIG ($(awk -v a="$small" -v b="$big" -v n="$SMALL" -v m="$BIG" 'BEGIN { if (m > n) printf "%.0f bytes per extra phone", (b - a) * 1024 / (m - n); else print "one size only" }'); flat = at most +25% +1 MiB)"
  rr=$(ratio "${R_PTC[$BIG]}" "${R_RERUN[$BIG]}")
  say "   $(passmiss "$rr >= 2")  no-change rerun at least 2x faster than a first run ($BIG phones): ${rr}x"
  say "   $([ "${R_REWROTE[$BIG]}" = 0 ] && echo PASS || echo MISS)  no-change rerun rewrites nothing: ${R_REWROTE[$BIG]} of ${R_FILES[$BIG]} files rewritten"
  nr=$(ratio "${R_RERUN[$BIG]}" "${R_PTC[$BIG]}")
  say "   $(passmiss "$nr <= 0.2")  no-change rerun at most 0.2 of a first run ($BIG phones): $nr"
  if [ -n "${R_ONE[$BIG]:-}" ]; then
    orr=$(ratio "${R_ONE[$BIG]}" "${R_PTC[$BIG]}")
    say "   $(passmiss "$orr <= 0.25")  one phone changed: rerun at most 0.25 of a first run ($BIG phones): $orr"
    say "   $(passmiss "${R_ONE_WROTE[$BIG]} <= 5")  one phone changed: only its file and the include files rewritten: ${R_ONE_WROTE[$BIG]} files"
    say "   $(passmiss "${R_ONE_RSS[$BIG]} <= 32768")  one phone changed: peak RSS at most 32 MiB: $(mib "${R_ONE_RSS[$BIG]}") MiB"
  fi
fi
if [ -n "$CL_MAX" ]; then
  say "   $(passmiss "$CL_MAX < 100")  cached template load under 0.1 ms: slowest stock template $CL_MAX us"
fi
[ "$QUICK" = 1 ] && say "   (quick mode: $SIZES phones, 1 repetition; the figures mean nothing, the checks do)"
say ""

# ---- profile ---------------------------------------------------------------------------
if [ "$PROFILE" = 1 ]; then
  PN=10000
  say "== profile: ptc run, $PN phones, fresh root"
  "$GEN" $PN >"$WORK/plist.conf"
  PROF=$BB/profile
  mkdir -p "$PROF"
  if perf stat -e instructions true 2>&1 | grep -q 'not supported\|not counted' || ! perf stat -e instructions true >/dev/null 2>&1; then
    say "   perf: hardware counters not available here; user-space profile by callgrind"
    if command -v valgrind >/dev/null; then
      fresh_root "$WORK/pr"
      valgrind --tool=callgrind --callgrind-out-file="$PROF/callgrind.out" \
        "$PTC" run -q --root "$WORK/pr" --cache-dir "$CACHE" "$WORK/plist.conf" >/dev/null 2>"$PROF/callgrind.log" ||
        fail "ptc run under callgrind"
      total=$(grep -m1 '^summary:\|^totals:' "$PROF/callgrind.out" | awk '{print $2}')
      say "   callgrind: $(awk -v t="$total" -v n=$PN 'BEGIN { printf "%.0f", t / n }') instructions per phone (user space only); top functions, self cost:"
      callgrind_annotate --inclusive=no "$PROF/callgrind.out" 2>/dev/null |
        awk '/^ *[0-9,]+ \([ 0-9.]+%\)/ && !/PROGRAM TOTALS/' | head -15 | sed 's/^/     /' | tee -a "$OUT"
      say "   inclusive (below ptc_run):"
      callgrind_annotate --inclusive=yes "$PROF/callgrind.out" 2>/dev/null |
        awk '/^ *[0-9,]+ \([ 0-9.]+%\)/ && /\[/ && !/PROGRAM TOTALS|below main|libc_start|:main |ptc_cmd_run|:ptc_run |0x0000/' |
        head -15 | sed 's/^/     /' | tee -a "$OUT"
      # The reruns over that tree: nothing changed (the generation index's
      # replay), then one phone's password changed (that phone rendered, the
      # others planned from the record, their include shares copied).
      awk '!d && NF >= 4 && $1 !~ /^#/ { $4 = "Changed0ne"; d = 1 } { print }' "$WORK/plist.conf" >"$WORK/plist1.conf"
      for what in rerun one; do
        list=$WORK/plist.conf
        [ $what = one ] && list=$WORK/plist1.conf
        valgrind --tool=callgrind --callgrind-out-file="$PROF/callgrind-$what.out" \
          "$PTC" run -q -f --root "$WORK/pr" --cache-dir "$CACHE" "$list" >/dev/null 2>>"$PROF/callgrind.log" ||
          fail "ptc run -f under callgrind"
        t=$(grep -m1 '^summary:\|^totals:' "$PROF/callgrind-$what.out" | awk '{print $2}')
        say "   callgrind, $([ $what = rerun ] && echo 'no-change rerun' || echo 'rerun, one phone changed'):" \
          "$(awk -v t="$t" -v f="$total" -v n=$PN 'BEGIN { printf "%.0f instructions per phone, %.3f of the first run", t / n, t / f }')"
      done
      rm -rf "$WORK/pr"
    else
      say "   valgrind not installed: no user-space profile"
    fi
  fi
  if command -v perf >/dev/null; then
    fresh_root "$WORK/pr"
    if perf record -e cpu-clock -F 4999 -o "$PROF/perf.data" \
         "$PTC" run -q --root "$WORK/pr" --cache-dir "$CACHE" "$WORK/plist.conf" >/dev/null 2>"$PROF/perf.log"; then
      say "   perf (cpu-clock sampling, user + kernel) by object:"
      perf report -i "$PROF/perf.data" --no-children --sort dso -g none 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -6 | sed 's/^/     /' | tee -a "$OUT"
      say "   top symbols:"
      perf report -i "$PROF/perf.data" --no-children --sort dso,sym -g none 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -15 | sed 's/^/     /' | tee -a "$OUT"
    else
      say "   perf record failed: $(tail -1 "$PROF/perf.log")"
    fi
    rm -rf "$WORK/pr"
  fi
  if command -v strace >/dev/null; then
    fresh_root "$WORK/pr"
    strace -f -c -o "$PROF/strace.txt" "$PTC" run -q --root "$WORK/pr" --cache-dir "$CACHE" "$WORK/plist.conf" >/dev/null 2>&1 ||
      fail "ptc run under strace"
    say "   system calls (strace -c; times inflated by strace, counts exact):"
    awk -v n=$PN 'NR > 2 && $1 ~ /^[0-9.]+$/ { calls = ($5 ~ /^[0-9]+$/) ? $4 : $4; sc = $NF;
                  printf "     %-12s %8d calls  %5.2f per phone  %6.2f%% of syscall time\n", sc, $4, $4 / n, $1 }' \
        "$PROF/strace.txt" | head -10 | tee -a "$OUT"
    rm -rf "$WORK/pr"
  fi
  say "   raw profiles: $PROF"
  say ""
fi

say "load       $(cut -d' ' -f1-3 /proc/loadavg) at the end"
say "results: $OUT"
if [ "$FAILED" -gt 0 ]; then
  echo "bench: $FAILED failure(s)" >&2
  exit 1
fi
exit 0
