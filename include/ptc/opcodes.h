/* The VM's instruction set: one list, from which the enum, the names and the
 * disassembler's operand formats are generated.
 *
 * An instruction is three 32-bit words: op|A<<8, B, C.
 *   A  a small operand: a variable slot or a [general] key
 *   B  a constant-pool index, or a filter chain (lang.h: 4 bits a filter)
 *   C  a jump target (an instruction index, always forward)
 *
 * The code ends in RET and jumps only go forward, so a run from any entry
 * ends.  The loader (runtime/bcfile.c) checks all of this before a program
 * from disk reaches the VM.
 *
 * Ownership: static tables only; nothing to own or free.
 */
#ifndef PTC_OPCODES_H
#define PTC_OPCODES_H

/* X(name, A as, B as, uses C, meaning) with A: 0 none, 1 slot, 2 key;
 * B: 0 none, 1 constant, 2 filter chain.  The meaning is the one place an
 * opcode is documented: `ptc disasm --verbose` prints it beside the code,
 * `ptc disasm --opcodes` prints the table docs/bytecode.md shows. */
#define PTC_OPCODES(X)                                                        \
    X(TEXT,   0, 1, 0, "emit constant K[B]; in [general], append it to the key's value") \
    X(VAR,    1, 0, 0, "emit the value of slot A as it is (never rescanned); in [general], append it") \
    X(ONLY,   0, 1, 1, "if EXT1 != K[B] goto C: the #<ext> guard, which skips the line") \
    X(EXCEPT, 0, 1, 1, "if EXT1 == K[B] goto C: one per extension of a #<!..!ext!..!> guard") \
    X(KEY,    2, 0, 1, "[general]: start key A's value; goto C if A is not wanted in this pass; elsewhere a no-op") \
    X(ENDKEY, 2, 0, 0, "[general]: end key A; its value is cut at its first space and stored, the last one wins") \
    X(RET,    0, 0, 0, "end of the context") \
    X(FVAR,   1, 2, 0, "emit the value of slot A through filter chain B (left to right); in [general], append it")

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
