/* ptc lint: the phone list checks (docs/lint.md).
 *
 * Every line goes through ptc_rec_parse, every phone through
 * ptc_phone_bind and the checks of ptc_plan, exactly as in `ptc run`, so
 * the errors run would stop at are reported here too, word for word.  On
 * top of that: duplicate extensions, line counts that do not fit the
 * template, values that would break an XML provisioning file.
 */
#include "ptc/lint.h"
#include "ptc/buf.h"
#include "ptc/map.h"
#include "ptc/phone.h"
#include "ptc/plan.h"
#include "ptc/rec.h"
#include "ptc/templates.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lst {
    ptc_lint *L;
    ptc_src *src;
    ptc_tmpls tmpls;            /* the names of this list; user: its ptc_lint_tmpl */
    ptc_plan plan;              /* run's checks, word for word */
    ptc_phone ph;
    ptc_phone_env env;
} lst;

/* ---- templates ------------------------------------------------------------ */

/* Resolves a template name once per list; a file already linted (named on
 * the command line, or by an earlier list) is not linted again. */
static ptc_tmpl *resolve(lst *S, const char *name, size_t len)
{
    ptc_tmpl *e = ptc_tmpls_get(&S->tmpls, name, len);
    if (e->looked || e->err) return e;
    e->looked = 1;
    char real[PATH_MAX];
    int have_real = realpath(e->path, real) != NULL;
    if (have_real && (e->user = ptc_lint_find(S->L, real))) return e;
    ptc_src *src = ptc_src_load(e->path, NULL);
    if (!src) { e->err = errno; return e; }
    e->user = ptc_lint_template(S->L, src, e->name, have_real ? real : NULL);
    return e;
}

/* ---- per phone ---------------------------------------------------------- */

static void check_lines_used(lst *S, const ptc_rec *r, const ptc_lint_tmpl *t)
{
    unsigned used = t->lines_used, given = r->multi ? r->nexts : 1;
    if (used > given) {
        ptc_buf which = PTC_BUF_INIT;
        if (used - given == 1) ptc_buf_printf(&which, "line %u repeats", used);
        else ptc_buf_printf(&which, "lines %u to %u repeat", given + 1, used);
        ptc_diag_at(&S->L->checks, S->src, r->extf.off, PTC_WARNING, "fewer-lines",
                    "template \"%s\" uses %u lines but this phone gives %u extension%s: "
                    "%s line 1's extension and account",
                    t->name, used, given, given == 1 ? "" : "s", ptc_buf_cstr(&which));
        ptc_buf_free(&which);
        return;
    }
    unsigned keep = used ? used : 1;
    if (given <= keep) return;
    ptc_buf which = PTC_BUF_INIT;
    if (given - keep == 1) ptc_buf_printf(&which, "extension %u %s", given, S->ph.sql_enable ? "goes" : "is");
    else ptc_buf_printf(&which, "extensions %u to %u %s", keep + 1, given, S->ph.sql_enable ? "go" : "are");
    char uses[32];
    if (used) snprintf(uses, sizeof uses, "%u line%s", used, used == 1 ? "" : "s");
    else snprintf(uses, sizeof uses, "no line variable");
    ptc_diag_at(&S->L->checks, S->src, r->ext[keep].off, PTC_WARNING, "extra-lines",
                "this phone gives %u extensions but template \"%s\" uses %s: %s %s",
                given, t->name, uses, ptc_buf_cstr(&which),
                S->ph.sql_enable ? "only into the phoneprov table" : "not used");
    ptc_buf_free(&which);
}

static void check_outputs(lst *S, const ptc_rec *r, const ptc_lint_tmpl *t)
{
    for (int ctx = PTC_CTX_GENERAL + 1; ctx < PTC_CTX_COUNT; ctx++) {
        const char *path;
        size_t file;
        if (ptc_prog_has(t->prog, ctx))
            ptc_plan_output(&S->plan, r, &S->ph, &S->env, ctx, &path, &file);
    }
}

