#!/usr/bin/env bash
# Faults during `ptc run`.  The rule throughout: the previous generation
# survives whole (or the new one is complete), and no temporary file
# (.NAME.ptc-XXXXXX) or commit record (.ptc-*) is left once a run has
# recovered.  A generation is compared by the checksums of every file under
# /mnt/kd (templates and database file aside) plus a dump of the phoneprov
# table.
#
#   disk full        a 1 MiB tmpfs as /mnt/kd (when mount is permitted), and
#                    always an LD_PRELOAD shim that fails write() with ENOSPC
#   SIGKILL          FAULT_KILLS (default 50) kills at random moments of a run
#                    of ~0.2 s, each followed by a run that only recovers; then
#                    a kill before each rename in turn (the shim again)
#   read-only dir    a read-only bind mount over an output directory (or
#                    chmod 555 when not root; skipped as root without mount)
#   locked database  another process holds BEGIN EXCLUSIVE for 2 s: ptc waits
#   corrupt database garbage bytes: a clear error, files untouched
#
# The shim is built here with cc.  Work happens on /dev/shm when it is
# writable (fsync there is cheap, so kill timing is stable).
source "$(dirname "$0")/../lib.sh"
export LC_ALL=C
BIN=${PTC_REAL:-$PTC}            # under valgrind, faults go to the real binary
KILLS=${FAULT_KILLS:-50}
IN=$TESTS_DIR/hostile/inputs
if [ -d /dev/shm ] && [ -w /dev/shm ]; then W=$(mktemp -d -p /dev/shm); else W=$(mktemp -d); fi
MOUNTS=()
cleanup() {
  local m
  for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
  rm -rf "$W" "$T_WORK"
}
trap cleanup EXIT
CACHE=$W/cache
# Sanitizer builds must accept a preloaded library.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# ---- the shim ------------------------------------------------------------------
# (tests/fixtures/fault-shim.c: ENOSPC after N bytes, SIGKILL at the K-th rename)
SHIM=
# (built in $T_WORK: /dev/shm is often mounted noexec, which stops LD_PRELOAD)
if cc -shared -fPIC -O1 -o "$T_WORK/shim.so" "$TESTS_DIR/fixtures/fault-shim.c" -ldl 2>"$T_WORK/shim.err"; then SHIM=$T_WORK/shim.so
else echo "faults: cannot build the fault shim (cc): shim cases skipped" >&2; cat "$T_WORK/shim.err" >&2; fi
if [ -n "$SHIM" ] && LD_PRELOAD=$SHIM FAULT_ENOSPC_AFTER=0 sh -c 'printf x >"$1"' _ "$T_WORK/probe" 2>/dev/null; then
  echo "faults: the fault shim does not load here (LD_PRELOAD ignored?): shim cases skipped" >&2
  SHIM=
fi

# ---- helpers -------------------------------------------------------------------
newroot() {
  local r=$W/$1
  mkdir -p "$r/etc" "$r/mnt/kd/phoneprov/templates"
  printf 'INTIF="eth1"\nINTIP="10.0.0.1"\nPHONEPROV_GW_IF="INTIF"\n' >"$r/etc/rc.conf"
  cp "$IN/desk.conf" "$r/mnt/kd/phoneprov/templates/"
  echo "$r"
}
# mklist FILE N TAG: N phones whose passwords (and so every file) carry TAG.
mklist() {
  awk -v n="$2" -v tag="$3" 'BEGIN { for (i = 0; i < n; i++)
    printf "desk 00:0b:82:%02x:%02x:%02x %d/Desk_%s pw%s%d\n", i / 65536 % 256, i / 256 % 256, i % 256, 10000 + i, tag, tag, i }' >"$1"
}
printf 'desk 00:0b:82:zz:00:00 1 pwBAD\n' >"$W/bad.list"     # fails validation: a run that only recovers
# files_sum ROOT / table ROOT / gen ROOT: what a generation is.
files_sum() {
  (cd "$1/mnt/kd" && find . -path ./phoneprov/templates -prune -o -type f ! -name 'asterisk-odbc.sqlite3*' ! -name '.ptc-*' -print0 \
     | sort -z | xargs -0 -r sha1sum | sha1sum | cut -c1-40)
}
table() { sqlite3 "$1/mnt/kd/asterisk-odbc.sqlite3" 'SELECT * FROM phoneprov ORDER BY id' 2>&1 | sha1sum | cut -c1-40; }
gen() { echo "$(files_sum "$1") $(table "$1")"; }
leftovers() { find "$1" \( -name '.*.ptc-*' -o -name '.ptc-*' \) -print | head -3; }
run() { local r=$1; shift; "$BIN" run --root "$r" --cache-dir "$CACHE" -q "$@"; }
recover() { "$PTC" run --root "$1" --cache-dir "$CACHE" -q "$W/bad.list" >/dev/null 2>&1; }
ms() { date +%s%3N; }
can_mount() {
  [ "$(id -u)" = 0 ] || return 1
  mkdir -p "$W/probe" && mount -t tmpfs -o size=64k tmpfs "$W/probe" 2>/dev/null || return 1
  umount "$W/probe"
}
MOUNT_OK=0; can_mount && MOUNT_OK=1

