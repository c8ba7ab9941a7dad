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
finish
