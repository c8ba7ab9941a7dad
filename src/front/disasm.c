/* The disassembler, driven by the opcode table. */
#include "ptc/disasm.h"
#include "ptc/bc.h"

#include <string.h>

static void quoted(FILE *out, const char *s, uint32_t n, uint32_t max)
{
    fputc('"', out);
    for (uint32_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", out);
        else if (c == '\t') fputs("\\t", out);
        else if (c == '\r') fputs("\\r", out);
        else if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f) fprintf(out, "\\x%02x", c);
        else fputc(c, out);
    }
    fputs(n > max ? "\"..." : "\"", out);
}

static int context_at(const ptc_prog *p, uint32_t pc)
{
    for (int c = 0; c < PTC_CTX_COUNT; c++)
        if (p->entry[c] == pc) return c;
    return -1;
}

void ptc_disasm_print(const ptc_prog *p, const char *name, FILE *out)
{
    fprintf(out, "; %s: ptc bytecode format %u, %u instructions, %u constants (%u bytes)\n",
            name, PTC_BC_FORMAT_VERSION, p->ncode, p->nk, p->kdata_len);
    if (p->menu_name != PTC_NO_CONST) {
        fputs("; menu_name ", out);
        quoted(out, p->kdata + p->k[p->menu_name].off, p->k[p->menu_name].len, 200);
        fputc('\n', out);
    }
    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        int ctx = context_at(p, pc);
        if (ctx >= 0) fprintf(out, "[%s]\n", ptc_ctx_names[ctx]);
        const ptc_insn *i = &p->code[pc];
        const ptc_op_info *info = &ptc_op_info_table[i->op];
        char opnd[64] = "";
        size_t n = 0;
        if (info->a == PTC_OPND_SLOT) n += (size_t)snprintf(opnd + n, sizeof opnd - n, "%s ", ptc_slot_names[i->a]);
        if (info->a == PTC_OPND_KEY) n += (size_t)snprintf(opnd + n, sizeof opnd - n, "%s ", ptc_key_names[i->a]);
        if (info->b == PTC_OPND_B_CONST) n += (size_t)snprintf(opnd + n, sizeof opnd - n, "K%u ", i->b);
        if (info->b == PTC_OPND_B_CHAIN) {
            char chain[64];
            ptc_filter_chain_text(i->b, chain, sizeof chain);
            n += (size_t)snprintf(opnd + n, sizeof opnd - n, ":%s ", chain);
        }
        if (info->c) snprintf(opnd + n, sizeof opnd - n, "->%u", i->c);
        fprintf(out, "  %4u  %-7s %-28s", pc, info->name, opnd);
        if (info->b == PTC_OPND_B_CONST) quoted(out, p->kdata + p->k[i->b].off, p->k[i->b].len, 40);
        fprintf(out, "%s; line %u\n", info->b == PTC_OPND_B_CONST ? "  " : "", p->lines[pc]);
    }
}

void ptc_disasm_legend(const ptc_prog *p, FILE *out)
{
    int used[PTC_OP_COUNT] = {0};
    for (uint32_t pc = 0; pc < p->ncode; pc++) used[p->code[pc].op] = 1;
    fputs(";\n; opcodes used (include/ptc/opcodes.h):\n", out);
    for (int op = 0; op < PTC_OP_COUNT; op++)
        if (used[op]) fprintf(out, ";   %-7s %s\n", ptc_op_info_table[op].name, ptc_op_info_table[op].doc);
}

static const char *operand_a(int a)
{
    return a == PTC_OPND_SLOT ? "slot" : a == PTC_OPND_KEY ? "key" : "–";
}

static const char *operand_b(int b)
{
    return b == PTC_OPND_B_CONST ? "constant" : b == PTC_OPND_B_CHAIN ? "chain" : "–";
}

void ptc_disasm_opcodes(FILE *out)
{
    fputs("| Op | Name | A | B | C | Meaning |\n|---:|---|---|---|---|---|\n", out);
    for (int op = 0; op < PTC_OP_COUNT; op++) {
        const ptc_op_info *i = &ptc_op_info_table[op];
        fprintf(out, "| %d | `%s` | %s | %s | %s | %s |\n", op, i->name, operand_a(i->a),
                operand_b(i->b), i->c ? "target" : "–", i->doc);
    }
}
