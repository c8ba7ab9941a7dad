#!/usr/bin/env bash
# Per-phone reuse (issue 17, include/ptc/gen.h): a rerun after an edit
# renders and reads back only the phones whose lines changed; an unchanged
# phone is planned from the last run's record, its provisioning file judged
# by one stat, its share of each include file copied from the old file.
#
# Every case compares three runs of the same edit: ptc with its record (A),
# ptc on a byte-for-byte copy of A without a record (B, the full path), and
# a fresh root (F).  A and B must print the same and leave the same tree and
# table; A's files must be F's.  That phones were really reused is seen by
# strace: A opens no provisioning file but the changed phones' (skipped,
# and said, where strace is not installed).
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

A=$(mkroot a)
use_templates "$A" desk acct
cp "$TESTS_DIR/../templates/yealink-t4x-pjsip.conf" "$TESTS_DIR/../templates/snom-d7xx.conf" "$A/mnt/kd/phoneprov/templates/"
L=$T_WORK/list.conf
{
  for i in $(seq 1 30); do printf 'desk 00:0b:82:00:10:%02x 7%02d/Name%d pw%03d\n' "$i" "$i" "$i" "$i"; done
  echo '# the second floor'
  for i in $(seq 1 10); do printf 'yealink-t4x-pjsip 80:5e:c0:00:20:%02x 6%02d/Floor%d;66%d yp%03d\n' "$i" "$i" "$i" "$i" "$i"; done
  for i in $(seq 1 5); do printf 'snom-d7xx 00:04:13:00:30:%02x 5%02d sn%03d\n' "$i" "$i" "$i"; done
  printf 'acct 00:0b:82:00:40:01 801;811 pwacct custom\n'
} >"$L"
CA=$T_WORK/cache-a
"$PTC" run -q --root "$A" --cache-dir "$CA" "$L" || fail "the first run"
idx() { find "$CA" -name 'gen-*.idx'; }

HAVE_STRACE=0
command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null && HAVE_STRACE=1
[ "$HAVE_STRACE" = 1 ] || echo "run_incremental: strace is not installed: the checks that phones were reused are skipped" >&2

# files DIR: every file's path and checksum (not mtimes: F was written now).
files() { (cd "$1/mnt/kd" && find . -type f ! -name 'asterisk-odbc.sqlite3' -print0 | sort -z | xargs -0 -r sha256sum); }
# modes DIR: every file's and directory's mode; stamps DIR: every file's mtime.
modes() { (cd "$1/mnt/kd" && find . ! -name 'asterisk-odbc.sqlite3*' -printf '%p %m\n' | sort); }
stamps() { (cd "$1/mnt/kd" && find . -type f ! -name 'asterisk-odbc.sqlite3*' -printf '%p %T@\n' | sort); }
quiet_diff() { diff "$@" >"$T_WORK/diff" 2>&1 || { head -20 "$T_WORK/diff" >&2; return 1; }; }

