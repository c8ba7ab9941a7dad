#!/usr/bin/env bash
# The documents that quote ptc's own output say what ptc says.
source "$(dirname "$0")/../lib.sh"

# docs/bytecode.md's opcode table is `ptc disasm --opcodes`, and the meaning
# of each opcode is written once, in include/ptc/opcodes.h.
sed -n '/<!-- the output of `ptc disasm --opcodes`/,/<!-- end -->/p' "$REPO_DIR"/docs/bytecode.md \
  | sed '1d;$d' >"$T_WORK/doc-table"
"$PTC" disasm --opcodes >"$T_WORK/ptc-table"
check "docs/bytecode.md: the opcode table is ptc disasm --opcodes" cmp -s "$T_WORK/doc-table" "$T_WORK/ptc-table"
expect_eq "the table has a row per opcode" "$(grep -c '^| [0-9]' "$T_WORK/ptc-table")" \
  "$(grep -c '^    X(' "$REPO_DIR"/include/ptc/opcodes.h)"

# --verbose explains the opcodes a template uses, after its listing.
"$PTC" disasm -v --cache-dir "$T_WORK/c" "$REPO_DIR"/templates/yealink-t4x.conf >"$T_WORK/v" 2>"$T_WORK/verr"
check "disasm -v: the legend names TEXT with its meaning" \
  grep -qxF ";   TEXT    emit constant K[B]; in [general], append it to the key's value" "$T_WORK/v"
check "disasm -v: the legend leaves out opcodes the template does not use" \
  sh -c "! grep -q '^;   EXCEPT' '$T_WORK/v'"
check "disasm -v: the cache note goes to stderr" grep -q 'cache' "$T_WORK/verr"
expect_eq "disasm --opcodes takes no template" "$("$PTC" disasm --opcodes "$REPO_DIR/templates/yealink-t4x.conf" >/dev/null 2>&1; echo $?)" 64
# docs/scale.md quotes the PostgreSQL schema that src/run/db.c creates.
python3 - "$REPO_DIR" >"$T_WORK/schema" <<'PY'
import re, sys
src = open(sys.argv[1] + "/src/run/db.c").read()
body = src.split("const char ptc_db_pg_schema[] =", 1)[1].split(";\n", 1)[0]
print("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body)).replace("\\n", "\n").replace('\\"', '"'), end="")
PY
sed -n '/<!-- the PostgreSQL schema of src\/run\/db.c -->/,/<!-- end -->/p' "$REPO_DIR"/docs/scale.md \
  | sed '1,2d;$d' | sed '$d' >"$T_WORK/doc-schema"
check "docs/scale.md: the schema is db.c's" cmp -s "$T_WORK/schema" "$T_WORK/doc-schema"
finish
