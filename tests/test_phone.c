/* Binding a phone to its template (src/run/phone.c), as a specification:
 * which value each variable gets, in the original tool's order, and where
 * each output goes. */
#include "testutil.h"
#include "ptc/comp.h"
#include "ptc/phone.h"
#include "ptc/rec.h"

typedef struct bound {
    ptc_src *tsrc, *list;
    ptc_prog *prog;
    ptc_rec r;
    ptc_phone ph;
    ptc_phone_env env;
} bound;

/* Compiles template and binds the first line of list to it. */
static void bind(bound *B, const char *tmpl, const char *list)
{
    memset(B, 0, sizeof *B);
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    B->tsrc = ptc_src_from_mem("t.conf", tmpl, strlen(tmpl));
    B->prog = ptc_comp_source(B->tsrc, &d);
    ck_assert_ptr_nonnull(B->prog);
    B->list = ptc_src_from_mem("m.conf", list, strlen(list));
    uint32_t pos = 0, off, len;
    unsigned n = 0;
    ck_assert_int_eq(ptc_rec_next_line(B->list, &pos, &off, &len, &n), 1);
    ck_assert_int_eq(ptc_rec_parse(B->list, off, len, n, &B->r, &d), 0);
    B->env.base_dir = "/mnt/kd/phoneprov";
    B->env.sip_server_ipv4 = "192.0.2.1";
    ptc_phone_init(&B->ph);
    ptc_phone_bind(&B->ph, B->prog, B->list, &B->r, &B->env);
}

static void unbind(bound *B)
{
    ptc_phone_free(&B->ph);
    ptc_prog_free(B->prog);
    ptc_src_free(B->tsrc);
    ptc_src_free(B->list);
}