# rerun NAME REUSED_MAX: reruns the edited list three ways and compares.
# REUSED_MAX: how many provisioning files A may open (the phones changed).
rerun() {
  local name=$1 opens_max=$2 B=$T_WORK/b F=$T_WORK/f
  rm -rf "$B" "$F" "$T_WORK/cache-b" "$T_WORK/cache-f"
  cp -a "$A" "$B"
  stamps "$A" >"$T_WORK/before"
  F=$(mkroot f)
  cp "$A"/mnt/kd/phoneprov/templates/*.conf "$F/mnt/kd/phoneprov/templates/"
  if [ "$HAVE_STRACE" = 1 ]; then
    # LeakSanitizer cannot run under ptrace: leaks are B's to find
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=openat -o "$T_WORK/trace" \
      "$PTC" run -f --root "$A" --cache-dir "$CA" "$L" >"$T_WORK/a.out" 2>"$T_WORK/a.err"
  else
    "$PTC" run -f --root "$A" --cache-dir "$CA" "$L" >"$T_WORK/a.out" 2>"$T_WORK/a.err"
  fi
  local ra=$?
  RA=$ra
  "$PTC" run -f --root "$B" --cache-dir "$T_WORK/cache-b" "$L" >"$T_WORK/b.out" 2>"$T_WORK/b.err"
  local rb=$?
  expect_eq "$name: the same exit status with and without the record" "$ra" "$rb"
  check "$name: the same report" quiet_diff "$T_WORK/a.out" <(sed "s|$B|$A|g" "$T_WORK/b.out")
  check "$name: the same diagnostics" quiet_diff "$T_WORK/a.err" <(sed "s|$B|$A|g" "$T_WORK/b.err")
  check "$name: the same tree as without the record" quiet_diff <(files "$A") <(files "$B")
  check "$name: the same modes as without the record" quiet_diff <(modes "$A") <(modes "$B")
  check "$name: the same files left untouched as without the record" quiet_diff \
    <(comm -12 "$T_WORK/before" <(stamps "$A")) <(comm -12 "$T_WORK/before" <(stamps "$B"))
  check "$name: the same table as without the record" quiet_diff <(table "$A") <(table "$B")
  if [ "$ra" = 0 ]; then
    "$PTC" run -q --root "$F" --cache-dir "$T_WORK/cache-f" "$L" || fail "$name: the fresh run"
    # a removed phone's file stays, as it always has: F's files, not only F's
    check "$name: the files a fresh run writes" quiet_diff <(comm -12 <(files "$A" | sort) <(files "$F" | sort)) <(files "$F" | sort)
    check "$name: the table a fresh run writes" quiet_diff <(table "$A") <(table "$F")
  fi
  if [ "$HAVE_STRACE" = 1 ]; then
    local opened
    opened=$(grep -cE 'openat\([0-9]+, "[^/"]+", O_RDONLY' "$T_WORK/trace")
    check "$name: at most $opens_max provisioning file(s) read, not every phone's ($opened)" test "$opened" -le "$opens_max"
    OPENED=$opened
  fi
}

edit() { sed -i "$1" "$L"; }

# ---- one phone's password ----------------------------------------------------------------
edit 's/^desk 00:0b:82:00:10:05 705\/Name5 pw005$/desk 00:0b:82:00:10:05 705\/Name5 NEWpw5/'
rerun "one password changed" 1
check "one password changed: its file says so" grep -q NEWpw5 "$A/mnt/kd/phoneprov/acme/000b82001005.cfg"

# ---- one caller ID (dialplan, sip include and table) ------------------------------------------
edit 's/^yealink-t4x-pjsip 80:5e:c0:00:20:03 603\/Floor3;663 /yealink-t4x-pjsip 80:5e:c0:00:20:03 603\/Third;663 /'
rerun "a caller ID changed" 1

# ---- phones added, at the end and in the middle ---------------------------------------------------
echo 'desk 00:0b:82:00:10:99 799/Late pwlate' >>"$L"
edit '/^desk 00:0b:82:00:10:10 /a snom-d7xx 00:04:13:00:30:77 577 snnew'
rerun "two phones added" 2

# ---- a phone removed; the order of two lines swapped; comments and blank lines --------------------
edit '/^desk 00:0b:82:00:10:07 /d'
rerun "a phone removed" 0
l3=$(grep '^desk 00:0b:82:00:10:03 ' "$L") l4=$(grep '^desk 00:0b:82:00:10:04 ' "$L")
edit "s|^$l3\$|XX|; s|^$l4\$|$l3|; s|^XX\$|$l4|"
rerun "two lines swapped" 0
edit '1i # a comment at the top\n'
rerun "a comment and a blank line: every line moves" 0

# ---- edits that must be refused as without the record ----------------------------------------------
cp "$L" "$T_WORK/good.conf"
echo 'desk 00:0b:82:00:10:01 798/Dup pwdup' >>"$L"
rerun "a duplicate MAC added" 99
expect_eq "a duplicate MAC added: refused" "$RA" 1
expect_eq "a duplicate MAC added: said where" "$(head -1 "$T_WORK/a.err")" \
  "$L:$(wc -l <"$L"):6: error: MAC address 00:0b:82:00:10:01 is also on line 3 [duplicate-mac]"
cp "$T_WORK/good.conf" "$L"
echo 'desk 00:0b:82:00:10:98 701/Again pwagain' >>"$L"
rerun "an extension used twice" 99
expect_eq "an extension used twice: refused" "$RA" 1
cp "$T_WORK/good.conf" "$L"
echo 'acct 00:0b:82:00:40:02 802 pwacct2 custom' >>"$L"
rerun "an account used twice" 99
expect_eq "an account used twice: refused" "$RA" 1
cp "$T_WORK/good.conf" "$L"
rerun "back to the good list" 0

# ---- behind ptc's back, with one phone changed as well: restored ------------------------------------
p=$A/mnt/kd/phoneprov/acme/000b82001002.cfg
want=$(cat "$p")
sleep 0.05
printf 'X' | dd of="$p" bs=1 seek=3 conv=notrunc status=none     # in place: same inode, same size
inc=$A$INC/astlinux-phoneprov-sip.conf
printf ';' | dd of="$inc" bs=1 seek=1 conv=notrunc status=none
edit 's/ pw011$/ pw011b/'
rerun "files edited in place behind ptc's back" 99
expect_eq "a provisioning file edited in place: restored" "$(cat "$p")" "$want"

# ---- the record: no password, its user's only, a torn one is a miss --------------------------------------
expect_eq "the record: mode 600" "$(stat -c %a "$(idx)")" 600
check "the record holds no password" sh -c "! grep -q -e pw0 -e NEWpw5 -e pwacct -e yp00 '$(idx)'"
head -c -30 "$(idx)" >"$T_WORK/torn" && cp "$T_WORK/torn" "$(idx)"
edit 's/ pw012$/ pw012b/'
rerun "a torn record" 99
[ "$HAVE_STRACE" = 1 ] && check "a torn record: not used (every phone's file read: $OPENED)" test "$OPENED" -ge 40
printf 'ptc-gen 2 0123456789abcdef 0123456789abcdef\nP zz\nE 1\n' >"$(idx)"
edit 's/ pw013$/ pw013b/'
rerun "a garbage record" 99
finish
