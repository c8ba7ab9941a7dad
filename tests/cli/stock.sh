#!/usr/bin/env bash
# The stock templates, exercised: examples/massdeployment.conf through
# templates/ must give exactly the files in tests/golden/stock/ (provisioning
# files of every vendor, the include files) and the rows in rows.tsv.
# PTC_UPDATE_GOLDEN=1 rewrites the golden tree (review the diff).
source "$(dirname "$0")/../lib.sh"

golden=$TESTS_DIR/golden/stock
root=$(mkroot stock)
cp "$REPO_DIR"/templates/*.conf "$root/mnt/kd/phoneprov/templates/"
list=$T_WORK/massdeployment.conf
cp "$REPO_DIR/examples/massdeployment.conf" "$list"
check "the example list runs through the stock templates" ptc_run "$root" -q "$list"
got=$T_WORK/got
mkdir -p "$got"
(cd "$root/mnt/kd" && find asterisk phoneprov -path phoneprov/templates -prune -o -type f -print) |
  while read -r f; do mkdir -p "$got/$(dirname "$f")"; cp "$root/mnt/kd/$f" "$got/$f"; done
sqlite3 -header -separator $'\t' "$root/mnt/kd/asterisk-odbc.sqlite3" \
  'SELECT * FROM phoneprov ORDER BY id' >"$got/rows.tsv"
if [ -n "${PTC_UPDATE_GOLDEN:-}" ]; then
  rm -rf "$golden" && mkdir -p "$golden" && cp -r "$got"/. "$golden"/
fi
if diff -r "$golden" "$got" >"$T_WORK/diff"; then ok; else
  fail "stock outputs differ from tests/golden/stock"; head -40 "$T_WORK/diff" >&2; fi
expect_eq "every stock template wrote a provisioning file" \
  "$(ls "$REPO_DIR"/templates/*.conf | wc -l)" \
  "$(cut -f8 "$got/rows.tsv" | tail -n +2 | sort -u | wc -l)"

# Values that break XML (`& < > " '` in a CallerID name and a password): each
# stock XML template's provisioning file must still parse (xmllint, Debian's
# libxml2-utils), with the values in it escaped, and the template passes
# `ptc lint -Werror`.
if command -v xmllint >/dev/null; then
  r2=$(mkroot xmlsafe)
  cp "$REPO_DIR"/templates/*.conf "$r2/mnt/kd/phoneprov/templates/"
  bad=$T_WORK/xmlsafe.conf
  i=0
  for t in cisco-mpp cisco-spa5xx grandstream-gxp poly-vvx snom-d7xx; do
    printf "%s 00:0b:82:00:00:%02x %d/R&D_\"Q\"_'x'_a>b p<w&\"d'>%d\n" "$t" $i $((300 + i)) $i
    i=$((i + 1))
  done >"$bad"
  check "hostile values run through the XML templates" ptc_run "$r2" -q "$bad"
  n=0
  while IFS= read -r f; do
    n=$((n + 1))
    case $f in *.xml|*.htm|*-phone.cfg) ;; *) continue ;; esac
    if out=$(xmllint --noout "$f" 2>&1); then ok; else fail "not XML: ${f#$r2/}: $out"; fi
    if grep -q 'R&amp;D' "$f"; then ok; else fail "CallerID name not escaped in ${f#$r2/}"; fi
    if grep -q "p&lt;w&amp;&quot;d&apos;&gt;" "$f"; then ok; else fail "password not escaped in ${f#$r2/}"; fi
  done < <(find "$r2/mnt/kd/phoneprov" -path '*/templates' -prune -o -type f -newer "$bad" -print)
  check "every XML template wrote its file" test "$n" -ge 5
  "$PTC" lint -Werror "$REPO_DIR/templates/" >/dev/null 2>&1; expect_eq "stock templates pass lint -Werror" "$?" 0
else
  echo "stock: xmllint missing (make deps installs libxml2-utils): XML validity not checked"
fi
finish
