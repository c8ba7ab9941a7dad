#!/usr/bin/env bash
# ptc export and ptc import: CSV (RFC 4180, parsed with libcsv), JSON and
# phone-list output; merge and replace into a list edited in place, every
# untouched byte kept; the checks of ptc run and ptc lint, reported as
# FILE:ROW:COLUMN; nothing written unless all pass.
. "$(dirname "$0")/../lib.sh"

T=$REPO_DIR/templates
L=$T_WORK/massdeployment.conf
cat >"$L" <<'EOF'
## template mac_addr extension[/CID_Name][;ext2[/cid2];...] password [ account ]
# Front office
yealink-t4x 80:5e:c0:1a:2b:01 201/Front_Desk ocBrrIBrTZdjsEEP
yealink-t4x    80:5e:c0:1a:2b:02   202/Shipping   vTp34xAoOwcjXp2e

yealink-t4x-2line 00:15:65:3c:4d:11 211/Accounts;311/Payroll xaFvfCtnArtVBaZc;S540OpLn7kE2AXuP
grandstream-gxp c0:74:ad:7a:8b:41 241/Loading_Dock<5241> jWCAt6qzFAuSb1h3
snom-d7xx 00:04:13:5e:6f:31 231/Lobby CZw0z9qcbOWv57XS lobby231
EOF
chmod 640 "$L"
cp "$L" "$T_WORK/orig.conf"
imp() { "$PTC" import --templates "$T" "$@" --into "$L" >"$T_WORK/out" 2>"$T_WORK/err"; RC=$?; }

# ---- export -----------------------------------------------------------------------
"$PTC" export "$L" >"$T_WORK/x.csv"; expect_eq "export: status" "$?" 0
check "export: CRLF line ends" test "$(grep -c $'\r$' "$T_WORK/x.csv")" -eq 6
check "export: the header" grep -q '^template,mac,ext1,cid_name1,cid_num1,ext2,cid_name2,cid_num2,ext3,' "$T_WORK/x.csv"
check "export: no password columns by default" test -z "$(grep -o 'password' "$T_WORK/x.csv")"
check "export: a CallerID with a number" grep -q '^grandstream-gxp,c0:74:ad:7a:8b:41,241,Loading Dock,5241,' "$T_WORK/x.csv"
check "export: two lines" grep -q '^yealink-t4x-2line,00:15:65:3c:4d:11,211,Accounts,,311,Payroll,' "$T_WORK/x.csv"
check "export: the account" grep -q ',lobby231,,,,,,1'$'\r''$' "$T_WORK/x.csv"
"$PTC" export --with-passwords "$L" >"$T_WORK/xp.csv"
check "export --with-passwords" grep -q ',xaFvfCtnArtVBaZc,S540OpLn7kE2AXuP,' "$T_WORK/xp.csv"
"$PTC" export --format json "$L" >"$T_WORK/x.json"
check "export json" grep -q '{"template": "snom-d7xx", "mac": "00:04:13:5e:6f:31", "enabled": true, "lines": \[{"ext": "231", "cid_name": "Lobby", "cid_num": "", "account": "lobby231"}\]}' "$T_WORK/x.json"
if grep -q 'ocBrr' "$T_WORK/x.json" "$T_WORK/x.csv"; then fail "export: a password without --with-passwords"; else ok; fi
"$PTC" export --format conf --with-passwords "$L" >"$T_WORK/x.conf"
check "export conf" grep -qx 'yealink-t4x 80:5e:c0:1a:2b:02 202/Shipping vTp34xAoOwcjXp2e' "$T_WORK/x.conf"
"$PTC" export --format xml "$L" >/dev/null 2>&1; expect_eq "export: bad format" "$?" 64

