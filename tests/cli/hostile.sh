#!/usr/bin/env bash
# Hostile inputs: every case of tests/hostile/README.md.  Each runs ptc and
# compares its exit status and its stderr, byte for byte (the work directory
# shown as WORK), with tests/hostile/expected/NAME.err; most also check what
# was written, or that nothing was.  HOSTILE_UPDATE=1 rewrites the expected
# files from what ptc says now: review the diff before committing it.
#
# Every password in these phone lists contains SEKRIT: at the end, no
# captured stdout or stderr may hold one (nor the passwords -a generates).
source "$(dirname "$0")/../lib.sh"
export LC_ALL=C
H=$TESTS_DIR/hostile
IN=$H/inputs
EXP=$H/expected
LIMIT=${HOSTILE_TIMEOUT:-30}
[ -n "${VALGRIND:-}" ] && LIMIT=600
SECRETS=(SEKRIT)
RUN=("$PTC" run --cache-dir "$T_WORK/cache" --root)   # then ROOT, options, list

# newroot NAME: a --root holding the hostile templates (tests/hostile/inputs).
newroot() { local r; r=$(mkroot "$1"); cp "$IN"/*.conf "$r/mnt/kd/phoneprov/templates/"; echo "$r"; }

# hrun NAME WANT_EXIT CMD...: runs CMD (stdin /dev/null, time-limited) into
# $T_WORK/NAME.out and NAME.err and checks the exit status and stderr.
hrun() {
  local name=$1 want=$2; shift 2
  timeout "$LIMIT" "$@" </dev/null >"$T_WORK/$name.out" 2>"$T_WORK/$name.err"
  local rc=$?
  expect_eq "$name: exit status" "$rc" "$want"
  sed "s#$T_WORK#WORK#g" "$T_WORK/$name.err" >"$T_WORK/$name.err.n"
  if [ "${HOSTILE_UPDATE:-}" = 1 ]; then
    cp "$T_WORK/$name.err.n" "$EXP/$name.err"; ok
  elif cmp -s "$EXP/$name.err" "$T_WORK/$name.err.n"; then ok
  else
    fail "$name: stderr differs from tests/hostile/expected/$name.err"
    diff "$EXP/$name.err" "$T_WORK/$name.err.n" 2>&1 | head -20 | cut -c1-200 >&2
  fi
}

# outputs ROOT: every file ptc may have written under ROOT/mnt/kd, sorted.
outputs() { (cd "$1/mnt/kd" && find . -path ./phoneprov/templates -prune -o -type f -print | sort); }
# nothing_written NAME ROOT: no output file, no temporary file.
nothing_written() {
  local o; o=$(outputs "$2" | grep -v '^./asterisk-odbc.sqlite3$')
  expect_eq "$1: nothing written" "$o" ""
  no_temps "$1" "$2"
}
no_temps() {
  local t; t=$(find "$2" -name '.*.ptc-*' -o -name '.ptc-*' | head -3)
  expect_eq "$1: no temporary files left" "$t" ""
}
# lines N TEXT: N lines of TEXT repeated (fast, for the big cases).
lines() { yes "$2" 2>/dev/null | head -n "$1"; }
# tree_sum ROOT: names and contents of everything under ROOT/mnt/kd.
tree_sum() { (cd "$1/mnt/kd" && find . -type f -print0 | sort -z | xargs -0 sha1sum | sha1sum); }

# ---- templates ---------------------------------------------------------------
r=$(newroot tmpl)
TD=$r/mnt/kd/phoneprov/templates
printf 'desk 00:0b:82:00:00:01 201 pwSEKRIT01\n' >"$T_WORK/one.list"
runone() { local name=$1 want=$2 tmpl=$3; shift 3
  sed "s/^desk /$tmpl /" "$T_WORK/one.list" >"$T_WORK/$name.list"
  hrun "$name" "$want" "${RUN[@]}" "$r" -f "$@" "$T_WORK/$name.list"; }

# a NUL byte in template text, and in a context header
printf '[general]\n[phoneprov]\nab\0cd\n' >"$TD/nul.conf"
runone tmpl-nul 1 nul
printf '[gen\0eral]\n[phoneprov]\nx\n' >"$TD/nulhdr.conf"
runone tmpl-nul-header 1 nulhdr

# invalid UTF-8 is copied byte for byte
printf '[general]\nprov_path=/mnt/kd/phoneprov/u8\n[phoneprov]\n\xff\xfe \xc3\x28 \xed\xa0\x80 \xf8\x88\x80\x80\x80 ok\n' >"$TD/utf8.conf"
runone tmpl-invalid-utf8 0 utf8
expect_eq "tmpl-invalid-utf8: bytes kept" "$(od -An -tx1 "$r/mnt/kd/phoneprov/u8/000b82000001.cfg" | tr -d ' \n')" \
  "fffe20c32820eda08020f888808080206f6b0a"

# a 1 MiB line in [phoneprov] reaches the file whole
{ printf '[general]\nprov_path=/mnt/kd/phoneprov/big\n[phoneprov]\n'; head -c 1048576 /dev/zero | tr '\0' 'x'; echo; } >"$TD/bigline.conf"
runone tmpl-1mib-line 0 bigline
expect_eq "tmpl-1mib-line: file size" "$(stat -c %s "$r/mnt/kd/phoneprov/big/000b82000001.cfg")" 1048577

# 100,000 [phoneprov] headers (joined into one context), 100,000 unknown
# contexts (100 warnings shown, then "and N more"), 100,000 guards
{ printf '[general]\nprov_path=/mnt/kd/phoneprov/ctx\n'; seq -f '[phoneprov]%g' 1 100000 | sed 's/]\(.*\)/]\nline \1/'; } >"$TD/ctx100k.conf"
runone tmpl-100k-contexts 0 ctx100k
expect_eq "tmpl-100k-contexts: every line" "$(wc -l <"$r/mnt/kd/phoneprov/ctx/000b82000001.cfg")" 100000
{ printf '[general]\nprov_path=/mnt/kd/phoneprov/unk\n'; lines 200000 $'[nope]\nignored'; printf '[phoneprov]\nkept\n'; } >"$TD/unk100k.conf"
hrun tmpl-100k-unknown-contexts 0 "$PTC" compile --cache-dir "$T_WORK/cache-unk" "$TD/unk100k.conf"
{ printf '[general]\nprov_path=/mnt/kd/phoneprov/guard\n[phoneprov]\n'; lines 100000 $'#<201>mine\n#<!201!202!>not mine'; } >"$TD/guard100k.conf"
runone tmpl-100k-guards 0 guard100k
expect_eq "tmpl-100k-guards: 201's lines only" "$(sort "$r/mnt/kd/phoneprov/guard/000b82000001.cfg" | uniq -c | tr -s ' ')" " 50000 mine"

# runs of @: not variables, copied as they are; @EXT@ inside them still found;
# the last line, without a newline, gets one
{ printf '[general]\nprov_path=/mnt/kd/phoneprov/at\n[phoneprov]\n'; head -c 100000 /dev/zero | tr '\0' '@'; echo
  printf '@@EXT@@ @A@EXT@ @EXT @EXT1@@ @@@\n'; head -c 20000 /dev/zero | tr '\0' 'A' | sed 's/^/@/'; } >"$TD/at.conf"
runone tmpl-at-runs 0 at
{ head -c 100000 /dev/zero | tr '\0' '@'; echo; printf '@201@ @A201 @EXT 201@ @@@\n'; head -c 20000 /dev/zero | tr '\0' 'A' | sed 's/^/@/'; echo; } >"$T_WORK/at.want"
check "tmpl-at-runs: output" cmp -s "$r/mnt/kd/phoneprov/at/000b82000001.cfg" "$T_WORK/at.want"

# unterminated guards and headers
printf '[general]\nprov_path=/mnt/kd/phoneprov/ug\n[phoneprov]\n#<201 no close\n#<!201!202 no close\n#<>\n#<!!>empty\n#<201>ok\n[phoneprov\n' >"$TD/unterm.conf"
hrun tmpl-unterminated 1 "$PTC" compile --cache-dir "$T_WORK/cache-ut" "$TD/unterm.conf"

# CRLF: [general] values lose the CR, output lines keep it (as sed did)
sed 's/$/\r/' "$IN/desk.conf" >"$TD/crlf.conf"
runone tmpl-crlf 0 crlf
expect_eq "tmpl-crlf: provisioning file" "$(od -An -c "$r/mnt/kd/phoneprov/acme/000b82000001.cfg" | tr -s ' ' | tr -d '\n')" \
  " u s e r = 2 0 1 _ 0 0 0 1 \r \n p a s s w o r d = p w S E K R I T 0 1 \r \n d i s p l a y = 2 0 1 \r \n"

# an empty template, a directory, a FIFO nobody writes, a 2 GiB file
: >"$TD/empty.conf"
runone tmpl-empty 1 empty
mkdir -p "$TD/adir.conf"
runone tmpl-directory 1 adir
mkfifo "$TD/fifo.conf"
runone tmpl-fifo 1 fifo
truncate -s 2G "$TD/huge.conf"
runone tmpl-too-large 1 huge
rm -f "$TD/huge.conf" "$TD/fifo.conf"

# ---- phone lists ---------------------------------------------------------------
r=$(newroot list)
lrun() { local name=$1 want=$2; shift 2; hrun "$name" "$want" "${RUN[@]}" "$r" "$@"; }

printf 'desk 00:0b:82:00:01:01 201 pw\0SEKRIT\n' >"$T_WORK/nulpw.list"
lrun list-nul-password 1 "$T_WORK/nulpw.list"
printf 'de\0sk 00:0b:82:00:01:02 202 pwSEKRIT\ndesk 00:0b:82:00:01:03 203 pwSEKRIT acc\0t\n' >"$T_WORK/nultm.list"
lrun list-nul-template-account 1 "$T_WORK/nultm.list"
printf 'de\033[31msk 00:0b:82:00:01:04 204 pwSEKRIT\n' >"$T_WORK/esc.list"
lrun list-escape-sequence 1 "$T_WORK/esc.list"
nothing_written list-nul "$r"

printf 'desk 00:0b:82:00:01:05 205/Caf\xe9_\xff\xfe pwSEKRIT\nd\xe9sk 00:0b:82:00:01:06 206 pwSEKRIT\n' >"$T_WORK/u8.list"
lrun list-invalid-utf8 1 "$T_WORK/u8.list"
printf 'desk 00:0b:82:00:01:05 205/Caf\xe9_\xff\xfe pwSEKRIT\n' >"$T_WORK/u8ok.list"
lrun list-invalid-utf8-cid 0 "$T_WORK/u8ok.list"
check "list-invalid-utf8-cid: bytes kept in sip.conf" grep -q $'callerid="Caf\xe9 \xff\xfe" <205>' \
  "$r/mnt/kd/asterisk/includes/astlinux-phoneprov-sip.conf"
expect_eq "list-invalid-utf8-cid: bytes kept in the table" \
  "$(sqlite3 "$r/mnt/kd/asterisk-odbc.sqlite3" "SELECT hex(cid_name) FROM phoneprov")" "436166E920FFFE"

{ head -c 1048576 /dev/zero | tr '\0' 'a'; printf ' 00:0b:82:00:01:07 207 pwSEKRIT\n'; } >"$T_WORK/big.list"
lrun list-1mib-line 1 "$T_WORK/big.list"
{ printf 'desk 00:0b:82:00:01:08 208/'; head -c 4000 /dev/zero | tr '\0' 'N'; printf ' pwSEKRIT\n'; } >"$T_WORK/long.list"
lrun list-4k-line 0 -f "$T_WORK/long.list"

awk 'BEGIN { for (i = 0; i < 100000; i++) printf "desk 00:0b:82:%02x:%02x:zz %d pwSEKRIT%d\n", i / 256 % 256, i % 256, 1000 + i, i }' \
  >"$T_WORK/err100k.list"
lrun list-100k-errors 1 "$T_WORK/err100k.list"
expect_eq "list-100k-errors: readable report" "$(wc -l <"$T_WORK/list-100k-errors.err")" 302

printf '%s\n' 'desk 00:0b:82:11:22:zz 301 pwSEKRIT' 'desk 0x0b8211223344 302 pwSEKRIT' \
  'desk 00:0b:82:11:22 303 pwSEKRIT' 'desk 00:0b-82:11:22:33 304 pwSEKRIT' 'desk 00:0b:82:11:22:33:44 305 pwSEKRIT' \
  'desk 000b8211223g 306 pwSEKRIT' 'desk 00.0b.82.11.22.33 307 pwSEKRIT' 'desk ::::::::::::::::: 308 pwSEKRIT' >"$T_WORK/mac.list"
lrun list-bad-macs 1 "$T_WORK/mac.list"

# `..` and `/` wherever a field reaches a file name
printf '%s\n' \
  'cidfile 00:0b:82:00:02:01 201/../../etc/passwd pwSEKRIT1' 'cidfile 00:0b:82:00:02:02 202/.. pwSEKRIT2' \
  'cidpath 00:0b:82:00:02:03 203/.. pwSEKRIT3' 'cidpath 00:0b:82:00:02:04 204/. pwSEKRIT4' \
  'dpfile 00:0b:82:00:02:05 205/.. pwSEKRIT5' 'dpfile 00:0b:82:00:02:06 206/a/b pwSEKRIT6' \
  'extfile 00:0b:82:00:02:07 ../207 pwSEKRIT7' 'extfile 00:0b:82:00:02:08 20/../7 pwSEKRIT8' \
  '../extfile 00:0b:82:00:02:09 209 pwSEKRIT9' 'extfile/.. 00:0b:82:00:02:10 210 pwSEKRIT10' \
  '.. 00:0b:82:00:02:11 211 pwSEKRIT11' 'desk 00:0b:82:00:02:12 212 pwSEKRIT12 ../acct' >"$T_WORK/dotdot.list"
before=$(tree_sum "$r")
lrun list-dotdot-slash 1 "$T_WORK/dotdot.list"
expect_eq "list-dotdot-slash: nothing written" "$(tree_sum "$r")" "$before"
no_temps list-dotdot-slash "$r"

printf 'desk 00:0b:82:00:03:01 301 pwSEKRIT a"b\ndesk 00:0b:82:00:03:02 302 pwSEKRIT a'"'"'b\ndesk 00:0b:82:00:03:03 303 pwSEKRIT acc\nt\n' >"$T_WORK/acct.list"
lrun list-account-quote-newline 1 "$T_WORK/acct.list"

printf 'desk 00:0b:82:00:04:01 401/A_B pwSEKRIT\r\n# comment\r\n\r\ndesk 00:0b:82:00:04:02 402 pwSEKRIT acct402\r\n' >"$T_WORK/crlf.list"
lrun list-crlf 0 -f "$T_WORK/crlf.list"
tr -d '\r' <"$T_WORK/crlf.list" >"$T_WORK/lf.list"
outputs "$r" | grep -v sqlite3 | (cd "$r/mnt/kd" && xargs sha1sum) >"$T_WORK/crlf.sums"
lrun list-lf 0 -f "$T_WORK/lf.list"
outputs "$r" | grep -v sqlite3 | (cd "$r/mnt/kd" && xargs sha1sum) >"$T_WORK/lf.sums"
check "list-crlf: the same files as LF" cmp -s "$T_WORK/crlf.sums" "$T_WORK/lf.sums"

r=$(newroot empty)
: >"$T_WORK/empty.list"
lrun list-empty 0 "$T_WORK/empty.list"
nothing_written list-empty "$r"
lrun list-directory 1 "$T_WORK"
mkfifo "$T_WORK/fifo.list"
lrun list-fifo 1 "$T_WORK/fifo.list"
printf 'desk 00:0b:82:00:05:01 501 pwSEKRIT\n' >"$T_WORK/noread.list"
chmod 000 "$T_WORK/noread.list"
if [ "$(id -u)" = 0 ]; then
  echo "hostile: list-unreadable: skipped (running as root: permissions do not block reads; list-fifo covers it)"
else
  lrun list-unreadable 1 "$T_WORK/noread.list"
fi
chmod 600 "$T_WORK/noread.list"
nothing_written list-unreadable "$r"

# an output directory that cannot be created: its parent is a regular file
r=$(newroot outdir)
printf 'not a directory\n' >"$r/mnt/kd/phoneprov/acme"
printf 'desk 00:0b:82:00:06:01 601 pwSEKRIT\n' >"$T_WORK/out.list"
hrun out-parent-is-a-file 1 "${RUN[@]}" "$r" "$T_WORK/out.list"
expect_eq "out-parent-is-a-file: left alone" "$(cat "$r/mnt/kd/phoneprov/acme")" "not a directory"
no_temps out-parent-is-a-file "$r"

# ---- secrets -------------------------------------------------------------------
r=$(newroot secrets)
printf '%s\n' 'desk 00:0b:82:00:07:01 701/Front_Desk pwSEKRITa1' 'desk 00:0b:82:00:07:02 702;703 pwSEKRITa2;pwSEKRITa3 acct702' \
  'desk 00:0b:82:00:07:04 704' 'desk 00:0b:82:00:07:05 705 ;pwSEKRITa5' >"$T_WORK/sec.list"
chmod 0604 "$T_WORK/sec.list"
[ "$(id -u)" = 0 ] && chown 65534:65534 "$T_WORK/sec.list"
before=$(stat -c '%a %u %g' "$T_WORK/sec.list")
hrun secrets-missing 3 "${RUN[@]}" "$r" -v "$T_WORK/sec.list"
hrun secrets-dry-run 3 "${RUN[@]}" "$r" -n -v "$T_WORK/sec.list"
hrun secrets-only-pass 0 "${RUN[@]}" "$r" -A -v "$T_WORK/sec.list"
expect_eq "secrets: -a keeps the list's mode and owner" "$(stat -c '%a %u %g' "$T_WORK/sec.list")" "$before"
gen=$(awk '$3 == 704 { print $4 } $3 == 705 { print $4 }' "$T_WORK/sec.list" | tr ';' '\n' | grep -v SEKRIT)
expect_eq "secrets: two passwords generated" "$(echo "$gen" | grep -c .)" 2
while read -r pw; do [ -n "$pw" ] && SECRETS+=("$pw"); done <<<"$gen"
# -a through a symlink rewrites the list it points to and keeps the link
printf 'desk 00:0b:82:00:07:21 721\n' >"$T_WORK/real.list"
chmod 0600 "$T_WORK/real.list"
ln -s real.list "$T_WORK/link.list"
hrun secrets-only-pass-symlink 0 "${RUN[@]}" "$r" -A "$T_WORK/link.list"
check "secrets: -a keeps a symlinked list a symlink" test -L "$T_WORK/link.list"
expect_eq "secrets: -a rewrites the symlink's target, mode kept" "$(awk '{ print NF }' "$T_WORK/real.list") $(stat -c %a "$T_WORK/real.list")" "4 600"
SECRETS+=("$(awk '{ print $4 }' "$T_WORK/real.list")")
hrun secrets-run 0 "${RUN[@]}" "$r" -v "$T_WORK/sec.list"
hrun secrets-rerun 0 "${RUN[@]}" "$r" -v -f "$T_WORK/sec.list"
printf 'desk 00:0b:82:00:07:09 709 pwSEKRITb1 bad"acct\ndesk 00:0b:82:00:07:01 710 pwSEKRITb2\n' >>"$T_WORK/sec.list"
hrun secrets-errors 1 "${RUN[@]}" "$r" -v -f "$T_WORK/sec.list"
modes=$(outputs "$r" | grep -v sqlite3 | (cd "$r/mnt/kd" && xargs stat -c '%a') | sort -u)
expect_eq "secrets: every output is 0640" "$modes" 640
check "secrets: the database holds no password" sh -c "! grep -qa SEKRIT '$r/mnt/kd/asterisk-odbc.sqlite3'"
check "secrets: the bytecode cache holds no phone data" sh -c \
  "! find '$T_WORK'/cache* -name '*.ptcb' -exec grep -qaE 'SEKRIT|00:0b:82|000b82|Front.Desk|acct702' {} + "
# The generation index beside it names the output files (so MACs, in
# their names), their sizes and mtimes: no password, and only for its user.
idx=$(find "$T_WORK"/cache* -name 'gen-*.idx' | head -1)
check "secrets: a generation index was written" test -n "$idx"
check "secrets: the generation index holds no password" sh -c "! grep -qa SEKRIT '$idx'"
expect_eq "secrets: the generation index is 0600" "$(stat -c %a "$idx" 2>/dev/null)" 600
for s in "${SECRETS[@]}"; do
  leaked=$(grep -laF -- "$s" "$T_WORK"/*.out "$T_WORK"/*.err 2>/dev/null | head -3)
  expect_eq "secrets: no output holds a password ($s)" "$leaked" ""
done

finish