/* Values that would break an XML provisioning file (see check_xml). */
static void check_xml_values(lst *S, const ptc_rec *r, const ptc_lint_tmpl *t)
{
    const ptc_vm_rec *v = &S->ph.rec;
    int cid = 0, pass = 0, acct = 0;
    for (int s = 0; s < PTC_SLOT_COUNT; s++) {
        if (!(t->xml_slots >> s & 1)) continue;
        if (!memchr(v->v[s], '&', v->n[s]) && !memchr(v->v[s], '<', v->n[s])) continue;
        if (s >= PTC_SLOT_CID_NAME1 && s < PTC_SLOT_CID_NAME1 + PTC_MAX_LINES) cid = 1;
        else if (s >= PTC_SLOT_PASSWORD1 && s < PTC_SLOT_PASSWORD1 + PTC_MAX_LINES) pass = 1;
        else acct = 1;
    }
    if (cid)
        ptc_diag_at(&S->L->checks, S->src, r->extf.off, PTC_ERROR, "xml-break",
                    "a CallerID name holds `&` or `<`: template \"%s\" puts it into XML unescaped, "
                    "the phone's file would be invalid", t->name);
    if (pass)
        ptc_diag_at(&S->L->checks, S->src, r->passf.off, PTC_ERROR, "xml-break",
                    "the password holds `&` or `<`: template \"%s\" puts it into XML unescaped, "
                    "the phone's file would be invalid", t->name);
    if (acct)
        ptc_diag_at(&S->L->checks, S->src, r->acctf.len ? r->acctf.off : r->extf.off, PTC_ERROR, "xml-break",
                    "the account holds `&` or `<`: template \"%s\" puts it into XML unescaped, "
                    "the phone's file would be invalid", t->name);
}

static void check_phone(lst *S, const ptc_rec *r)
{
    const char *x = S->src->text;
    ptc_tmpl *e = resolve(S, x + r->tmpl.off, r->tmpl.len);
    if (!e->user) {
        ptc_tmpls_report_missing(&S->tmpls, e, S->src, r->tmpl.off, r->line, 1, &S->L->checks);
        return;
    }
    ptc_lint_tmpl *t = e->user;
    if (!t->prog) return;                  /* its errors were reported with the template */
    if (ptc_plan_mac(&S->plan, r) != 0) return;   /* as in run: not planned further */
    ptc_phone_bind(&S->ph, t->prog, S->src, r, &S->env);
    check_lines_used(S, r, t);
    check_outputs(S, r, t);
    ptc_plan_account(&S->plan, r, &S->ph);
    check_xml_values(S, r, t);
}

static void check_line(lst *S, uint32_t off, uint32_t len, unsigned line)
{
    const char *x = S->src->text;
    ptc_rec r;
    int rc = ptc_rec_parse(S->src, off, len, line, &r, S->L->diag);
    /* ptc_rec only flags a password that is exactly `#`; `#note` is just as
     * likely a comment, but it is a valid password, so only a warning. */
    if (r.passf.len > 1 && x[r.passf.off] == '#')
        ptc_diag_at(&S->L->checks, S->src, r.passf.off, PTC_WARNING, "comment-field",
                    "the password field starts with `#`: a trailing comment? comments must start the line");
    if (rc != 0) return;
    ptc_plan_password(&S->plan, &r);
    check_phone(S, &r);
}

void ptc_lint_list(ptc_lint *L, ptc_src *src)
{
    lst S;
    memset(&S, 0, sizeof S);
    S.L = L;
    S.src = src;
    src->redact = ptc_rec_redact;
    S.env.base_dir = L->cfg ? ptc_cfg_base_dir(L->cfg) : PTC_DEFAULT_BASE_DIR;
    S.env.sip_server_ipv4 = "0.0.0.0";
    ptc_phone_init(&S.ph);
    char *dir = L->templates_dir ? ptc_xstrdup(L->templates_dir) : ptc_templates_dir(L->cfg);
    ptc_tmpls_init(&S.tmpls, dir);
    free(dir);
    ptc_plan_init(&S.plan, src, L->diag);
    S.plan.notes = 1;
    uint32_t pos = 0, off, len;
    unsigned line = 0;
    /* Pass 1: the templates, linted first so their findings come before
     * the list's and each list line can rely on them. */
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_rec r;
    while (ptc_rec_next_line(src, &pos, &off, &len, &line)) {
        ptc_rec_parse(src, off, len, line, &r, &quiet);
        if (r.tmpl.len) resolve(&S, src->text + r.tmpl.off, r.tmpl.len);
    }
    /* Pass 2: the phones. */
    pos = 0;
    line = 0;
    while (ptc_rec_next_line(src, &pos, &off, &len, &line)) check_line(&S, off, len, line);
    ptc_tmpls_free(&S.tmpls);
    ptc_plan_free(&S.plan);
    ptc_phone_free(&S.ph);
}