# ---- round trips: the same file ---------------------------------------------------
imp "$T_WORK/xp.csv"
expect_eq "export then import (with passwords): status" "$RC" 0
check "export then import (with passwords): the same file" cmp -s "$L" "$T_WORK/orig.conf"
check "says nothing changed" grep -q '0 added, 0 changed, 0 removed, 5 unchanged' "$T_WORK/out"
imp "$T_WORK/x.csv"
check "export then import (no passwords: kept): the same file" cmp -s "$L" "$T_WORK/orig.conf"
imp "$T_WORK/x.conf"
check "a phone list as the input: the same file" cmp -s "$L" "$T_WORK/orig.conf"

# ---- merge: change one phone, add one, everything else byte for byte ---------------
printf 'mac,template,ext1,cid_name1,password1\r\n80:5e:c0:1a:2b:02,yealink-t4x,202,Shipping and Receiving,\r\n80:5e:c0:1a:2b:77,yealink-t4x,277,New Desk,\r\n' >"$T_WORK/m.csv"
imp "$T_WORK/m.csv"
expect_eq "merge: status" "$RC" 0
check "merge: counts" grep -q '1 added, 1 changed, 0 removed, 0 unchanged; missing passwords generated' "$T_WORK/out"
expect_eq "merge: the changed phone keeps its password, spaces become _" "$(sed -n 4p "$L")" "yealink-t4x 80:5e:c0:1a:2b:02 202/Shipping_and_Receiving vTp34xAoOwcjXp2e"
expect_eq "merge: every other line byte for byte" "$(sed 4d "$L" | head -7)" "$(sed 4d "$T_WORK/orig.conf")"
check "merge: the new phone at the end, with a generated password" grep -Eqx 'yealink-t4x 80:5e:c0:1a:2b:77 277/New_Desk [A-Za-z0-9+/]{16}' <(tail -1 "$L")
expect_eq "merge: the mode is kept" "$(stat -c %a "$L")" 640
"$PTC" lint --templates "$T" "$L" >/dev/null 2>&1; expect_eq "merge: the result lints" "$?" 0

# ---- dry run ------------------------------------------------------------------------
cp "$T_WORK/orig.conf" "$L"
imp --dry-run --mode replace "$T_WORK/m.csv"
expect_eq "dry run: status" "$RC" 0
check "dry run: nothing written" cmp -s "$L" "$T_WORK/orig.conf"
check "dry run: says what it would remove" grep -qx 'remove 80:5e:c0:1a:2b:01 (yealink-t4x)' "$T_WORK/out"
check "dry run: ... change" grep -qx 'change 80:5e:c0:1a:2b:02 (yealink-t4x)' "$T_WORK/out"
check "dry run: ... add" grep -qx 'add 80:5e:c0:1a:2b:77 (yealink-t4x)' "$T_WORK/out"

# ---- replace: only the imported phones remain, comments stay -----------------------
imp --mode replace "$T_WORK/m.csv"
expect_eq "replace: status" "$RC" 0
expect_eq "replace: the list" "$(head -4 "$L")" "## template mac_addr extension[/CID_Name][;ext2[/cid2];...] password [ account ]
# Front office
yealink-t4x 80:5e:c0:1a:2b:02 202/Shipping_and_Receiving vTp34xAoOwcjXp2e"
check "replace: 2 phones" test "$(grep -c '^yealink' "$L")" -eq 2

# ---- another system's export: --map, a BOM, quoting ---------------------------------
cp "$T_WORK/orig.conf" "$L"
printf '\xef\xbb\xbf"Device MAC","Device Template","Line 1 Extension","Line 1 Label","Line 1 Password"\r\n"0015653c4d99","yealink-t4x","299","Smith, ""Bob""","pw299"\r\n' >"$T_WORK/fusion.csv"
imp --map 'Device MAC=mac,Device Template=template,Line 1 Extension=ext1,Line 1 Label=cid_name1,Line 1 Password=password1' "$T_WORK/fusion.csv"
expect_eq "map: status" "$RC" 0
expect_eq "map: the phone" "$(tail -1 "$L")" 'yealink-t4x 0015653c4d99 299/Smith,_"Bob" pw299'

