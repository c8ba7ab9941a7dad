/* Bytecode encoding, decoding and validation.  See include/ptc/bc.h and
 * docs/bytecode.md. */
#include "ptc/bc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- little-endian helpers ---------------------------------------------- */

static void put32(ptc_buf *b, uint32_t v)
{
    unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8),
                           (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
    ptc_buf_put(b, c, 4);
}

static void put64(ptc_buf *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void set32(ptc_buf *b, size_t at, uint32_t v)
{
    unsigned char *c = (unsigned char *)b->data + at;
    c[0] = (unsigned char)v; c[1] = (unsigned char)(v >> 8);
    c[2] = (unsigned char)(v >> 16); c[3] = (unsigned char)(v >> 24);
}

/* ---- encode --------------------------------------------------------------- */

#define NSECTIONS 6

void ptc_bc_encode(const ptc_prog *p, ptc_buf *out)
{
    size_t base = out->len;
    ptc_buf_put(out, PTC_BC_MAGIC, 8);
    put32(out, PTC_BC_FORMAT_VERSION);
    put32(out, PTC_VERSION_CODE);
    put64(out, p->src_hash);
    put64(out, p->src_size);
    put32(out, NSECTIONS);
    put32(out, 0);                              /* header CRC, set below */
    set32(out, base + 36, ptc_crc32(out->data + base, 36));

    size_t table = out->len;
    for (int i = 0; i < NSECTIONS * 3; i++) put32(out, 0);

    size_t start[NSECTIONS], len[NSECTIONS];
    int s = 0;
    /* CODE */
    start[s] = out->len;
    for (uint32_t i = 0; i < p->ncode; i++) {
        put32(out, (uint32_t)p->code[i].op | (uint32_t)p->code[i].a << 8);
        put32(out, p->code[i].b);
        put32(out, p->code[i].c);
    }
    len[s] = out->len - start[s]; s++;
    /* LINES */
    start[s] = out->len;
    for (uint32_t i = 0; i < p->ncode; i++) put32(out, p->lines[i]);
    len[s] = out->len - start[s]; s++;
    /* KTAB */
    start[s] = out->len;
    for (uint32_t i = 0; i < p->nk; i++) { put32(out, p->k[i].off); put32(out, p->k[i].len); }
    len[s] = out->len - start[s]; s++;
    /* KDATA */
    start[s] = out->len;
    ptc_buf_put(out, p->kdata, p->kdata_len);
    len[s] = out->len - start[s]; s++;
    /* ENTRY */
    start[s] = out->len;
    for (int i = 0; i < PTC_CTX_COUNT; i++) put32(out, p->entry[i]);
    len[s] = out->len - start[s]; s++;
    /* META */
    start[s] = out->len;
    put32(out, p->menu_name);
    put32(out, p->keys_set);
    len[s] = out->len - start[s]; s++;

    for (int i = 0; i < NSECTIONS; i++) {
        set32(out, table + (size_t)i * 12, (uint32_t)(i + 1));
        set32(out, table + (size_t)i * 12 + 4, (uint32_t)(start[i] - base));
        set32(out, table + (size_t)i * 12 + 8, (uint32_t)len[i]);
    }
    put32(out, ptc_crc32(out->data + base, out->len - base));
}

/* ---- validate ------------------------------------------------------------- */

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Every instruction: a known opcode, operands in range, jumps forward and
 * inside the code.  With the final RET this makes every run terminate. */
static int validate_insn(const ptc_prog *p, uint32_t pc, char *why, size_t whylen)
{
    const ptc_insn *i = &p->code[pc];
    if (i->op >= PTC_OP_COUNT) return fail(why, whylen, "bad opcode %u at %u", i->op, pc);
    const ptc_op_info *info = &ptc_op_info_table[i->op];
    if (info->a == PTC_OPND_SLOT && i->a >= PTC_SLOT_COUNT)
        return fail(why, whylen, "bad slot %u at %u", i->a, pc);
    if (info->a == PTC_OPND_KEY && i->a >= PTC_KEY_COUNT)
        return fail(why, whylen, "bad key %u at %u", i->a, pc);
    if (info->a == PTC_OPND_NONE && i->a != 0)
        return fail(why, whylen, "unused operand set at %u", pc);
    if (info->b == PTC_OPND_B_CONST && i->b >= p->nk)
        return fail(why, whylen, "bad constant %u at %u", i->b, pc);
    if (info->b == PTC_OPND_B_CHAIN && (i->b == 0 || !ptc_filter_chain_valid(i->b)))
        return fail(why, whylen, "bad filter chain %#x at %u", i->b, pc);
    if (info->b == PTC_OPND_B_NONE && i->b != 0)
        return fail(why, whylen, "unused operand B set at %u", pc);
    if (info->c && (i->c <= pc || i->c >= p->ncode))
        return fail(why, whylen, "bad jump target %u at %u", i->c, pc);
    return 0;
}

int ptc_bc_validate(const ptc_prog *p, char *why, size_t whylen)
{
    if (p->ncode == 0 || p->code[p->ncode - 1].op != PTC_OP_RET)
        return fail(why, whylen, "code does not end in RET");
    for (uint32_t i = 0; i < p->nk; i++)
        if (p->k[i].off > p->kdata_len || p->k[i].len > p->kdata_len - p->k[i].off)
            return fail(why, whylen, "constant %u out of range", i);
    if (p->menu_name != PTC_NO_CONST && p->menu_name >= p->nk)
        return fail(why, whylen, "menu_name constant out of range");
    if (p->entry[PTC_CTX_GENERAL] == PTC_NO_ENTRY) return fail(why, whylen, "no [general]");
    for (int c = 0; c < PTC_CTX_COUNT; c++)
        if (p->entry[c] != PTC_NO_ENTRY && p->entry[c] >= p->ncode)
            return fail(why, whylen, "entry of [%s] out of range", ptc_ctx_names[c]);
    for (uint32_t pc = 0; pc < p->ncode; pc++)
        if (validate_insn(p, pc, why, whylen) != 0) return -1;
    return 0;
}

/* ---- decode --------------------------------------------------------------- */

ptc_prog *ptc_bc_decode(const void *data, size_t len, char *why, size_t whylen)
{
    const unsigned char *d = data;
    ptc_prog *p = NULL;
    const unsigned char *sec[NSECTIONS + 1] = {0};
    uint32_t seclen[NSECTIONS + 1] = {0};

    if (len < PTC_BC_HEADER_SIZE + 4) { fail(why, whylen, "truncated header (%zu bytes)", len); goto bad; }
    if (memcmp(d, PTC_BC_MAGIC, 8) != 0) { fail(why, whylen, "not a ptc bytecode file"); goto bad; }
    if (get32(d + 36) != ptc_crc32(d, 36)) { fail(why, whylen, "header checksum mismatch"); goto bad; }
    if (get32(d + 8) != PTC_BC_FORMAT_VERSION) {
        fail(why, whylen, "format version %u, expected %u", get32(d + 8), PTC_BC_FORMAT_VERSION); goto bad;
    }
    if (get32(d + 12) != PTC_VERSION_CODE) { fail(why, whylen, "written by another ptc version"); goto bad; }
    uint32_t nsec = get32(d + 32);
    if (nsec != NSECTIONS) { fail(why, whylen, "%u sections, expected %u", nsec, NSECTIONS); goto bad; }
    size_t table_end = PTC_BC_HEADER_SIZE + (size_t)nsec * 12;
    if (len < table_end + 4) { fail(why, whylen, "truncated section table"); goto bad; }
    if (get32(d + len - 4) != ptc_crc32(d, len - 4)) { fail(why, whylen, "checksum mismatch"); goto bad; }

    for (uint32_t i = 0; i < nsec; i++) {
        const unsigned char *t = d + PTC_BC_HEADER_SIZE + i * 12;
        uint32_t id = get32(t), off = get32(t + 4), n = get32(t + 8);
        if (id != i + 1) { fail(why, whylen, "section %u has id %u", i, id); goto bad; }
        if (off < table_end || off > len - 4 || n > len - 4 - off) {
            fail(why, whylen, "section %u out of bounds", id); goto bad;
        }
        sec[id] = d + off;
        seclen[id] = n;
    }
    if (seclen[PTC_BC_SEC_CODE] % 12 || seclen[PTC_BC_SEC_KTAB] % 8 ||
        seclen[PTC_BC_SEC_ENTRY] != PTC_CTX_COUNT * 4 || seclen[PTC_BC_SEC_META] != 8 ||
        seclen[PTC_BC_SEC_LINES] != seclen[PTC_BC_SEC_CODE] / 3) {
        fail(why, whylen, "section sizes inconsistent"); goto bad;
    }

    p = ptc_xcalloc(1, sizeof *p);
    p->src_hash = get64(d + 16);
    p->src_size = get64(d + 24);
    p->ncode = seclen[PTC_BC_SEC_CODE] / 12;
    p->code = ptc_xcalloc(p->ncode, sizeof *p->code);
    p->lines = ptc_xcalloc(p->ncode, sizeof *p->lines);
    for (uint32_t i = 0; i < p->ncode; i++) {
        const unsigned char *c = sec[PTC_BC_SEC_CODE] + i * 12;
        uint32_t w = get32(c);
        if (w >> 16) { fail(why, whylen, "reserved bits set at %u", i); goto bad; }
        p->code[i].op = (uint8_t)w;
        p->code[i].a = (uint8_t)(w >> 8);
        p->code[i].b = get32(c + 4);
        p->code[i].c = get32(c + 8);
        p->lines[i] = get32(sec[PTC_BC_SEC_LINES] + i * 4);
    }
    p->nk = seclen[PTC_BC_SEC_KTAB] / 8;
    p->k = ptc_xcalloc(p->nk, sizeof *p->k);
    for (uint32_t i = 0; i < p->nk; i++) {
        p->k[i].off = get32(sec[PTC_BC_SEC_KTAB] + i * 8);
        p->k[i].len = get32(sec[PTC_BC_SEC_KTAB] + i * 8 + 4);
    }
    p->kdata_len = seclen[PTC_BC_SEC_KDATA];
    p->kdata = ptc_xmalloc(p->kdata_len + 1);
    memcpy(p->kdata, sec[PTC_BC_SEC_KDATA], p->kdata_len);
    for (int i = 0; i < PTC_CTX_COUNT; i++) p->entry[i] = get32(sec[PTC_BC_SEC_ENTRY] + i * 4);
    p->menu_name = get32(sec[PTC_BC_SEC_META]);
    p->keys_set = get32(sec[PTC_BC_SEC_META] + 4);
    if (p->keys_set >> PTC_KEY_COUNT) { fail(why, whylen, "unknown keys in META"); goto bad; }
    if (ptc_bc_validate(p, why, whylen) != 0) goto bad;
    ptc_prog_analyze(p);
    return p;
bad:
    ptc_prog_free(p);
    return NULL;
}