# ---- disk full ----------------------------------------------------------------------
big_tmpl() {   # desk, with 4 KiB more per provisioning file
  { cat "$IN/desk.conf"; head -c 4096 /dev/zero | tr '\0' 'p' | fold -w 64; } >"$1/mnt/kd/phoneprov/templates/desk.conf"
}
diskfull_check() {   # NAME ROOT OLD_GEN STDERR_FILE STATUS
  expect_eq "$1: exit status" "$5" 1
  check "$1: says the disk is full" grep -qE 'No space left on device|database or disk is full' "$4"
  expect_eq "$1: the previous generation survives" "$(gen "$2")" "$3"
  expect_eq "$1: no temporary file left" "$(leftovers "$2")" ""
}
mklist "$W/small.list" 20 S
mklist "$W/big.list" 600 L
if [ $MOUNT_OK = 1 ]; then
  r=$(newroot tmpfs)
  mv "$r/mnt/kd" "$r/kd.src" && mkdir -p "$r/mnt/kd"
  if mount -t tmpfs -o size=1m tmpfs "$r/mnt/kd"; then
    MOUNTS+=("$r/mnt/kd")
    cp -a "$r/kd.src/." "$r/mnt/kd/"
    big_tmpl "$r"
    run "$r" "$W/small.list"; expect_eq "tmpfs: the old generation" $? 0
    old=$(gen "$r")
    run "$r" -f "$W/big.list" 2>"$W/tmpfs.err"; st=$?
    diskfull_check "disk-full (1 MiB tmpfs)" "$r" "$old" "$W/tmpfs.err" $st
    recover "$r"
    expect_eq "disk-full (1 MiB tmpfs): recovery changes nothing" "$(gen "$r")" "$old"
    umount "$r/mnt/kd" && MOUNTS=()
  else
    echo "faults: disk-full tmpfs: mount failed, skipped (the shim case covers it)"
  fi
else
  echo "faults: disk-full tmpfs: skipped (needs root and mount; the shim case covers it)"
fi
if [ -n "$SHIM" ]; then
  # budgets from what the whole run writes: early in the provisioning
  # files, half-way, in the include files and the database at the end
  r=$(newroot enospc-ref); big_tmpl "$r"; run "$r" "$W/big.list"
  total=$(find "$r/mnt/kd" -path '*/templates' -prune -o -type f -printf '%s\n' | awk '{ t += $1 } END { print t }')
  for budget in $((total / 25)) $((total / 2)) $((total - 20000)) $((total - 2000)); do
    r=$(newroot enospc$budget)
    big_tmpl "$r"
    run "$r" "$W/small.list"
    old=$(gen "$r")
    LD_PRELOAD=$SHIM FAULT_ENOSPC_AFTER=$budget run "$r" -f "$W/big.list" 2>"$W/enospc.err"; st=$?
    diskfull_check "disk-full (write fails after $budget bytes)" "$r" "$old" "$W/enospc.err" $st
  done
  # A first run on a full disk: refused, and it leaves nothing behind, not
  # even the database file it had started (at every point of the run).
  for budget in $((total / 25)) $((total - 20000)) $((total - 2000)); do
    r=$(newroot enospc-first$budget)
    big_tmpl "$r"
    LD_PRELOAD=$SHIM FAULT_ENOSPC_AFTER=$budget run "$r" "$W/big.list" 2>"$W/enospc.err"; st=$?
    expect_eq "disk full on a first run ($budget bytes): status" "$st" 1
    expect_eq "disk full on a first run ($budget bytes): nothing left" \
      "$(find "$r/mnt/kd" -type f ! -path '*/templates/*' | head -3)" ""
  done
fi