static const char *slot(const bound *B, int s)
{
    static char b[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%.*s", (int)B->ph.rec.n[s], B->ph.rec.v[s]);
    return b[k];
}

static const char *output(bound *B, int ctx)
{
    const char *why;
    const char *p = ptc_phone_output_path(&B->ph, ctx, &B->env, &why);
    return p ? p : why;
}

static const char plain[] = "[general]\n[phoneprov]\nx\n[sip]\ny\n[dialplan]\nz\n";

START_TEST(slots_from_the_record)
{
    bound B;
    bind(&B, plain, "t 00:0B:82:aa:bb:cc 201/Front_Desk pw\n");
    ck_assert_str_eq(slot(&B, PTC_SLOT_TEMPLATE), "t");
    ck_assert_str_eq(slot(&B, PTC_SLOT_MAC_ADDR), "00:0B:82:aa:bb:cc");
    ck_assert_str_eq(slot(&B, PTC_SLOT_MAC), "000B82aabbcc");        /* as typed */
    ck_assert_str_eq(slot(&B, PTC_SLOT_MAC4), "bbcc");
    ck_assert_str_eq(slot(&B, PTC_SLOT_MAC6), "aabbcc");
    ck_assert_str_eq(slot(&B, PTC_SLOT_EXT1), "201");
    ck_assert_str_eq(slot(&B, PTC_SLOT_CID_NAME1), "Front Desk");     /* `_` is a space */
    ck_assert_str_eq(slot(&B, PTC_SLOT_CID_NUM1), "201");
    ck_assert_str_eq(slot(&B, PTC_SLOT_PASSWORD1), "pw");
    ck_assert_str_eq(slot(&B, PTC_SLOT_ACCOUNT1), "201");             /* the extension */
    ck_assert_str_eq(slot(&B, PTC_SLOT_SIP_SERVER_IPV4), "192.0.2.1");
    /* No model= or vendor=: the template's name stands for both. */
    ck_assert_str_eq(slot(&B, PTC_SLOT_MODEL), "t");
    ck_assert_str_eq(slot(&B, PTC_SLOT_VENDOR), "t");
    ck_assert_int_eq(B.ph.sql_enable, 1);
    ck_assert_str_eq(B.ph.sip_driver, "sip");
    unbind(&B);
}
END_TEST

START_TEST(callerid_number_in_angle_brackets)
{
    bound B;
    bind(&B, plain, "t 000b82aabbcc 201/Boss_<5551234> pw\n");
    ck_assert_str_eq(slot(&B, PTC_SLOT_CID_NAME1), "Boss");
    ck_assert_str_eq(slot(&B, PTC_SLOT_CID_NUM1), "5551234");
    unbind(&B);
    bind(&B, plain, "t 000b82aabbcc 201/<5551234> pw\n");
    ck_assert_str_eq(slot(&B, PTC_SLOT_CID_NAME1), "201");            /* no name: the extension */
    ck_assert_str_eq(slot(&B, PTC_SLOT_CID_NUM1), "5551234");
    unbind(&B);
}
END_TEST

START_TEST(later_lines_default_to_the_first)
{
    bound B;
    bind(&B, plain, "t 000b82aabbcc 201;202/Desk pw acct1\n");
    ck_assert_str_eq(slot(&B, PTC_SLOT_EXT1 + 1), "202");
    ck_assert_str_eq(slot(&B, PTC_SLOT_CID_NAME1 + 1), "Desk");
    ck_assert_str_eq(slot(&B, PTC_SLOT_PASSWORD1 + 1), "pw");         /* one password for all */
    ck_assert_str_eq(slot(&B, PTC_SLOT_ACCOUNT1), "acct1");
    ck_assert_str_eq(slot(&B, PTC_SLOT_ACCOUNT1 + 1), "202");         /* not given: derived */
    ck_assert_str_eq(slot(&B, PTC_SLOT_EXT1 + 2), "201");             /* lines not given repeat line 1 */
    ck_assert_int_eq(ptc_phone_line_is_distinct(&B.ph, 0), 1);
    ck_assert_int_eq(ptc_phone_line_is_distinct(&B.ph, 1), 1);
    ck_assert_int_eq(ptc_phone_line_is_distinct(&B.ph, 2), 0);
    unbind(&B);
}
END_TEST

START_TEST(general_in_the_original_order)
{
    /* macaddress_case first, so model= sees @MAC@ in that case; vendor=
     * may use @MODEL@; the accounts come last, from prefix and suffix. */
    bound B;
    bind(&B, "[general]\nmacaddress_case=upper\nmodel=m-@MAC4@\nvendor=v-@MODEL@\n"
             "auto_account_prefix=Ab\nauto_account_case=lower\nsql_enable=No\nsip_driver=PJSIP\n"
             "[phoneprov]\nx\n",
         "t 000b82aabbcc 201 pw\n");
    ck_assert_str_eq(slot(&B, PTC_SLOT_MAC), "000B82AABBCC");
    ck_assert_str_eq(slot(&B, PTC_SLOT_MODEL), "m-BBCC");
    ck_assert_str_eq(slot(&B, PTC_SLOT_VENDOR), "v-m-BBCC");
    ck_assert_str_eq(slot(&B, PTC_SLOT_ACCOUNT1), "ab201");
    ck_assert_int_eq(B.ph.sql_enable, 0);
    ck_assert_str_eq(B.ph.sip_driver, "pjsip");
    unbind(&B);
}
END_TEST

START_TEST(a_guarded_value_for_one_phone)
{
    bound B;
    bind(&B, "[general]\nprov_file=@MAC@.cfg\n#<201>prov_file=boss.cfg\n[phoneprov]\nx\n",
         "t 000b82aabbcc 201 pw\n");
    ck_assert_str_eq(output(&B, PTC_CTX_PHONEPROV), "/mnt/kd/phoneprov/t/boss.cfg");
    unbind(&B);
    bind(&B, "[general]\nprov_file=@MAC@.cfg\n#<201>prov_file=boss.cfg\n[phoneprov]\nx\n",
         "t 000b82aabbcc 202 pw\n");
    ck_assert_str_eq(output(&B, PTC_CTX_PHONEPROV), "/mnt/kd/phoneprov/t/000b82aabbcc.cfg");
    unbind(&B);
}
END_TEST

START_TEST(default_outputs)
{
    bound B;
    bind(&B, plain, "t 000b82aabbcc 201 pw\n");
    ck_assert_str_eq(output(&B, PTC_CTX_PHONEPROV), "/mnt/kd/phoneprov/t/000b82aabbcc.cfg");
    ck_assert_str_eq(output(&B, PTC_CTX_SIP), "/mnt/kd/asterisk/includes/astlinux-phoneprov-sip.conf");
    ck_assert_str_eq(output(&B, PTC_CTX_PJSIP), "/mnt/kd/asterisk/includes/astlinux-phoneprov-pjsip.conf");
    ck_assert_str_eq(output(&B, PTC_CTX_DIALPLAN1), "/mnt/kd/asterisk/includes/astlinux-phoneprov-exten.conf");
    ck_assert_str_eq(output(&B, PTC_CTX_DIALPLAN1 + 2), "/mnt/kd/asterisk/includes/astlinux-phoneprov-exten3.conf");
    ck_assert_str_eq(ptc_phone_dialplan_context(&B.ph, PTC_CTX_DIALPLAN1, &B.env), "");
    unbind(&B);
}
END_TEST

START_TEST(phone_data_never_chooses_a_directory)
{
    bound B;
    bind(&B, "[general]\nprov_file=@CID_NAME@.cfg\n[phoneprov]\nx\n", "t 000b82aabbcc 201/a/../../etc pw\n");
    ck_assert_str_eq(output(&B, PTC_CTX_PHONEPROV), "a `/` from phone data would choose the directory");
    unbind(&B);
    bind(&B, "[general]\nvendor=@CID_NAME@\n[phoneprov]\nx\n", "t 000b82aabbcc 201/x/y pw\n");
    ck_assert_str_eq(output(&B, PTC_CTX_PHONEPROV),
                     "a `/` from phone data in the vendor would choose the directory");
    unbind(&B);
    bind(&B, "[general]\nprov_path=/srv/../etc\n[phoneprov]\nx\n", "t 000b82aabbcc 201 pw\n");
    ck_assert_str_eq(output(&B, PTC_CTX_PHONEPROV), "a `..` in the path");
    unbind(&B);
}
END_TEST

START_TEST(rebinding_reuses_the_phone)
{
    /* One ptc_phone serves every line of a list: nothing of the previous
     * phone may remain. */
    bound B;
    bind(&B, "[general]\n#<201>model=boss\n[phoneprov]\nx\n", "t 000b82aabbcc 201;202 pw\n");
    ck_assert_str_eq(slot(&B, PTC_SLOT_MODEL), "boss");
    ptc_src *other = ptc_src_from_mem("m2.conf", "t 000b82aabbcd 301 pw2\n", 23);
    ptc_rec r2;
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    ck_assert_int_eq(ptc_rec_parse(other, 0, 22, 1, &r2, &d), 0);
    ptc_phone_bind(&B.ph, B.prog, other, &r2, &B.env);
    ck_assert_str_eq(slot(&B, PTC_SLOT_MODEL), "t");
    ck_assert_str_eq(slot(&B, PTC_SLOT_EXT1 + 1), "301");
    ck_assert_str_eq(slot(&B, PTC_SLOT_PASSWORD1), "pw2");
    ptc_src_free(other);
    unbind(&B);
}
END_TEST

static Suite *phone_suite(void)
{
    Suite *s = suite_create("phone");
    TCase *tc = tcase_create("slots");
    tcase_add_test(tc, slots_from_the_record);
    tcase_add_test(tc, callerid_number_in_angle_brackets);
    tcase_add_test(tc, later_lines_default_to_the_first);
    tcase_add_test(tc, rebinding_reuses_the_phone);
    suite_add_tcase(s, tc);
    tc = tcase_create("general");
    tcase_add_test(tc, general_in_the_original_order);
    tcase_add_test(tc, a_guarded_value_for_one_phone);
    suite_add_tcase(s, tc);
    tc = tcase_create("outputs");
    tcase_add_test(tc, default_outputs);
    tcase_add_test(tc, phone_data_never_chooses_a_directory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(phone_suite());
}
