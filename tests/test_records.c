/* The phone list reader (src/list/records.c) and the MAC grammar
 * (src/list/mac.c), as a specification: what a line of massdeployment.conf
 * means, and every way it can be wrong, with the exact diagnostic. */
#include "testutil.h"
#include "ptc/mac.h"
#include "ptc/rec.h"

typedef struct line {
    ptc_src *src;
    ptc_rec r;
    int rc;
    ptc_diag d;
    FILE *f;
    char *out;                  /* what the reporter printed */
    size_t outlen;
} line;

/* Parses the first phone line of text, as `ptc run` and `ptc lint` do. */
static void parse(line *L, const char *text)
{
    memset(L, 0, sizeof *L);
    L->f = open_memstream(&L->out, &L->outlen);
    ptc_diag_init(&L->d, L->f);
    L->src = ptc_src_from_mem("m.conf", text, strlen(text));
    L->src->redact = ptc_rec_redact;
    uint32_t pos = 0, off = 0, len = 0;
    unsigned n = 0;
    L->rc = ptc_rec_next_line(L->src, &pos, &off, &len, &n) ? ptc_rec_parse(L->src, off, len, n, &L->r, &L->d) : -2;
    fflush(L->f);
}

static void done(line *L)
{
    ptc_src_free(L->src);
    fclose(L->f);
    free(L->out);
}

