#!/usr/bin/env bash
# ptc lint: every check's exact output on its fixture, the output formats,
# -Werror/-Wno-CODE, exit statuses, the stock templates, and the help texts
# against the man page.
#
# Fixtures (tests/fixtures/lint): t/NAME.conf templates, l/NAME.conf phone
# lists (their templates in tmpl/), misc/ for the rest.  Each case's expected
# output (stderr and stdout, then "exit N") is NAME.expected beside it.
# After a deliberate change of a message: PTC_LINT_UPDATE=1 bash tests/cli/lint.sh
# rewrites the .expected files; review the diff before committing.
source "$(dirname "$0")/../lib.sh"
FX=$REPO_DIR/tests/fixtures/lint
unset PHONEPROV_BASE_DIR PHONEPROV_GW_IF PHONEPROV_GW_IP
export NO_COLOR=1

# lint_out ARGS...: what ptc lint prints (both streams), then "exit N".
lint_out() {
  local out rc
  out=$(cd "$FX" && "$PTC" lint "$@" 2>&1)
  rc=$?
  [ -n "$out" ] && printf '%s\n' "$out"
  printf 'exit %s\n' "$rc"
}

# golden NAME.expected ARGS...: lint's output must be exactly the file.
golden() {
  local exp=$FX/$1; shift
  local got
  got=$(lint_out "$@")
  if [ "${PTC_LINT_UPDATE:-}" = 1 ]; then printf '%s\n' "$got" >"$exp"; ok; return; fi
  if [ -f "$exp" ] && [ "$got" == "$(cat "$exp")" ]; then ok; else
    fail "output of ptc lint $* differs from ${exp#$FX/}"
    diff <(cat "$exp" 2>/dev/null) <(printf '%s\n' "$got") | head -20 >&2
  fi
}

# ---- one fixture per check --------------------------------------------------
for f in "$FX"/t/*.conf; do
  n=$(basename "$f" .conf)
  golden "t/$n.expected" "t/$n.conf"
done
for f in "$FX"/l/*.conf; do
  n=$(basename "$f" .conf)
  golden "l/$n.expected" --templates tmpl "l/$n.conf"
done

# ---- lint and run agree -------------------------------------------------------
# Every error `ptc run -n` reports on a phone list, lint reports word for word.
# Notes for users who must stay compatible with phoneprov-tools: off by default.
golden "misc/ptc-only.expected" -Wptc-only-syntax t/xml-filters.conf
if lint_out t/xml-filters.conf | grep -q ptc-only-syntax; then fail "ptc-only-syntax on by default"; else ok; fi

R=$(mkroot agree)
cp "$FX"/tmpl/*.conf "$R/mnt/kd/phoneprov/templates/"
for f in "$FX"/l/*.conf; do
  n=l/$(basename "$f")
  runerr=$(cd "$FX" && ptc_run "$R" -n "$n" 2>&1 >/dev/null | grep "^$n:[0-9]*:[0-9]*: error: ")
  linted=$(cd "$FX" && "$PTC" lint --root "$R" "$n" 2>&1)
  while IFS= read -r e; do
    [ -z "$e" ] && continue
    case $linted in *"$e"*) ok ;; *) fail "run reports, lint does not: $e" ;; esac
  done <<<"$runerr"
done

# ---- classification, directories, --root -----------------------------------
golden misc/neither.expected misc/neither.txt
golden misc/forced-template.expected --template misc/neither.txt
golden misc/forced-list.expected --list misc/neither.txt
golden misc/missing.expected misc/nope.conf
# A directory holding a template and a list naming it: the template is
# linted once although it is named twice.
golden misc/dir.expected --templates misc/dir misc/dir
golden misc/root.expected --root misc/root misc/root-list.conf

# ---- formats and options ------------------------------------------------------
golden misc/json.expected --format=json --templates tmpl l/duplicates.conf
golden misc/github.expected --format github t/var-index.conf t/xml.conf
golden misc/werror.expected -Werror t/duplicate-key.conf
golden misc/wno.expected -Wno-duplicate-key -W no-menu-name-long t/duplicate-key.conf t/menu-name.conf
golden misc/quiet.expected -q t/guards.conf t/no-general.conf

# ---- usage errors: exit 2 ----------------------------------------------------
for args in "" "--format=xml t/clean.conf" "-Wfoo t/clean.conf" "--bogus t/clean.conf"; do
  # shellcheck disable=SC2086
  (cd "$FX" && "$PTC" lint $args >/dev/null 2>&1)
  expect_eq "ptc lint $args exits 2" "$?" 2
done
out=$("$PTC" lint --help); rc=$?
expect_eq "lint --help exits 0" "$rc" 0
case $out in "Usage: ptc lint"*) ok ;; *) fail "lint --help prints the usage" ;; esac

# JSON: one object per line, each with every field.
while IFS= read -r line; do
  case $line in
    '{"file":'*'"line":'*'"column":'*'"severity":'*'"code":'*'"message":'*'}') ok ;;
    *) fail "json line: $line" ;;
  esac
done < <(cd "$FX" && "$PTC" lint --format=json t/guards.conf 2>/dev/null)

# ---- the stock templates and the example phone list ---------------------------
out=$(cd "$REPO_DIR" && "$PTC" lint templates/ examples/massdeployment.conf --templates templates 2>&1); rc=$?
expect_eq "stock templates and example list: no errors" "$rc" 0
case $out in *": error:"*) fail "stock templates: $out" ;; *) ok ;; esac
# No finding at all: the XML templates escape their values (escape=xml).
out=$(cd "$REPO_DIR" && "$PTC" lint -Werror templates/ examples/massdeployment.conf --templates templates 2>&1); rc=$?
expect_eq "stock templates: lint -Werror clean (exit)" "$rc" 0
expect_eq "stock templates: lint -Werror clean (output)" "$out" ""

# ---- help texts against ptc(1) ----------------------------------------------------
man=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$REPO_DIR/docs/ptc.1")
for cmd in run compile lint disasm serve status recover notify dhcp export import web passwd; do
  case $man in *"ptc $cmd"*) ok ;; *) fail "ptc(1) lacks the command $cmd" ;; esac
  for opt in $("$PTC" $cmd --help | grep -oE -- '(^|[ ,\[])--?[A-Za-z][A-Za-z-]*' | grep -oE -- '--?[A-Za-z][A-Za-z-]*' | sort -u); do
    case $man in *"$opt"*) ok ;; *) fail "ptc(1) lacks $cmd option $opt" ;; esac
  done
done
for cmd in run compile lint disasm serve status recover notify dhcp export import web passwd; do
  case $("$PTC" --help) in *"  $cmd "*) ok ;; *) fail "ptc --help lacks $cmd" ;; esac
done
check "ptc-template(5) exists" test -s "$REPO_DIR/docs/ptc-template.5"

finish
