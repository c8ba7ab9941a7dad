#!/usr/bin/env bash
# ptc run, issue 3: -r/--auto-reload and -R/--only-reload.  The reload
# script under --root when it is executable, otherwise
# `asterisk -rx "dialplan reload"` and `asterisk -rx "sip reload"`.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/fixtures/run/common.sh"

# A fake asterisk first on PATH: records its arguments (one call a line),
# whether the SIP file was in place when it ran, and prints something
# (which ptc must send to /dev/null).
bin=$T_WORK/bin log=$T_WORK/asterisk.log
mkdir -p "$bin"
cat >"$bin/asterisk" <<'A'
#!/bin/sh
printf '%s|' "$@" >>"$FAKE_LOG"
if [ -f "$FAKE_ROOT/mnt/kd/asterisk/includes/astlinux-phoneprov-sip.conf" ]; then echo files >>"$FAKE_LOG"; else echo none >>"$FAKE_LOG"; fi
echo "asterisk says hello"
A
chmod +x "$bin/asterisk"
export PATH="$bin:$PATH" FAKE_LOG="$log"
RELOAD_MSG="Auto-reloading Asterisk 'dialplan' and 'sip'."

# ---- -R: only the reload ---------------------------------------------------------------
r=$(mkroot onlyreload)
export FAKE_ROOT=$r
rm -f "$log"
rcap "$r" -R
expect_eq "-R: status" "$RC" 0
expect_eq "-R: stdout (asterisk's own output discarded)" "$OUT" "$RELOAD_MSG"$'\n'
expect_eq "-R: stderr" "$ERR" ""
expect_eq "-R: asterisk calls" "$(cat "$log")" "-rx|dialplan reload|none
-rx|sip reload|none"
expect_eq "-R: nothing generated" "$(find "$r/mnt/kd" -type f)" ""
# --only-reload ignores a phone list and does not read it
rm -f "$log"
rcap "$r" --only-reload "$T_WORK/no-such.conf"
expect_eq "--only-reload: status" "$RC" 0
expect_eq "--only-reload: two calls" "$(wc -l <"$log")" 2

# A reload script that is not executable is not used.
script=$r/mnt/kd/phoneprov-reload.script
printf '#!/bin/sh\necho "script $# $PWD" >>"%s"\n' "$T_WORK/script.log" >"$script"
chmod 0644 "$script"
rm -f "$log" "$T_WORK/script.log"
rcap "$r" -R
expect_eq "non-executable script: asterisk used" "$(wc -l <"$log")" 2
check "non-executable script: not run" test ! -e "$T_WORK/script.log"
# An executable one replaces the asterisk commands.
chmod 0755 "$script"
rm -f "$log"
rcap "$r" -R
expect_eq "script: status" "$RC" 0
expect_eq "script: stdout" "$OUT" "$RELOAD_MSG"$'\n'
check "script: ran once, without arguments" grep -qx "script 0 .*" "$T_WORK/script.log"
expect_eq "script: ran once" "$(wc -l <"$T_WORK/script.log")" 1
check "script: asterisk not called" test ! -e "$log"
# A failing script is reported with -v, and the run still succeeds.
printf '#!/bin/sh\nexit 7\n' >"$script"
rcap "$r" -R -v
expect_eq "failing script: status" "$RC" 0
expect_eq "failing script: warning" "$ERR" "ptc: warning: $script failed (status 7) [reload]
"
rm -f "$script"

# ---- -r: generate, then reload ------------------------------------------------------------
r=$(mkroot autoreload)
export FAKE_ROOT=$r
use_templates "$r" desk
list=$T_WORK/autoreload.conf
printf 'desk 00:0b:82:11:22:33 201 pw1\n' >"$list"
rm -f "$log"
rcap "$r" -r "$list"
expect_eq "-r: status" "$RC" 0
expect_eq "-r: stdout" "$OUT" "Generating Phone Provisioning files:
.Done
ptc: 1 phone: 3 files created, 0 changed, 0 unchanged; 1 table row
$RELOAD_MSG
"
expect_eq "-r: asterisk ran after the files were in place" "$(cat "$log")" "-rx|dialplan reload|files
-rx|sip reload|files"
# no reload when the run fails, or with --dry-run
rm -f "$log"
printf 'desk 00:0b:82:11:22:zz 201 pw1\n' >"$T_WORK/bad.conf"
rcap "$r" -r -f "$T_WORK/bad.conf"
expect_eq "-r, failed run: status" "$RC" 1
check "-r, failed run: no reload" test ! -e "$log"
rcap "$r" -r "$list"
expect_eq "-r, files exist: status 2" "$RC" 2
check "-r, status 2: no reload" test ! -e "$log"
rcap "$r" -r -f --dry-run "$list"
expect_eq "-r --dry-run: status" "$RC" 0
check "-r --dry-run: no reload" test ! -e "$log"
# --auto-reload, with the script under --root
printf '#!/bin/sh\necho ran >>"%s"\n' "$T_WORK/script2.log" >"$r/mnt/kd/phoneprov-reload.script"
chmod +x "$r/mnt/kd/phoneprov-reload.script"
rcap "$r" --auto-reload -f -q "$list"
expect_eq "--auto-reload -q: status" "$RC" 0
expect_eq "--auto-reload -q: nothing on stdout" "$OUT" ""
expect_eq "--auto-reload: script ran" "$(cat "$T_WORK/script2.log")" ran
check "--auto-reload: asterisk not called" test ! -e "$log"

finish