static char *field(const line *L, ptc_span s)
{
    static char b[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%.*s", (int)s.len, L->src->text + s.off);
    return b[k];
}

/* ---- what a line means -------------------------------------------------------- */

START_TEST(five_fields)
{
    line L;
    parse(&L, "yealink-t4x 00:0B:82:11:22:33 201/Boss s3cret acct201\n");
    ck_assert_int_eq(L.rc, 0);
    ck_assert_str_eq(field(&L, L.r.tmpl), "yealink-t4x");
    ck_assert_str_eq(L.r.mac_addr, "00:0B:82:11:22:33");     /* case kept */
    ck_assert_str_eq(L.r.mac, "000B82112233");
    ck_assert_uint_eq(L.r.nexts, 1);
    ck_assert_str_eq(field(&L, L.r.ext[0]), "201");
    ck_assert_int_eq(L.r.has_cid[0], 1);
    ck_assert_str_eq(field(&L, L.r.cid[0]), "Boss");
    ck_assert_str_eq(field(&L, L.r.pass[0]), "s3cret");
    ck_assert_str_eq(field(&L, L.r.acct[0]), "acct201");
    ck_assert_int_eq(L.r.missing_password, 0);
    ck_assert_uint_eq(L.outlen, 0);
    done(&L);
}
END_TEST

START_TEST(several_lines_of_one_phone)
{
    line L;
    parse(&L, "snom 000b82112233 201/Front;202;203/ pw1;pw2 a1;a2\n");
    ck_assert_int_eq(L.rc, 0);
    ck_assert_int_eq(L.r.multi, 1);
    ck_assert_uint_eq(L.r.nexts, 3);
    ck_assert_str_eq(field(&L, L.r.ext[1]), "202");
    ck_assert_int_eq(L.r.has_cid[1], 0);
    ck_assert_int_eq(L.r.has_cid[2], 1);                    /* `203/`: an empty name */
    ck_assert_uint_eq(L.r.cid[2].len, 0);
    ck_assert_int_eq(L.r.pass_multi, 1);
    ck_assert_str_eq(field(&L, L.r.pass[1]), "pw2");
    ck_assert_int_eq(L.r.acct_multi, 1);
    ck_assert_str_eq(L.r.mac_addr, "00:0b:82:11:22:33");    /* always with colons */
    done(&L);
}
END_TEST

START_TEST(missing_password_is_flagged_not_reported)
{
    line L;
    parse(&L, "snom 00-0b-82-11-22-33 201\n");
    ck_assert_int_eq(L.rc, 0);
    ck_assert_int_eq(L.r.missing_password, 1);
    ck_assert_uint_eq(L.outlen, 0);
    done(&L);
}
END_TEST

START_TEST(comments_blank_lines_and_crlf)
{
    const char *text = "# a comment\n\n   \t\n  # indented comment\r\nsnom 000b82112233 201 pw  \r\nlast 000b82112234 202 pw";
    ptc_src *src = ptc_src_from_mem("m.conf", text, strlen(text));
    uint32_t pos = 0, off, len;
    unsigned n = 0;
    ck_assert_int_eq(ptc_rec_next_line(src, &pos, &off, &len, &n), 1);
    ck_assert_uint_eq(n, 5);
    ck_assert_mem_str(src->text + off, len, "snom 000b82112233 201 pw");   /* CR and blanks cut */
    ck_assert_int_eq(ptc_rec_next_line(src, &pos, &off, &len, &n), 1);
    ck_assert_uint_eq(n, 6);
    ck_assert_mem_str(src->text + off, len, "last 000b82112234 202 pw");   /* no final newline */
    ck_assert_int_eq(ptc_rec_next_line(src, &pos, &off, &len, &n), 0);
    ptc_src_free(src);
}
END_TEST

/* ---- what is wrong, word for word (passwords masked) ---------------------------- */

static void expect_error(const char *text, const char *want)
{
    line L;
    parse(&L, text);
    ck_assert_int_eq(L.rc, -1);
    ck_assert_msg(L.outlen == strlen(want) && memcmp(L.out, want, L.outlen) == 0,
                  "got:\n%.*s\nwant:\n%s", (int)L.outlen, L.out, want);
    done(&L);
}

START_TEST(bad_mac_is_shown_masked)
{
    expect_error("yealink 00:11:22:33:44:zz 201 secret\n",
                 "m.conf:1:9: error: invalid MAC address: expected six hex pairs like 00:11:22:aa:bb:cc [bad-mac]\n"
                 "    yealink ***************** 201 ******\n"
                 "            ^\n");
}
END_TEST

START_TEST(too_few_fields)
{
    expect_error("yealink 00:11:22:33:44:55\n",
                 "m.conf:1:26: error: expected `template mac extension password [account]`, got 2 fields "
                 "[missing-field]\n"
                 "    yealink 00:11:22:33:44:55\n"
                 "                             ^\n");
}
END_TEST

START_TEST(bad_extension_and_template)
{
    expect_error(".hidden 00:11:22:33:44:55 20x pw\n",
                 "m.conf:1:1: error: invalid template name: use letters, digits and ._-+ [bad-template]\n"
                 "    ******* 00:11:22:33:44:55 *** **\n"
                 "    ^\n"
                 "m.conf:1:27: error: invalid extension: use digits, `*`, `#` and `+` [bad-extension]\n"
                 "    ******* 00:11:22:33:44:55 *** **\n"
                 "                              ^\n");
}
END_TEST

START_TEST(seven_lines_is_too_many)
{
    expect_error("snom 000b82112233 1;2;3;4;5;6;7 pw\n",
                 "m.conf:1:19: error: 7 extensions: a phone has at most 6 lines [too-many-lines]\n"
                 "    snom 000b82112233 ************* **\n"
                 "                      ^\n");
}
END_TEST

START_TEST(trailing_comment_field)
{
    expect_error("snom 000b82112233 201 pw acct # the boss\n",
                 "m.conf:1:31: error: a trailing comment: comments must start the line [comment-field]\n"
                 "    snom 000b82112233 201 ** acct * *** ****\n"
                 "                                  ^\n");
}
END_TEST

START_TEST(overlong_line_is_not_echoed)
{
    char text[PTC_REC_LINE_MAX + 64];
    memset(text, 'a', sizeof text - 2);
    text[sizeof text - 2] = '\n';
    text[sizeof text - 1] = '\0';
    line L;
    parse(&L, text);
    ck_assert_int_eq(L.rc, -1);
    ck_assert_ptr_nonnull(strstr(L.out, "[line-too-long]"));
    ck_assert_ptr_null(strstr(L.out, "aaaaaaaaaaaaaaaaaaaa"));   /* nothing of it shown */
    done(&L);
}
END_TEST

START_TEST(control_bytes_in_password_never_shown)
{
    line L;
    parse(&L, "snom 000b82112233 201 pa\033ss\n");
    ck_assert_int_eq(L.rc, -1);
    ck_assert_ptr_nonnull(strstr(L.out, "control character in the password [bad-password]"));
    ck_assert_ptr_nonnull(strstr(L.out, "    snom 000b82112233 201 *****\n"));
    done(&L);
}
END_TEST

/* ---- the MAC grammar ------------------------------------------------------------ */

START_TEST(mac_forms)
{
    char hex[13];
    ck_assert_int_eq(ptc_mac_parse("00:0B:82:11:22:33", 17, PTC_MAC_LIST, hex), 0);
    ck_assert_str_eq(hex, "000B82112233");
    ck_assert_int_eq(ptc_mac_parse("00-0b-82-11-22-33", 17, PTC_MAC_LIST, hex), 0);
    ck_assert_int_eq(ptc_mac_parse("000b82112233", 12, PTC_MAC_LIST, hex), 0);
    /* One separator throughout; six pairs; hex digits only. */
    ck_assert_int_eq(ptc_mac_parse("00:0b-82:11:22:33", 17, PTC_MAC_LIST, hex), -1);
    ck_assert_int_eq(ptc_mac_parse("00:0b:82:11:22:3g", 17, PTC_MAC_LIST, hex), -1);
    ck_assert_int_eq(ptc_mac_parse("000b8211223", 11, PTC_MAC_LIST, hex), -1);
    /* Cisco's quads only where asked for (not in a phone list). */
    ck_assert_int_eq(ptc_mac_parse("000b.8211.2233", 14, PTC_MAC_LIST, hex), -1);
    ck_assert_int_eq(ptc_mac_parse("000b.8211.2233", 14, PTC_MAC_DOTTED, hex), 0);
    ck_assert_str_eq(hex, "000b82112233");
}
END_TEST

START_TEST(mac_norm_and_value)
{
    char mac[13];
    ck_assert_int_eq(ptc_mac_norm("00:0B:82:11:22:33", mac), 1);
    ck_assert_str_eq(mac, "000b82112233");
    ck_assert_int_eq(ptc_mac_norm("000B.8211.2233", mac), 1);
    ck_assert_str_eq(mac, "000b82112233");
    ck_assert_int_eq(ptc_mac_norm("0:b:82:11:22:33", mac), 0);
    ck_assert_int_eq(ptc_mac_norm(NULL, mac), 0);
    ck_assert_uint_eq(ptc_mac_value("000B82112233"), 0x000b82112233ull);
    ck_assert_uint_eq(ptc_mac_value("ffffffffffff"), 0xffffffffffffull);
}
END_TEST

START_TEST(mac_in_free_text)
{
    char mac[13];
    ck_assert_int_eq(ptc_mac_find("Yealink SIP-T46S 66.86.0.15 00:15:65:4a:a9:37", mac), 1);
    ck_assert_str_eq(mac, "0015654aa937");
    ck_assert_int_eq(ptc_mac_find("Aastra6757i MAC:00-08-5D-23-74-29 V:3.3.1", mac), 1);
    ck_assert_str_eq(mac, "00085d237429");
    ck_assert_int_eq(ptc_mac_find("Grandstream GXP2170 DevId 000b828aa872", mac), 1);
    ck_assert_str_eq(mac, "000b828aa872");
    /* Twelve digits inside a longer word are not a MAC. */
    ck_assert_int_eq(ptc_mac_find("serial x000b828aa872 and 000b828aa8721", mac), 0);
    ck_assert_int_eq(ptc_mac_find(NULL, mac), 0);
}
END_TEST

static Suite *records_suite(void)
{
    Suite *s = suite_create("records");
    TCase *tc = tcase_create("meaning");
    tcase_add_test(tc, five_fields);
    tcase_add_test(tc, several_lines_of_one_phone);
    tcase_add_test(tc, missing_password_is_flagged_not_reported);
    tcase_add_test(tc, comments_blank_lines_and_crlf);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, bad_mac_is_shown_masked);
    tcase_add_test(tc, too_few_fields);
    tcase_add_test(tc, bad_extension_and_template);
    tcase_add_test(tc, seven_lines_is_too_many);
    tcase_add_test(tc, trailing_comment_field);
    tcase_add_test(tc, overlong_line_is_not_echoed);
    tcase_add_test(tc, control_bytes_in_password_never_shown);
    suite_add_tcase(s, tc);
    tc = tcase_create("mac");
    tcase_add_test(tc, mac_forms);
    tcase_add_test(tc, mac_norm_and_value);
    tcase_add_test(tc, mac_in_free_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(records_suite());
}