# ---- disabled phones ----------------------------------------------------------------
cp "$T_WORK/orig.conf" "$L"
printf 'mac,template,ext1,cid_name1,enabled\r\n80:5e:c0:1a:2b:01,yealink-t4x,201,Front Desk,0\r\n' >"$T_WORK/d.csv"
imp "$T_WORK/d.csv"
expect_eq "disable: the line becomes a comment" "$(sed -n 3p "$L")" "#ptc-disabled yealink-t4x 80:5e:c0:1a:2b:01 201/Front_Desk ocBrrIBrTZdjsEEP"
check "disable: exported as enabled 0" grep -q '^yealink-t4x,80:5e:c0:1a:2b:01,201,Front Desk,.*,0'$'\r''$' <("$PTC" export "$L")
sed -i 's/,0\r$/,1\r/' "$T_WORK/d.csv"
imp "$T_WORK/d.csv"
check "enable again: the same file as before" cmp -s "$L" "$T_WORK/orig.conf"

# ---- every check, as FILE:ROW:COLUMN; nothing written --------------------------------
cp "$T_WORK/orig.conf" "$L"
cat >"$T_WORK/bad.csv" <<'EOF'
template,mac,ext1,cid_name1,ext2,password1,enabled
yealink-t4x,80:5e:c0:1a:2b:0z,290,Bad Mac,,pw
yealink-t4x,80:5e:c0:1a:2b:91,201,Dup Ext,,pw
nosuch,80:5e:c0:1a:2b:92,292,No Template,,pw
yealink-t4x,80:5e:c0:1a:2b:93,29 3,Blank,,pw
yealink-t4x,80:5e:c0:1a:2b:94,294,Maybe,,pw,perhaps
yealink-t4x-2line,80:5e:c0:1a:2b:95,295,Two,2x5,pw
EOF
imp "$T_WORK/bad.csv"
expect_eq "errors: status" "$RC" 1
check "nothing written" cmp -s "$L" "$T_WORK/orig.conf"
B=$T_WORK/bad.csv
check "bad MAC at its row and column" grep -qF "error: $B:2:mac: invalid MAC address" "$T_WORK/err"
check "duplicate extension, naming the other line" grep -qF "error: $B:3:ext1: extension 201 is also on line 3 of $L" "$T_WORK/err"
check "unknown template" grep -qF "error: $B:4:template: template \"nosuch\" not found" "$T_WORK/err"
check "a blank in a field" grep -qF "error: $B:5:ext1: a blank, \`;\` or control character" "$T_WORK/err"
printf 'template,mac,ext1,password1\r\nyealink-t4x,80:5e:c0:1a:2b:98,298,pw\r\nyealink-t4x,80:5e:c0:1a:2b:99,298,pw\r\n' >"$T_WORK/dup.csv"
imp "$T_WORK/dup.csv"
check "two imported rows with one extension: rows named" grep -qF "error: $T_WORK/dup.csv:3:ext1: extension 298 is also on row 2 of $T_WORK/dup.csv" "$T_WORK/err"
imp "$T_WORK/bad.csv"
check "a bad enabled value" grep -qF "error: $B:6:enabled: want 1 or 0 (yes, no), got perhaps" "$T_WORK/err"
check "line 2's extension" grep -qF "error: $B:7:ext2: invalid extension" "$T_WORK/err"
check "said that nothing was written" grep -q 'ptc import: nothing was written' "$T_WORK/err"
printf 'template,ext1\r\nyealink-t4x,201\r\n' >"$T_WORK/nomac.csv"
imp "$T_WORK/nomac.csv"
check "a header without mac" grep -q 'nomac.csv:1: the header row needs the columns template and mac' "$T_WORK/err"
printf 'template,mac\r\n"yealink-t4x,80:5e\r\n' >"$T_WORK/broken.csv"
imp "$T_WORK/broken.csv"
expect_eq "an unterminated quote: status" "$RC" 1
"$PTC" import "$T_WORK/m.csv" >/dev/null 2>&1; expect_eq "import without --into" "$?" 64

finish
