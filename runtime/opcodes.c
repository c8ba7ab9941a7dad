/* The opcode table, generated from PTC_OPCODES. */
#include "ptc/opcodes.h"

const ptc_op_info ptc_op_info_table[PTC_OP_COUNT] = {
#define X(name, a, b, c, doc) { #name, a, b, c, doc },
    PTC_OPCODES(X)
#undef X
};
