/* The VM's instruction set: one list, from which the enum, the names and the
 * disassembler's operand formats are generated.
 *
 * An instruction is three 32-bit words: op|A<<8, B, C.
 *   A  a small operand: a variable slot or a [general] key
 *   B  a constant-pool index, or a filter chain (lang.h: 4 bits a filter)
 *   C  a jump target (an instruction index, always forward)
 *
 * Every context's code ends in RET; jumps only go forward, so every run
 * ends.  The loader (runtime/bcfile.c) checks all of this before a program
 * from disk reaches the VM.
 *
 *   opcode  operands  synopsis
 */
#ifndef PTC_OPCODES_H
#define PTC_OPCODES_H

/* X(name, uses A as, uses B as, uses C, synopsis) with A: 0 none, 1 slot,
 * 2 key; B: 0 none, 1 constant, 2 filter chain */
#define PTC_OPCODES(X)                                                        \
    X(TEXT,   0, 1, 0, "emit K[B]")                                           \
    X(VAR,    1, 0, 0, "emit the value of slot A")                            \
    X(ONLY,   0, 1, 1, "if EXT1 != K[B] goto C        (#<ext> guard)")        \
    X(EXCEPT, 0, 1, 1, "if EXT1 == K[B] goto C        (#<!..!ext!..!> guard)")\
    X(KEY,    2, 0, 1, "start [general] key A; goto C if A is not wanted")    \
    X(ENDKEY, 2, 0, 0, "end key A: value ends at its first space; store it")  \
    X(RET,    0, 0, 0, "end of context")                                      \
    X(FVAR,   1, 2, 0, "emit slot A through the filters of chain B")

typedef enum {
#define X(name, a, b, c, doc) PTC_OP_##name,
    PTC_OPCODES(X)
#undef X
    PTC_OP_COUNT
} ptc_opcode;

enum { PTC_OPND_NONE, PTC_OPND_SLOT, PTC_OPND_KEY };
enum { PTC_OPND_B_NONE, PTC_OPND_B_CONST, PTC_OPND_B_CHAIN };

typedef struct ptc_op_info {
    const char *name;
    unsigned char a, b, c;
    const char *doc;
} ptc_op_info;

extern const ptc_op_info ptc_op_info_table[PTC_OP_COUNT];

#endif
