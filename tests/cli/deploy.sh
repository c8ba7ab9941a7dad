#!/usr/bin/env bash
# Deployment: the systemd unit as `make install-service` writes it, and
# ptc serve running as it would under that unit, as an unprivileged user
# (setpriv stands in for systemd's User=/Group=; systemd itself does not run
# here): it reads a tree whose setgid directories give `ptc run`'s 0640
# files its group, writes only its own state directory, keeps the audit
# 0640, cannot finish an interrupted run (503) until `ptc recover` does.
. "$(dirname "$0")/../lib.sh"

# ---- the unit -------------------------------------------------------------------
D=$T_WORK/destdir
make -s -C "$REPO_DIR" install-service DESTDIR="$D" PREFIX=/opt/ptc >/dev/null
U=$D/etc/systemd/system/ptc-serve.service
check "unit installed" test -f "$U"
check "unit: an unprivileged user" grep -qx 'User=ptc' "$U"
check "unit: no writable system" grep -qx 'ProtectSystem=strict' "$U"
check "unit: writes only its state and logs" grep -qx 'StateDirectory=ptc' "$U"
if grep -q '^ReadWritePaths' "$U"; then fail "unit: extra writable paths"; else ok; fi
check "unit: the prefix is the install's" grep -q '^ExecStartPre=+/opt/ptc/bin/ptc recover$' "$U"
check "unit: the audit in the state directory" grep -q -- '--audit-db /var/lib/ptc/phoneprov-audit.sqlite3' "$U"
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$D/opt/ptc/bin"
  sed "s|/opt/ptc/bin/ptc|$PTC|g" "$U" >"$T_WORK/ptc-serve.service"
  out=$(systemd-analyze verify --man=no "$T_WORK/ptc-serve.service" 2>&1); rc=$?
  expect_eq "systemd-analyze verify: $out" "$rc" 0
else
  echo "deploy: systemd-analyze missing: unit syntax not verified"
fi

# ---- ptc serve as an unprivileged user ---------------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! getent passwd nobody >/dev/null; then
  echo "deploy: not root (or no setpriv): the unprivileged server is not tried"
  finish; exit
fi
chmod 755 "$T_WORK"
G=$(id -gn nobody)
r=$(mkroot deploy)
cp "$TESTS_DIR/hostile/inputs/desk.conf" "$r/mnt/kd/phoneprov/templates/"
chgrp -R "$G" "$r/mnt/kd/phoneprov"
find "$r/mnt/kd/phoneprov" -type d -exec chmod g+s {} +
list=$T_WORK/deploy.conf
printf 'desk 00:0b:82:11:22:33 201 pwOLD\n' >"$list"
ptc_run "$r" -q "$list"
f=$r/mnt/kd/phoneprov/acme/000b82112233.cfg
expect_eq "ptc run: the file gets the tree's group, 0640" "$(stat -c '%G %a' "$f")" "$G 640"
STATE=$T_WORK/state
mkdir -p "$STATE" && chown nobody:"$G" "$STATE" && chmod 750 "$STATE"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
serve() {
  setpriv --reuid=nobody --regid="$G" --clear-groups --inh-caps=-all \
    "$PTC" serve --root "$r" --listen "127.0.0.1:$PORT" --allow 127.0.0.1 \
    --audit-db "$STATE/audit.sqlite3" --access-log "$STATE/access.log" 2>"$T_WORK/serve.err" &
  PID=$!
  for _ in $(seq 1 50); do grep -q 'listening on' "$T_WORK/serve.err" 2>/dev/null && break; sleep 0.1; done
}
# get: the status code; the body in $T_WORK/body.
get() { curl -s -o "$T_WORK/body" -w '%{http_code}' -A 'Desk 00:0b:82:11:22:33' "http://127.0.0.1:$PORT/phoneprov/acme/000b82112233.cfg"; }
serve
check "unprivileged: started" grep -q 'listening on' "$T_WORK/serve.err"
check "unprivileged: runs as nobody" test "$(stat -c %U /proc/$PID)" = nobody
expect_eq "unprivileged: serves the 0640 file" "$(get)" 200
check "unprivileged: its content" grep -qx 'password=pwOLD' "$T_WORK/body"
sleep 0.3; kill -TERM $PID; wait $PID
expect_eq "unprivileged: the audit is 0640" "$(stat -c %a "$STATE/audit.sqlite3")" 640

# A run killed after its commit point: the unprivileged server may not finish
# it, so it answers 503 (never the mixed tree); `ptc recover` finishes it.
SHIM=$T_WORK/shim.so
cat >"$T_WORK/shim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static long n;
static void die(void) { const char *k = getenv("FAULT_KILL_AT_RENAME"); if (k && ++n == atol(k)) kill(getpid(), SIGKILL); }
int rename(const char *a, const char *b) { static int (*r)(const char *, const char *); if (!r) r = dlsym(RTLD_NEXT, "rename"); die(); return r(a, b); }
int renameat(int f1, const char *a, int f2, const char *b) { static int (*r)(int, const char *, int, const char *); if (!r) r = dlsym(RTLD_NEXT, "renameat"); die(); return r(f1, a, f2, b); }
int renameat2(int f1, const char *a, int f2, const char *b, unsigned fl) { static int (*r)(int, const char *, int, const char *, unsigned); if (!r) r = dlsym(RTLD_NEXT, "renameat2"); die(); return r(f1, a, f2, b, fl); }
EOF
if cc -shared -fPIC -o "$SHIM" "$T_WORK/shim.c" -ldl 2>/dev/null; then
  printf 'desk 00:0b:82:11:22:33 201 pwNEW\ndesk 00:0b:82:11:22:34 202 pwNEW2\n' >"$list"
  # The first kill that lands past the commit point (the manifest's rename).
  for k in $(seq 1 12); do
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$SHIM FAULT_KILL_AT_RENAME=$k ptc_run "$r" -q -f "$list" 2>/dev/null
    [ -f "$r/mnt/kd/.ptc-commit" ] && break
  done
  check "killed after the commit point: pending" test -f "$r/mnt/kd/.ptc-commit"
  serve
  expect_eq "unprivileged: 503 while the run is unfinished" "$(get)" 503
  check "unprivileged: says why" grep -q 'cannot be finished here' "$T_WORK/serve.err"
  "$PTC" recover --root "$r"; expect_eq "ptc recover: exit 0" "$?" 0
  st=
  for _ in $(seq 1 50); do st=$(get); [ "$st" = 200 ] && break; sleep 0.1; done
  expect_eq "after ptc recover: served again" "$st" 200
  check "after ptc recover: the new file" grep -qx 'password=pwNEW' "$T_WORK/body"
  kill -TERM $PID; wait $PID
  check "ptc recover: nothing pending" test ! -e "$r/mnt/kd/.ptc-commit"
else
  echo "deploy: cannot build the rename shim: the 503 case is not tried"
fi
"$PTC" recover --root "$r"; expect_eq "ptc recover with nothing pending" "$?" 0
"$PTC" recover --bogus 2>/dev/null; expect_eq "ptc recover bad option" "$?" 64

finish