# ---- SIGKILL at random moments ---------------------------------------------------------
r=$(newroot kill)
n=2000
mklist "$W/A.list" $n A
mklist "$W/B.list" $n B
run "$r" "$W/A.list"; genA=$(gen "$r")
t0=$(ms); run "$r" -f "$W/B.list"; t1=$(ms); genB=$(gen "$r")
run "$r" -f "$W/A.list"
expect_eq "kill: generations are reproducible" "$(gen "$r")" "$genA"
dur=$((t1 - t0)); [ $dur -lt 20 ] && dur=20
cur=A old=0 new=0 mixed=0
for ((i = 0; i < KILLS; i++)); do
  [ $cur = A ] && next=B || next=A
  delay=$((RANDOM % (dur * 6 / 5 + 1)))
  "$BIN" run --root "$r" --cache-dir "$CACHE" -q -f "$W/$next.list" 2>/dev/null &
  pid=$!                        # ptc itself, not a subshell
  sleep "$(awk -v d=$delay 'BEGIN { printf "%.3f", d / 1000 }')"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  recover "$r"
  g=$(gen "$r")
  if [ "$g" = "$genA" ]; then [ $cur = A ] && old=$((old + 1)) || new=$((new + 1)); cur=A
  elif [ "$g" = "$genB" ]; then [ $cur = B ] && old=$((old + 1)) || new=$((new + 1)); cur=B
  else mixed=$((mixed + 1)); fail "kill $i after ${delay} ms: the tree is neither generation"; break; fi
  lo=$(leftovers "$r")
  if [ -n "$lo" ]; then fail "kill $i after ${delay} ms: left behind: $lo"; break; fi
done
[ $mixed = 0 ] && ok
echo "faults: $i kills over a ${dur} ms run of $n phones: $old left the old generation, $new the new one, $mixed a mix"

# ---- SIGKILL before each rename in turn -------------------------------------------------
if [ -n "$SHIM" ]; then
  r=$(newroot renames)
  mklist "$W/a.list" 5 a
  mklist "$W/b.list" 5 b
  run "$r" "$W/a.list"; ga=$(gen "$r")
  run "$r" -f "$W/b.list"; gb=$(gen "$r")
  run "$r" -f "$W/a.list"
  cur=a k=1 seen_old=0 seen_new=0
  while [ $k -le 40 ]; do
    [ $cur = a ] && next=b || next=a
    LD_PRELOAD=$SHIM FAULT_KILL_AT_RENAME=$k run "$r" -f "$W/$next.list" 2>/dev/null
    st=$?
    recover "$r"
    g=$(gen "$r")
    if [ "$g" = "$ga" ]; then [ $cur = a ] && seen_old=1 || seen_new=1; cur=a
    elif [ "$g" = "$gb" ]; then [ $cur = b ] && seen_old=1 || seen_new=1; cur=b
    else fail "kill at rename $k: the tree is neither generation"; break; fi
    [ -z "$(leftovers "$r")" ] || { fail "kill at rename $k: left behind: $(leftovers "$r")"; break; }
    [ $st = 0 ] && break            # the run got past its last rename
    k=$((k + 1))
  done
  expect_eq "kill at each rename: some kills roll back, some roll forward" "$seen_old$seen_new" 11
  echo "faults: killed before renames 1..$((k - 1)) of a run of 5 phones, each time one whole generation"
fi

# ---- SIGKILL inside the rename phase of 50,000 phones; then the other commands --------
# The tree is mixed until somebody finishes the run: ptc status and ptc lint
# say so (they write nothing), ptc serve finishes it before it answers.
if [ -n "$SHIM" ]; then
  r=$(newroot big)
  N=50000
  mklist "$W/bigA.list" $N A
  mklist "$W/bigB.list" $N B
  run "$r" "$W/bigB.list"; gbigB=$(gen "$r")
  run "$r" -f "$W/bigA.list"
  LD_PRELOAD=$SHIM FAULT_KILL_AT_RENAME=$((N / 2)) run "$r" -f "$W/bigB.list" 2>/dev/null
  expect_eq "50k: killed in the rename phase" "$?" 137
  P=$r/mnt/kd/phoneprov/acme
  nA=$(grep -l --exclude='.*' 'password=pwA' -r "$P" | wc -l); nB=$(grep -l --exclude='.*' 'password=pwB' -r "$P" | wc -l)
  check "50k: the tree is mixed before recovery ($nA old, $nB new)" test "$nA" -gt 0 -a "$nB" -gt 0
  "$PTC" status --root "$r" >/dev/null 2>"$W/st.err"; rc=$?
  check "50k: ptc status reports the unfinished run" grep -q 'stopped after its commit point' "$W/st.err"
  "$PTC" status --root "$r" --check >/dev/null 2>&1; expect_eq "50k: ptc status --check" "$?" 3
  "$PTC" lint --root "$r" --templates "$r/mnt/kd/phoneprov/templates" "$W/bigB.list" >/dev/null 2>"$W/lint.err"
  check "50k: ptc lint reports it" grep -q 'commit-pending' "$W/lint.err"
  check "50k: read-only commands left it pending" test -f "$r/mnt/kd/.ptc-commit"
  "$PTC" serve --root "$r" --listen 127.0.0.1:0 --allow 127.0.0.1 --audit-db off --access-log off \
    2>"$W/serve.err" &
  spid=$!
  for _ in $(seq 1 300); do grep -q 'listening on' "$W/serve.err" 2>/dev/null && break; sleep 0.1; done
  check "50k: ptc serve started" grep -q 'listening on' "$W/serve.err"
  check "50k: ptc serve finished the run before serving" grep -q 'finishing an interrupted run' "$W/serve.err"
  kill -TERM $spid; wait $spid
  expect_eq "50k: the tree is the new generation, whole" "$(gen "$r")" "$gbigB"
  expect_eq "50k: nothing left behind" "$(leftovers "$r")" ""
  echo "faults: killed at rename $((N / 2)) of $N phones ($nA old, $nB new files): ptc serve finished it"
