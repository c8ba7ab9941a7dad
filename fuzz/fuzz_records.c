/* Fuzz target: the phone list reader (ptc_rec_next_line + ptc_rec_parse).
 *
 * Input: a phone list.  Every line is checked with diagnostics printed
 * (through the password redactor); spans must lie inside the line, the MAC
 * must be normalised, and every usable record is bound to a fixed template
 * that uses every variable, and run through every context.  Redaction must
 * mask the password field and nothing else.
 */
#include "common.h"

static const char fixed_template[] =
    "menu_name=fuzz\n"
    "[general]\n"
    "vendor=@MODEL@\nmodel=m@EXT@\nprov_path=/mnt/kd/phoneprov/v\n"
    "prov_file=@CID_NAME@-@ACCOUNT@.cfg\n"
    "auto_account_prefix=p\nauto_account_suffix=_@MAC4@\nauto_account_case=upper\n"
    "macaddress_case=upper\ndialplan_context=ctx-@EXT2@\nsql_enable=yes\n"
    "[dialplan]\nexten => @EXT@,1,Dial(SIP/@ACCOUNT@)\n#<201>only 201\n#<!202!203!>not 202/3\n"
    "[sip]\n\\[@ACCOUNT@]\nsecret=@PASSWORD@\ncallerid=\"@CID_NAME@\" <@CID_NUM@>\n"
    "[pjsip]\n@EXT2@ @EXT3@ @EXT4@ @EXT5@ @EXT6@ @CID_NAME6@ @CID_NUM6@ @PASSWORD6@ @ACCOUNT6@\n"
    "[phoneprov]\n@MAC@ @MAC4@ @MAC6@ @MAC_ADDR@ @TEMPLATE@ @VENDOR@ @MODEL@ @SIP_SERVER_IPV4@\n"
    "@USERNAME@ @USERNAME2@ @CID_NAME2@ @CID_NUM3@ @PASSWORD2@\n";

static ptc_prog *fixed_prog(void)
{
    static ptc_prog *p;
    if (p) return p;
    ptc_src *src = ptc_src_from_mem("fixed.conf", fixed_template, sizeof fixed_template - 1);
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    p = ptc_comp_source(src, &d);
    ptc_src_free(src);
    if (!p) fuzz_fail("the fixed template must compile");
    return p;
}

static int has_ctl(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 1;
    return 0;
}

static int in_line(ptc_span s, uint32_t off, uint32_t len)
{
    return s.off >= off && s.len <= len && s.off - off <= len - s.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ptc_prog *p = fixed_prog();
    ptc_src *src = ptc_src_from_mem("massdeployment.conf", (const char *)data, size);
    src->redact = ptc_rec_redact;
    ptc_diag d;
    fuzz_diag(&d, data, size);
    uint32_t pos = 0, off, len;
    unsigned line = 0, prev_line = 0, n = 0;
    ptc_rec r;
    while (ptc_rec_next_line(src, &pos, &off, &len, &line)) {
        if (line <= prev_line || off + len > src->len || pos > src->len) fuzz_fail("line bounds");
        prev_line = line;
        int rc = ptc_rec_parse(src, off, len, line, &r, &d);
        if (rc == 0 && len <= 4096) {
            char *red = malloc(len + 1);
            ptc_rec_redact(src->text + off, len, red);
            for (uint32_t i = 0; i < len; i++) {
                char c = src->text[off + i];
                int in_pw = r.passf.len && off + i >= r.passf.off && off + i < r.passf.off + r.passf.len;
                if (in_pw ? red[i] != '*' : red[i] != c) fuzz_fail("redaction masks the wrong bytes");
            }
            free(red);
        }
        if (rc != 0) continue;
        ptc_span all[] = { r.tmpl, r.macf, r.extf, r.passf, r.acctf };
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            if (all[i].len && !in_line(all[i], off, len)) fuzz_fail("field outside its line");
        if (r.nexts < 1 || r.nexts > PTC_MAX_LINES) fuzz_fail("extension count");
        for (unsigned i = 0; i < r.nexts; i++)
            if (!in_line(r.ext[i], off, len) || !in_line(r.cid[i], off, len)) fuzz_fail("extension outside its line");
        if (strlen(r.mac) != 12 || strlen(r.mac_addr) != 17) fuzz_fail("MAC not normalised");
        if (len > PTC_REC_LINE_MAX) fuzz_fail("an over-long line accepted");
        /* What reaches file names, config files and the table carries no
         * control byte (a NUL would cut a path short). */
        if (has_ctl(src->text + r.tmpl.off, r.tmpl.len)) fuzz_fail("control byte in a template name");
        if (has_ctl(src->text + r.passf.off, r.passf.len)) fuzz_fail("control byte in a password");
        if (has_ctl(src->text + r.acctf.off, r.acctf.len)) fuzz_fail("control byte in an account");
        for (unsigned i = 0; i < r.nexts; i++)
            if (has_ctl(src->text + r.ext[i].off, r.ext[i].len) || has_ctl(src->text + r.cid[i].off, r.cid[i].len))
                fuzz_fail("control byte in an extension or CallerID");
        if (++n <= 64) fuzz_run_phone(p, src, &r);  /* bounded: long lists stay fast */
    }
    ptc_diag_finish(&d);
    ptc_src_free(src);
    return 0;
}
