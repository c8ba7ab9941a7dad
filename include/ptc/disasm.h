/* ptc_disasm: a program as text, one instruction a line, in the spirit of
 * SQLite's EXPLAIN and `luac -l`:
 *
 *   [dialplan]
 *      12  TEXT    K4         "exten => "                 ; line 14
 *      13  VAR     EXT1                                   ; line 14
 *
 * Operand formats come from the opcode table (include/ptc/opcodes.h).
 *
 * Ownership: the program and the stream are borrowed.
 */
#ifndef PTC_DISASM_H
#define PTC_DISASM_H

#include <stdio.h>
#include "ptc/prog.h"

void ptc_disasm_print(const ptc_prog *p, const char *name, FILE *out);

/* After a listing (`ptc disasm --verbose`): the meaning of each opcode the
 * program uses, from PTC_OPCODES, where each one is documented once. */
void ptc_disasm_legend(const ptc_prog *p, FILE *out);

/* The whole opcode table as Markdown (`ptc disasm --opcodes`); the table in
 * docs/bytecode.md is this output, and a test keeps it so. */
void ptc_disasm_opcodes(FILE *out);

#endif
