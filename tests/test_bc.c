/* The on-disk bytecode format (runtime/bcfile.c, docs/bytecode.md).
 *
 *  - encode/decode round trip of every stock and conformance template;
 *  - the byte layout the document describes;
 *  - the loader refuses, with a reason and without crashing: every
 *    truncation, every bit flip of header, table and trailer and thousands in
 *    the body, other format/ptc versions, foreign files;
 *  - hand-made programs with a correct CRC but bad contents (re-encoded with
 *    ptc_bc_encode, so it is the validator, not the CRC, that refuses them). */
#include "testutil.h"
#include "ptc/bc.h"
#include "ptc/comp.h"
#include "ptc/buf.h"

#include <glob.h>
#include <limits.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------- */

static ptc_prog *compile_src(ptc_src *src)
{
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    ptc_prog *p = ptc_comp_source(src, &d);
    ck_assert_msg(p != NULL, "%s does not compile", src->name);
    return p;
}

static ptc_prog *compile_file(const char *path)
{
    ptc_src *src = ptc_src_load(path, NULL);
    ck_assert_msg(src != NULL, "cannot read %s", path);
    ptc_prog *p = compile_src(src);
    ptc_src_free(src);
    return p;
}

static ptc_prog *compile_str(const char *text)
{
    ptc_src *src = ptc_src_from_mem("t.conf", text, strlen(text));
    ptc_prog *p = compile_src(src);
    ptc_src_free(src);
    return p;
}

/* The largest stock template, encoded: the "real file" of the abuse tests. */
static void real_file(ptc_buf *out)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/templates/yealink-t4x-2line.conf", repo_dir());
    ptc_prog *p = compile_file(path);
    ptc_bc_encode(p, out);
    ptc_prog_free(p);
    ck_assert_uint_gt(out->len, 1000);
}

static void assert_same_prog(const ptc_prog *a, const ptc_prog *b)
{
    ck_assert_uint_eq(a->ncode, b->ncode);
    for (uint32_t i = 0; i < a->ncode; i++) {
        ck_assert_uint_eq(a->code[i].op, b->code[i].op);
        ck_assert_uint_eq(a->code[i].a, b->code[i].a);
        ck_assert_uint_eq(a->code[i].b, b->code[i].b);
        ck_assert_uint_eq(a->code[i].c, b->code[i].c);
        ck_assert_uint_eq(a->lines[i], b->lines[i]);
    }
    ck_assert_uint_eq(a->nk, b->nk);
    for (uint32_t i = 0; i < a->nk; i++) {
        ck_assert_uint_eq(a->k[i].off, b->k[i].off);
        ck_assert_uint_eq(a->k[i].len, b->k[i].len);
    }
    ck_assert_uint_eq(a->kdata_len, b->kdata_len);
    ck_assert(a->kdata_len == 0 || memcmp(a->kdata, b->kdata, a->kdata_len) == 0);
    for (int c = 0; c < PTC_CTX_COUNT; c++) ck_assert_uint_eq(a->entry[c], b->entry[c]);
    ck_assert_uint_eq(a->menu_name, b->menu_name);
    ck_assert_uint_eq(a->keys_set, b->keys_set);
    ck_assert(a->src_hash == b->src_hash);
    ck_assert(a->src_size == b->src_size);
}