fi

# ---- read-only output directory -------------------------------------------------------
r=$(newroot readonly)
mklist "$W/ro1.list" 10 R
mklist "$W/ro2.list" 10 Q
run "$r" "$W/ro1.list"; old=$(gen "$r")
dir=$r/mnt/kd/phoneprov/acme
ro=none
if [ $MOUNT_OK = 1 ] && mount --bind "$dir" "$dir" 2>/dev/null; then
  MOUNTS+=("$dir")
  mount -o remount,bind,ro "$dir" 2>/dev/null && ro=mount
elif [ "$(id -u)" != 0 ]; then
  chmod 555 "$dir" && ro=chmod
fi
if [ $ro = none ]; then
  echo "faults: read-only output directory: skipped (root without mount: permissions do not block root)"
else
  run "$r" -f "$W/ro2.list" 2>"$W/ro.err"; st=$?
  expect_eq "read-only dir ($ro): exit status" $st 1
  check "read-only dir ($ro): a clear error" grep -qE 'cannot create a file beside|cannot write beside|Read-only file system|Permission denied' "$W/ro.err"
  expect_eq "read-only dir ($ro): the previous generation survives" "$(gen "$r")" "$old"
  expect_eq "read-only dir ($ro): no temporary file left" "$(leftovers "$r")" ""
  [ $ro = mount ] && umount "$dir" && MOUNTS=()
  [ $ro = chmod ] && chmod 755 "$dir"
fi

# ---- a database locked by another process --------------------------------------------------
r=$(newroot locked)
mklist "$W/k1.list" 10 K
mklist "$W/k2.list" 10 J
run "$r" "$W/k1.list"
db=$r/mnt/kd/asterisk-odbc.sqlite3
mkfifo "$W/hold"
sqlite3 -bail "$db" <"$W/hold" >/dev/null 2>&1 &
holder=$!
exec 7>"$W/hold"
# The holder waits for its lock (.timeout) and says when it has it: probing the lock from a
# third process raced with the holder's BEGIN (each saw the other's lock, and neither held it).
printf '.timeout 10000\nBEGIN EXCLUSIVE;\n.system touch %s\n' "$W/held" >&7
for _ in $(seq 200); do [ -e "$W/held" ] && break; sleep 0.05; done
check "locked database: the other process holds the lock" test -e "$W/held"
( sleep 2; echo 'COMMIT;' >&7; exec 7>&- ) &
t0=$(ms); run "$r" -f "$W/k2.list" 2>"$W/locked.err"; st=$?; t1=$(ms)
exec 7>&-
wait $holder 2>/dev/null
expect_eq "locked database: ptc waits, then succeeds" $st 0
check "locked database: it did wait (~2 s, took $((t1 - t0)) ms)" test $((t1 - t0)) -ge 1200
r2=$(newroot locked-ref); run "$r2" "$W/k2.list"
expect_eq "locked database: the new generation is whole" "$(gen "$r")" "$(gen "$r2")"
echo "faults: locked database held longer than a short busy timeout: skipped (ptc has no option for one: it waits up to 30 s)"

# ---- a corrupt database ------------------------------------------------------------------
r=$(newroot corrupt)
mklist "$W/c1.list" 10 C
mklist "$W/c2.list" 10 D
run "$r" "$W/c1.list"
oldfiles=$(files_sum "$r")
db=$r/mnt/kd/asterisk-odbc.sqlite3
yes 'this is not an SQLite database' | head -c 16384 >"$db"
cp "$db" "$W/garbage"
run "$r" -f "$W/c2.list" 2>"$W/corrupt.err"; st=$?
expect_eq "corrupt database: exit status" $st 1
check "corrupt database: a clear error" grep -q 'asterisk-odbc.sqlite3: file is not a database \[sqlite\]' "$W/corrupt.err"
expect_eq "corrupt database: the files of the previous generation survive" "$(files_sum "$r")" "$oldfiles"
check "corrupt database: the database file is untouched" cmp -s "$db" "$W/garbage"
expect_eq "corrupt database: no temporary file left" "$(leftovers "$r")" ""

finish
