#!/usr/bin/env bash
# Output paths: one file however the templates spell it (a//b, a/b/, a/./b),
# no control characters, and symbolic links written through, as the
# original's shell redirections did.
source "$(dirname "$0")/../lib.sh"

tmpl() { printf "$2" >"$1/mnt/kd/phoneprov/templates/$3.conf"; }
INC=/mnt/kd/asterisk/includes

# -- two spellings of one include directory: one file, both phones in it
r=$(mkroot spell)
tmpl "$r" '[general]\ndialplan_path=/mnt/kd/asterisk/includes/\nsip_path=/mnt/kd/asterisk//includes\n[dialplan]\nexten => @EXT@,1,NoOp(a)\n[sip]\n\\[@ACCOUNT@]\n' a
tmpl "$r" '[general]\n[dialplan]\nexten => @EXT@,1,NoOp(b)\n[sip]\n\\[@ACCOUNT@]\n' b
printf 'a 00:0b:82:11:22:31 201 pw\nb 00:0b:82:11:22:32 202 pw\n' >"$T_WORK/spell.conf"
check "two spellings: run succeeds" ptc_run "$r" -q "$T_WORK/spell.conf"
f=$r$INC/astlinux-phoneprov-exten.conf
expect_eq "two spellings: both phones in the dialplan file" "$(grep -c '^exten' "$f")" 2
expect_eq "two spellings: the header names the file as the last template spells it" \
  "$(grep '^; #include' "$f")" "; #include $INC/astlinux-phoneprov-exten.conf"
expect_eq "two spellings: both peers in the SIP file" \
  "$(grep -c '^\[20[12]\]' "$r$INC/astlinux-phoneprov-sip.conf")" 2
expect_eq "two spellings: no other include file" "$(ls "$r$INC" | wc -l)" 2

# -- one provisioning file reached through two spellings: an error
r=$(mkroot dup)
tmpl "$r" '[general]\nprov_path=/mnt/kd/phoneprov/x\nprov_file=@EXT@.cfg\n[phoneprov]\na\n' a
tmpl "$r" '[general]\nprov_path=/mnt/kd/phoneprov/./x/\nprov_file=@EXT@.cfg\n[phoneprov]\nb\n' b
printf 'a 00:0b:82:11:22:31 201 pw\nb 00:0b:82:11:22:32 201 pw2 other\n' >"$T_WORK/dup.conf"
err=$(ptc_run "$r" -q "$T_WORK/dup.conf" 2>&1); rc=$?
expect_eq "same file, two spellings: exit 1" "$rc" 1
check "same file, two spellings: duplicate-file named" grep -q 'also written for line 1 \[duplicate-file\]' <<<"$err"
expect_eq "same file, two spellings: nothing written" "$(find "$r/mnt/kd/phoneprov/x" -type f 2>/dev/null | wc -l)" 0

# -- a tab in a path: refused before anything is written
r=$(mkroot tab)
tmpl "$r" '[general]\nsip_file=astlinux-phoneprov-sip.conf\t# peers\n[sip]\n\\[@ACCOUNT@]\n' t
printf 't 00:0b:82:11:22:31 201 pw\n' >"$T_WORK/tab.conf"
err=$(ptc_run "$r" -q "$T_WORK/tab.conf" 2>&1); rc=$?
expect_eq "tab in a path: exit 1" "$rc" 1
check "tab in a path: unsafe-path" grep -q 'a control character (a tab?) in the path \[unsafe-path\]' <<<"$err"
expect_eq "tab in a path: nothing written" "$(find "$r/mnt/kd/asterisk" -type f 2>/dev/null | wc -l)" 0

# -- symbolic links are written through, and stay links
r=$(mkroot link)
tmpl "$r" '[general]\nvendor=v\nprov_file=@EXT@.cfg\n[sip]\n\\[@ACCOUNT@]\nsecret=@PASSWORD@\n[phoneprov]\npw=@PASSWORD@\n' l
printf 'l 00:0b:82:11:22:31 201 one\n' >"$T_WORK/link.conf"
check "links: first run" ptc_run "$r" -q "$T_WORK/link.conf"
mkdir -p "$r/elsewhere"
mv "$r$INC/astlinux-phoneprov-sip.conf" "$r/elsewhere/sip.conf"
ln -s ../../../../elsewhere/sip.conf "$r$INC/astlinux-phoneprov-sip.conf"
mv "$r/mnt/kd/phoneprov/v/201.cfg" "$r/elsewhere/201.cfg"
ln -s ../../../../elsewhere/201.cfg "$r/mnt/kd/phoneprov/v/201.cfg"
printf 'l 00:0b:82:11:22:31 201 two\n' >"$T_WORK/link.conf"
check "links: second run" ptc_run "$r" -q -f "$T_WORK/link.conf"
check "links: the include file is still a link" test -L "$r$INC/astlinux-phoneprov-sip.conf"
check "links: its target got the new content" grep -qx 'secret=two' "$r/elsewhere/sip.conf"
check "links: the provisioning file is still a link" test -L "$r/mnt/kd/phoneprov/v/201.cfg"
expect_eq "links: its target got the new content" "$(cat "$r/elsewhere/201.cfg")" "pw=two"
expect_eq "links: no temporary file left" "$(find "$r" -name '.*.ptc-*' | wc -l)" 0

# -- a commit record naming a temporary file that is gone while its target
#    is missing too: said, not taken for "renamed already"
r=$(mkroot gone)
tmpl "$r" '[general]\n[phoneprov]\nx\n' g
printf 'g 00:0b:82:11:22:31 201 pw\n' >"$T_WORK/gone.conf"
printf 'R\t%s\t%s\nS\t0\nEND\n' "$r/mnt/kd/.x.cfg.ptc-AAAAAA" "$r/mnt/kd/x.cfg" >"$r/mnt/kd/.ptc-commit"
err=$(ptc_run "$r" -q "$T_WORK/gone.conf" 2>&1); rc=$?
expect_eq "lost rename: exit 1" "$rc" 1
check "lost rename: reported" grep -qF "cannot rename $r/mnt/kd/.x.cfg.ptc-AAAAAA to $r/mnt/kd/x.cfg: No such file or directory" <<<"$err"
finish