static uint32_t rd32(const ptc_buf *b, size_t at)
{
    const unsigned char *p = (const unsigned char *)b->data + at;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(ptc_buf *b, size_t at, uint32_t v)
{
    unsigned char *p = (unsigned char *)b->data + at;
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

/* After patching bytes: recompute the header CRC and the trailer CRC. */
static void fix_crcs(ptc_buf *b)
{
    wr32(b, 36, ptc_crc32(b->data, 36));
    wr32(b, b->len - 4, ptc_crc32(b->data, b->len - 4));
}

/* Decoding must fail; the reason must contain want (NULL: any reason). */
static void assert_refused(const void *data, size_t len, const char *want)
{
    char why[200];
    memset(why, 0, sizeof why);
    ptc_prog *p = ptc_bc_decode(data, len, why, sizeof why);
    ck_assert_msg(p == NULL, "accepted a bad file (%zu bytes)", len);
    ck_assert_msg(why[0] != '\0', "refused without a reason");
    if (want) ck_assert_msg(strstr(why, want) != NULL, "reason \"%s\", want \"%s\"", why, want);
}

/* ---- CRC and layout ------------------------------------------------------- */

START_TEST(crc32_is_ieee)
{
    ck_assert_uint_eq(ptc_crc32("123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(ptc_crc32("", 0), 0);
}
END_TEST

START_TEST(layout_matches_the_document)
{
    ptc_prog *p = compile_str("menu_name=M\n[general]\nvendor=v\n[sip]\n#<201>a@EXT@\n");
    ptc_buf b = PTC_BUF_INIT;
    ptc_bc_encode(p, &b);
    ck_assert(memcmp(b.data, "PTCB\r\n\x1a\n", 8) == 0);
    ck_assert_uint_eq(rd32(&b, 8), PTC_BC_FORMAT_VERSION);
    ck_assert_uint_eq(rd32(&b, 12), PTC_VERSION_CODE);
    ck_assert(((uint64_t)rd32(&b, 20) << 32 | rd32(&b, 16)) == p->src_hash);
    ck_assert(((uint64_t)rd32(&b, 28) << 32 | rd32(&b, 24)) == p->src_size);
    ck_assert_uint_eq(rd32(&b, 32), 6);
    ck_assert_uint_eq(rd32(&b, 36), ptc_crc32(b.data, 36));
    /* the table: ids 1..6, sections back to back from byte 112 */
    static const uint32_t unit[] = { 0, 12, 4, 8, 1, 4, 4 };
    uint32_t want_len[7] = { 0, p->ncode * 12, p->ncode * 4, p->nk * 8, p->kdata_len, PTC_CTX_COUNT * 4, 8 };
    uint32_t off = 40 + 6 * 12;
    for (uint32_t i = 0; i < 6; i++) {
        ck_assert_uint_eq(rd32(&b, 40 + i * 12), i + 1);
        ck_assert_uint_eq(rd32(&b, 40 + i * 12 + 4), off);
        ck_assert_uint_eq(rd32(&b, 40 + i * 12 + 8), want_len[i + 1]);
        ck_assert_uint_eq(want_len[i + 1] % unit[i + 1], 0);
        off += want_len[i + 1];
    }
    ck_assert_uint_eq(off + 4, b.len);
    ck_assert_uint_eq(rd32(&b, b.len - 4), ptc_crc32(b.data, b.len - 4));
    /* CODE: op | A<<8, B, C */
    uint32_t code = rd32(&b, 44);
    for (uint32_t i = 0; i < p->ncode; i++) {
        ck_assert_uint_eq(rd32(&b, code + i * 12), (uint32_t)p->code[i].op | (uint32_t)p->code[i].a << 8);
        ck_assert_uint_eq(rd32(&b, code + i * 12 + 4), p->code[i].b);
        ck_assert_uint_eq(rd32(&b, code + i * 12 + 8), p->code[i].c);
    }
    /* ENTRY and META */
    uint32_t entry = rd32(&b, 40 + 4 * 12 + 4), meta = rd32(&b, 40 + 5 * 12 + 4);
    for (int c = 0; c < PTC_CTX_COUNT; c++) ck_assert_uint_eq(rd32(&b, entry + (uint32_t)c * 4), p->entry[c]);
    ck_assert_uint_eq(rd32(&b, meta), p->menu_name);
    ck_assert_uint_eq(rd32(&b, meta + 4), p->keys_set);
    ptc_buf_free(&b);
    ptc_prog_free(p);
}
END_TEST

START_TEST(encode_appends_to_a_buffer)
{
    ptc_prog *p = compile_str("[general]\n[sip]\nx\n");
    ptc_buf a = PTC_BUF_INIT, b = PTC_BUF_INIT;
    ptc_buf_puts(&b, "prefix");
    ptc_bc_encode(p, &a);
    ptc_bc_encode(p, &b);
    ck_assert_uint_eq(b.len, a.len + 6);
    ck_assert(memcmp(b.data + 6, a.data, a.len) == 0);
    ptc_buf_free(&a);
    ptc_buf_free(&b);
    ptc_prog_free(p);
}
END_TEST

/* ---- round trip ----------------------------------------------------------- */

START_TEST(round_trip_every_template)
{
    glob_t g;
    glob_templates(&g);
    ck_assert_uint_ge(g.gl_pathc, 15);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        ptc_prog *p = compile_file(g.gl_pathv[i]);
        ptc_buf b = PTC_BUF_INIT, b2 = PTC_BUF_INIT;
        ptc_bc_encode(p, &b);
        char why[200] = "";
        ptc_prog *q = ptc_bc_decode(b.data, b.len, why, sizeof why);
        ck_assert_msg(q != NULL, "%s: %s", g.gl_pathv[i], why);
        assert_same_prog(p, q);
        ptc_bc_encode(q, &b2);
        ck_assert(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
        ptc_prog_free(q);
        ptc_prog_free(p);
        ptc_buf_free(&b);
        ptc_buf_free(&b2);
    }
    globfree(&g);
}
END_TEST

START_TEST(round_trip_minimal_program)
{
    ptc_prog *p = compile_str("[general]\n");
    ck_assert_uint_eq(p->nk, 0);
    ck_assert_uint_eq(p->kdata_len, 0);
    ptc_buf b = PTC_BUF_INIT;
    ptc_bc_encode(p, &b);
    ck_assert_uint_eq(b.len, 40 + 72 + 12 + 4 + 0 + 0 + PTC_CTX_COUNT * 4 + 8 + 4);
    ptc_prog *q = ptc_bc_decode(b.data, b.len, NULL, 0);
    ck_assert_ptr_nonnull(q);
    assert_same_prog(p, q);
    ptc_prog_free(q);
    ptc_prog_free(p);
    ptc_buf_free(&b);
}
END_TEST

/* ---- damaged files -------------------------------------------------------- */

START_TEST(every_truncation_refused)
{
    ptc_buf b = PTC_BUF_INIT;
    real_file(&b);
    for (size_t n = 0; n < b.len; n++) assert_refused(b.data, n, NULL);
    assert_refused(b.data, 0, "truncated header");
    assert_refused(b.data, 43, "truncated header");
    assert_refused(b.data, 115, "truncated section table");
    assert_refused(b.data, b.len - 1, "checksum mismatch");
    ptc_buf_free(&b);
}
END_TEST

START_TEST(every_header_table_and_trailer_bit_flip_refused)
{
    ptc_buf b = PTC_BUF_INIT;
    real_file(&b);
    size_t table_end = 40 + 6 * 12;
    for (size_t byte = 0; byte < b.len; byte++) {
        if (byte == table_end) byte = b.len - 4;    /* skip the body: next test */
        for (int bit = 0; bit < 8; bit++) {
            b.data[byte] ^= (char)(1 << bit);
            assert_refused(b.data, b.len, NULL);
            b.data[byte] ^= (char)(1 << bit);
        }
    }
    ptc_prog *p = ptc_bc_decode(b.data, b.len, NULL, 0);   /* restored: good again */
    ck_assert_ptr_nonnull(p);
    ptc_prog_free(p);
    ptc_buf_free(&b);
}
END_TEST

START_TEST(random_body_bit_flips_refused)
{
    ptc_buf b = PTC_BUF_INIT;
    real_file(&b);
    uint64_t x = 0x9E3779B97F4A7C15u;          /* xorshift64, fixed seed */
    size_t lo = 40 + 6 * 12, span = b.len - 4 - lo;
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t byte = lo + (size_t)(x % span);
        int bit = (int)((x >> 32) & 7);
        b.data[byte] ^= (char)(1 << bit);
        assert_refused(b.data, b.len, "checksum mismatch");
        b.data[byte] ^= (char)(1 << bit);
    }
    ptc_prog *p = ptc_bc_decode(b.data, b.len, NULL, 0);
    ck_assert_ptr_nonnull(p);
    ptc_prog_free(p);
    ptc_buf_free(&b);
}
END_TEST

START_TEST(header_flip_reasons)
{
    ptc_buf b = PTC_BUF_INIT;
    real_file(&b);
    b.data[0] ^= 1;
    assert_refused(b.data, b.len, "not a ptc bytecode file");
    b.data[0] ^= 1;
    b.data[9] ^= 1;
    assert_refused(b.data, b.len, "header checksum mismatch");
    b.data[9] ^= 1;
    b.data[50] ^= 1;
    assert_refused(b.data, b.len, "checksum mismatch");
    ptc_buf_free(&b);
}
END_TEST

START_TEST(other_format_version_refused)
{
    ptc_buf b = PTC_BUF_INIT;
    real_file(&b);
    wr32(&b, 8, PTC_BC_FORMAT_VERSION + 1);
    fix_crcs(&b);
    assert_refused(b.data, b.len, "format version 3, expected 2");
    wr32(&b, 8, 0);
    fix_crcs(&b);
    assert_refused(b.data, b.len, "format version 0");
    ptc_buf_free(&b);
}
END_TEST

START_TEST(other_ptc_version_refused)
{
    ptc_buf b = PTC_BUF_INIT;
    real_file(&b);
    wr32(&b, 12, PTC_VERSION_CODE + 1);
    fix_crcs(&b);
    assert_refused(b.data, b.len, "written by another ptc version");
    ptc_buf_free(&b);
}
END_TEST

START_TEST(foreign_files_refused)
{
    /* random bytes of many sizes */
    uint64_t x = 12345;
    ptc_buf b = PTC_BUF_INIT;
    for (size_t n = 0; n < 600; n += 7) {
        b.len = 0;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            ptc_buf_putc(&b, (char)x);
        }
        assert_refused(b.data ? b.data : "", n, NULL);
        /* the right magic in front does not help */
        if (n >= 8) {
            memcpy(b.data, PTC_BC_MAGIC, 8);
            assert_refused(b.data, n, NULL);
        }
    }
    /* a text file: a template */
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/templates/yealink-t4x.conf", repo_dir());
    ptc_src *src = ptc_src_load(path, NULL);
    ck_assert_ptr_nonnull(src);
    assert_refused(src->text, src->len, "not a ptc bytecode file");
    ptc_src_free(src);
    ptc_buf_free(&b);
}
END_TEST

/* Raw damage inside a correctly checksummed file: the structural checks. */
START_TEST(bad_section_table_refused)
{
    ptc_buf good = PTC_BUF_INIT, b = PTC_BUF_INIT;
    real_file(&good);
#define RESET() do { b.len = 0; ptc_buf_put(&b, good.data, good.len); } while (0)
    RESET(); wr32(&b, 32, 5); fix_crcs(&b);
    assert_refused(b.data, b.len, "5 sections, expected 6");
    RESET(); wr32(&b, 32, 0xFFFFFFFFu); fix_crcs(&b);
    assert_refused(b.data, b.len, "sections, expected 6");
    RESET(); wr32(&b, 40 + 12, 7); fix_crcs(&b);                 /* id of section 2 */
    assert_refused(b.data, b.len, "section 1 has id 7");
    RESET(); wr32(&b, 40 + 4, 8); fix_crcs(&b);                  /* CODE inside the header */
    assert_refused(b.data, b.len, "section 1 out of bounds");
    RESET(); wr32(&b, 40 + 3 * 12 + 4, (uint32_t)b.len); fix_crcs(&b);   /* KDATA past the end */
    assert_refused(b.data, b.len, "section 4 out of bounds");
    RESET(); wr32(&b, 40 + 3 * 12 + 8, 0xFFFFFFF0u); fix_crcs(&b);       /* huge KDATA length */
    assert_refused(b.data, b.len, "section 4 out of bounds");
    RESET(); wr32(&b, 40 + 1 * 12 + 8, rd32(&b, 40 + 1 * 12 + 8) - 4); fix_crcs(&b);   /* LINES short */
    assert_refused(b.data, b.len, "section sizes inconsistent");
    RESET(); wr32(&b, 40 + 0 * 12 + 8, rd32(&b, 40 + 0 * 12 + 8) - 1); fix_crcs(&b);   /* CODE not 12n */
    assert_refused(b.data, b.len, "section sizes inconsistent");
    RESET(); wr32(&b, 40 + 5 * 12 + 8, 4); fix_crcs(&b);          /* META short */
    assert_refused(b.data, b.len, "section sizes inconsistent");
    RESET(); wr32(&b, rd32(&b, 44), rd32(&b, rd32(&b, 44)) | 1u << 16); fix_crcs(&b);  /* reserved bits */
    assert_refused(b.data, b.len, "reserved bits set at 0");
#undef RESET
    ptc_buf_free(&good);
    ptc_buf_free(&b);
}
END_TEST

/* ---- hand-made programs: valid CRC, bad contents -------------------------- */

/* 0 KEY vendor ->3, 1 TEXT "v", 2 ENDKEY vendor, 3 RET,
 * 4 ONLY "201" ->8, 5 TEXT "a", 6 VAR EXT1, 7 TEXT "\n", 8 RET */
static const char base_template[] = "menu_name=M\n[general]\nvendor=v\n[sip]\n#<201>a@EXT@\n";

static ptc_prog *base_prog(void)
{
    ptc_prog *p = compile_str(base_template);
    ck_assert_uint_eq(p->ncode, 9);
    ck_assert_int_eq(p->code[4].op, PTC_OP_ONLY);
    ck_assert_int_eq(p->code[6].op, PTC_OP_VAR);
    ck_assert_int_eq(p->code[0].op, PTC_OP_KEY);
    return p;
}

/* p must be refused by the validator with reason want, and the file that
 * ptc_bc_encode makes of it (CRCs right) must be refused by the loader with
 * the same reason. */
static void assert_invalid(ptc_prog *p, const char *want)
{
    char why[200] = "";
    ck_assert_int_eq(ptc_bc_validate(p, why, sizeof why), -1);
    ck_assert_msg(strstr(why, want) != NULL, "validator: \"%s\", want \"%s\"", why, want);
    ptc_buf b = PTC_BUF_INIT;
    ptc_bc_encode(p, &b);
    ck_assert_uint_eq(rd32(&b, b.len - 4), ptc_crc32(b.data, b.len - 4));
    assert_refused(b.data, b.len, want);
    ptc_buf_free(&b);
    ptc_prog_free(p);
}

START_TEST(base_program_is_valid)
{
    ptc_prog *p = base_prog();
    char why[200] = "";
    ck_assert_int_eq(ptc_bc_validate(p, why, sizeof why), 0);
    ptc_prog_free(p);
}
END_TEST

START_TEST(bad_opcode)
{
    ptc_prog *p = base_prog();
    p->code[5].op = PTC_OP_COUNT;
    assert_invalid(p, "bad opcode 8 at 5");
    p = base_prog();
    p->code[5].op = 0xFF;
    assert_invalid(p, "bad opcode 255 at 5");
}
END_TEST

START_TEST(slot_out_of_range)
{
    ptc_prog *p = base_prog();
    p->code[6].a = PTC_SLOT_COUNT;
    assert_invalid(p, "bad slot 38 at 6");
}
END_TEST

START_TEST(key_out_of_range)
{
    ptc_prog *p = base_prog();
    p->code[0].a = PTC_KEY_COUNT;
    assert_invalid(p, "bad key 30 at 0");
    p = base_prog();
    p->code[2].a = 0xFF;
    assert_invalid(p, "bad key 255 at 2");
}
END_TEST

START_TEST(unused_operand_set)
{
    ptc_prog *p = base_prog();
    p->code[5].a = 1;                           /* TEXT takes no A */
    assert_invalid(p, "unused operand set at 5");
}
END_TEST

START_TEST(constant_out_of_range)
{
    ptc_prog *p = base_prog();
    p->code[5].b = p->nk;
    assert_invalid(p, "bad constant");
    p = base_prog();
    p->code[4].b = 0xFFFFFFFFu;                 /* the guard's constant */
    assert_invalid(p, "bad constant 4294967295 at 4");
}
END_TEST

START_TEST(backward_jump)
{
    ptc_prog *p = base_prog();
    p->code[4].c = 2;
    assert_invalid(p, "bad jump target 2 at 4");
    p = base_prog();
    p->code[4].c = 4;                           /* to itself: a loop */
    assert_invalid(p, "bad jump target 4 at 4");
    p = base_prog();
    p->code[0].c = 0;                           /* KEY's skip */
    assert_invalid(p, "bad jump target 0 at 0");
}
END_TEST

START_TEST(jump_out_of_range)
{
    ptc_prog *p = base_prog();
    p->code[4].c = p->ncode;
    assert_invalid(p, "bad jump target 9 at 4");
    p = base_prog();
    p->code[0].c = 0xFFFFFFFFu;
    assert_invalid(p, "bad jump target 4294967295 at 0");
}
END_TEST

START_TEST(missing_final_ret)
{
    ptc_prog *p = base_prog();
    p->code[8].op = PTC_OP_TEXT;
    p->code[8].b = 0;
    assert_invalid(p, "code does not end in RET");
    p = base_prog();
    p->ncode = 0;                               /* no code at all */
    assert_invalid(p, "code does not end in RET");
}
END_TEST

START_TEST(entry_out_of_range)
{
    ptc_prog *p = base_prog();
    p->entry[PTC_CTX_SIP] = p->ncode;
    assert_invalid(p, "entry of [sip] out of range");
    p = base_prog();
    p->entry[PTC_CTX_PHONEPROV] = 0xFFFFFFFEu;
    assert_invalid(p, "entry of [phoneprov] out of range");
}
END_TEST

START_TEST(no_general_entry)
{
    ptc_prog *p = base_prog();
    p->entry[PTC_CTX_GENERAL] = PTC_NO_ENTRY;
    assert_invalid(p, "no [general]");
}
END_TEST

START_TEST(constant_beyond_data)
{
    ptc_prog *p = base_prog();
    p->k[1].len = p->kdata_len + 1;
    assert_invalid(p, "constant 1 out of range");
    p = base_prog();
    p->k[2].off = p->kdata_len + 1;
    p->k[2].len = 0;
    assert_invalid(p, "constant 2 out of range");
    p = base_prog();
    p->k[0].off = 1;                            /* off + len overflows 32 bits */
    p->k[0].len = 0xFFFFFFFFu;
    assert_invalid(p, "constant 0 out of range");
}
END_TEST

START_TEST(constant_ending_exactly_at_data_end_is_valid)
{
    ptc_prog *p = base_prog();
    p->k[0].off = p->kdata_len;
    p->k[0].len = 0;
    char why[200] = "";
    ck_assert_int_eq(ptc_bc_validate(p, why, sizeof why), 0);
    ptc_prog_free(p);
}
END_TEST

START_TEST(menu_name_out_of_range)
{
    ptc_prog *p = base_prog();
    p->menu_name = p->nk;
    assert_invalid(p, "menu_name constant out of range");
}
END_TEST

START_TEST(unknown_keys_in_meta)
{
    ptc_prog *p = base_prog();
    p->keys_set |= 1u << PTC_KEY_COUNT;
    /* not a code invariant (ptc_bc_validate does not look at it), so only
     * the loader refuses it */
    ptc_buf b = PTC_BUF_INIT;
    ptc_bc_encode(p, &b);
    assert_refused(b.data, b.len, "unknown keys in META");
    ptc_buf_free(&b);
    ptc_prog_free(p);
}
END_TEST

START_TEST(reason_buffer_may_be_small_or_absent)
{
    ptc_prog *p = base_prog();
    p->code[5].op = PTC_OP_COUNT;
    ptc_buf b = PTC_BUF_INIT;
    ptc_bc_encode(p, &b);
    char why[4] = "xyz";
    ck_assert_ptr_null(ptc_bc_decode(b.data, b.len, why, sizeof why));
    ck_assert_str_eq(why, "bad");
    ck_assert_ptr_null(ptc_bc_decode(b.data, b.len, NULL, 0));
    ck_assert_int_eq(ptc_bc_validate(p, NULL, 0), -1);
    ptc_buf_free(&b);
    ptc_prog_free(p);
}
END_TEST

static Suite *bc_suite(void)
{
    Suite *s = suite_create("bc");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, crc32_is_ieee);
    tcase_add_test(tc, layout_matches_the_document);
    tcase_add_test(tc, encode_appends_to_a_buffer);
    tcase_add_test(tc, round_trip_every_template);
    tcase_add_test(tc, round_trip_minimal_program);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("damaged");
    tcase_add_test(tc, every_truncation_refused);
    tcase_add_test(tc, every_header_table_and_trailer_bit_flip_refused);
    tcase_add_test(tc, random_body_bit_flips_refused);
    tcase_add_test(tc, header_flip_reasons);
    tcase_add_test(tc, other_format_version_refused);
    tcase_add_test(tc, other_ptc_version_refused);
    tcase_add_test(tc, foreign_files_refused);
    tcase_add_test(tc, bad_section_table_refused);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid-programs");
    tcase_add_test(tc, base_program_is_valid);
    tcase_add_test(tc, bad_opcode);
    tcase_add_test(tc, slot_out_of_range);
    tcase_add_test(tc, key_out_of_range);
    tcase_add_test(tc, unused_operand_set);
    tcase_add_test(tc, constant_out_of_range);
    tcase_add_test(tc, backward_jump);
    tcase_add_test(tc, jump_out_of_range);
    tcase_add_test(tc, missing_final_ret);
    tcase_add_test(tc, entry_out_of_range);
    tcase_add_test(tc, no_general_entry);
    tcase_add_test(tc, constant_beyond_data);
    tcase_add_test(tc, constant_ending_exactly_at_data_end_is_valid);
    tcase_add_test(tc, menu_name_out_of_range);
    tcase_add_test(tc, unknown_keys_in_meta);
    tcase_add_test(tc, reason_buffer_may_be_small_or_absent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(bc_suite());
}
