/* Phones as phone-list lines, CSV and JSON, and the merge of an import into
 * a phone list (include/ptc/import.h). */
#include "ptc/import.h"
#include "ptc/listedit.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

/* ---- one phone-list line ------------------------------------------------------ */

/* Appends piece to out, noting which column it is when col is asked for. */
typedef struct liner {
    ptc_buf *out;
    uint32_t want;              /* a column offset to name, or UINT32_MAX */
    char *name;
    size_t n;
} liner;

static void piece(liner *L, const char *text, const char *col, int line)
{
    size_t from = L->out->len;
    ptc_buf_puts(L->out, text);
    if (L->want != UINT32_MAX && L->want >= from && L->want < L->out->len && L->name) {
        if (line) snprintf(L->name, L->n, "%s%d", col, line);
        else snprintf(L->name, L->n, "%s", col);
    }
}

static unsigned used(char *const *v)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PTC_MAX_LINES; i++) if (v[i][0]) n = i + 1;
    return n;
}

static void line_into(const ptc_ie_phone *p, int without_passwords, liner *L)
{
    if (!p->enabled) piece(L, PTC_LIST_DISABLED, "enabled", 0);
    piece(L, p->tmpl, "template", 0);
    piece(L, " ", "template", 0);
    piece(L, p->mac_text, "mac", 0);
    piece(L, " ", "mac", 0);
    for (unsigned i = 0; i < p->nlines; i++) {
        if (i) piece(L, ";", "ext", (int)i);
        piece(L, p->ext[i], "ext", (int)i + 1);
        if (!p->cid_name[i][0] && !p->cid_num[i][0]) continue;
        piece(L, "/", "cid_name", (int)i + 1);
        char *name = ptc_xstrdup(p->cid_name[i]);
        for (char *c = name; *c; c++) if (*c == ' ') *c = '_';
        piece(L, name, "cid_name", (int)i + 1);
        free(name);
        if (!p->cid_num[i][0]) continue;
        piece(L, "<", "cid_num", (int)i + 1);
        piece(L, p->cid_num[i], "cid_num", (int)i + 1);
        piece(L, ">", "cid_num", (int)i + 1);
    }
    unsigned np = without_passwords ? 0 : used(p->password), na = used(p->account);
    if (np || na) piece(L, " ", "password", 1);
    for (unsigned i = 0; i < np; i++) {
        if (i) piece(L, ";", "password", (int)i + 1);
        piece(L, p->password[i], "password", (int)i + 1);
    }
    /* An account needs a password field before it: an empty one would end
     * the line early, so a phone without passwords gets none either. */
    if (na && np) piece(L, " ", "account", 1);
    for (unsigned i = 0; np && i < na; i++) {
        if (i) piece(L, ";", "account", (int)i + 1);
        piece(L, p->account[i], "account", (int)i + 1);
    }
}

void ptc_ie_line(const ptc_ie_phone *p, int without_passwords, ptc_buf *out)
{
    liner L = {out, UINT32_MAX, NULL, 0};
    line_into(p, without_passwords, &L);
}

void ptc_ie_column_at(const ptc_ie_phone *p, uint32_t col, char *name, size_t n)
{
    ptc_buf b = PTC_BUF_INIT;
    snprintf(name, n, "%s", "mac");
    liner L = {&b, col, name, n};
    line_into(p, 0, &L);
    ptc_buf_free(&b);
}

/* ---- CSV and JSON ---------------------------------------------------------------- */

static void csv_cell(FILE *f, const char *s, int first)
{
    if (!first) fputc(',', f);
    size_t n = strlen(s);
    int quote = n && (strpbrk(s, ",\"\r\n") || s[0] == ' ' || s[n - 1] == ' ');
    if (quote) csv_fwrite(f, s, n);
    else fputs(s, f);
}

static void write_csv(const ptc_ie_set *s, int with_passwords, FILE *f)
{
    static const char *const per[] = {"ext", "cid_name", "cid_num"};
    fputs("template,mac", f);
    for (int i = 1; i <= PTC_MAX_LINES; i++)
        for (int k = 0; k < 3; k++) fprintf(f, ",%s%d", per[k], i);
    for (int i = 1; with_passwords && i <= PTC_MAX_LINES; i++) fprintf(f, ",password%d", i);
    for (int i = 1; i <= PTC_MAX_LINES; i++) fprintf(f, ",account%d", i);
    fputs(",enabled\r\n", f);
    for (size_t n = 0; n < s->n; n++) {
        const ptc_ie_phone *p = &s->v[n];
        csv_cell(f, p->tmpl, 1);
        csv_cell(f, p->mac_text, 0);
        for (unsigned i = 0; i < PTC_MAX_LINES; i++) {
            int on = i < p->nlines;
            csv_cell(f, on ? p->ext[i] : "", 0);
            csv_cell(f, on ? p->cid_name[i] : "", 0);
            csv_cell(f, on ? p->cid_num[i] : "", 0);
        }
        for (unsigned i = 0; with_passwords && i < PTC_MAX_LINES; i++) csv_cell(f, p->password[i], 0);
        for (unsigned i = 0; i < PTC_MAX_LINES; i++) csv_cell(f, p->account[i], 0);
        fputs(p->enabled ? ",1\r\n" : ",0\r\n", f);
    }
}

static void json_str(FILE *f, const char *s)
{
    ptc_json_fput(f, s, strlen(s));
}

static void write_json(const ptc_ie_set *s, int with_passwords, FILE *f)
{
    fputs("[", f);
    for (size_t n = 0; n < s->n; n++) {
        const ptc_ie_phone *p = &s->v[n];
        fputs(n ? ",\n  {\"template\": " : "\n  {\"template\": ", f);
        json_str(f, p->tmpl);
        fputs(", \"mac\": ", f);
        json_str(f, p->mac_text);
        fprintf(f, ", \"enabled\": %s, \"lines\": [", p->enabled ? "true" : "false");
        for (unsigned i = 0; i < p->nlines; i++) {
            fputs(i ? ", {\"ext\": " : "{\"ext\": ", f);
            json_str(f, p->ext[i]);
            fputs(", \"cid_name\": ", f); json_str(f, p->cid_name[i]);
            fputs(", \"cid_num\": ", f); json_str(f, p->cid_num[i]);
            fputs(", \"account\": ", f); json_str(f, p->account[i]);
            if (with_passwords) { fputs(", \"password\": ", f); json_str(f, p->password[i]); }
            fputs("}", f);
        }
        fputs("]}", f);
    }
    fputs(s->n ? "\n]\n" : "]\n", f);
}

void ptc_ie_write(const ptc_ie_set *s, int fmt, int with_passwords, FILE *f)
{
    if (fmt == PTC_IE_CSV) { write_csv(s, with_passwords, f); return; }
    if (fmt == PTC_IE_JSON) { write_json(s, with_passwords, f); return; }
    ptc_buf b = PTC_BUF_INIT;
    for (size_t n = 0; n < s->n; n++) {
        ptc_buf_reset(&b);
        ptc_ie_line(&s->v[n], !with_passwords, &b);
        fprintf(f, "%s\n", ptc_buf_cstr(&b));
    }
    ptc_buf_free(&b);
}

/* ---- merging ------------------------------------------------------------------- */

void ptc_ie_result_free(ptc_ie_result *r)
{
    if (!r) return;
    ptc_buf_free(&r->text);
    free(r->from);
    memset(r, 0, sizeof *r);
}

static ptc_ie_phone *by_mac(ptc_ie_set *s, const char *mac)
{
    for (size_t i = 0; mac[0] && i < s->n; i++)
        if (strcmp(s->v[i].mac, mac) == 0) return &s->v[i];
    return NULL;
}

/* Empty passwords: the old phone's, or new ones (as -a). */
static void fill_passwords(ptc_ie_phone *p, const ptc_ie_phone *old, unsigned *generated)
{
    if (old && (!p->has_passwords || !p->password[0][0])) {
        for (int i = 0; i < PTC_MAX_LINES; i++) ptc_ie_set_str(&p->password[i], old->password[i]);
    }
    if (!p->password[0][0]) {
        char pw[17];
        ptc_list_password(pw);
        ptc_ie_set_str(&p->password[0], pw);
        (*generated)++;
    }
}

static void emit_line(ptc_ie_result *res, const char *s, size_t n, const ptc_ie_phone *from)
{
    ptc_buf_put(&res->text, s, n);
    ptc_buf_putc(&res->text, '\n');
    res->from = ptc_xrealloc(res->from, (res->nfrom + 2) * sizeof *res->from);
    res->from[++res->nfrom] = from;
}

static void note(FILE *report, const char *what, const ptc_ie_phone *p)
{
    if (report) fprintf(report, "%s %s (%s)\n", what, p->mac_text, p->tmpl);
}

void ptc_ie_merge(const ptc_src *list, const ptc_ie_set *old, ptc_ie_set *in, int mode,
                  ptc_ie_result *res, FILE *report)
{
    memset(res, 0, sizeof *res);
    res->from = ptc_xcalloc(1, sizeof *res->from);
    char *done = ptc_xcalloc(in->n + 1, 1);
    ptc_buf a = PTC_BUF_INIT, b = PTC_BUF_INIT;
    size_t k = 0;                       /* old phones are in line order */
    const char *t = list->text;
    for (uint32_t pos = 0, line = 1; pos < list->len; line++) {
        uint32_t end = pos;
        while (end < list->len && t[end] != '\n') end++;
        const ptc_ie_phone *o = k < old->n && old->v[k].line == line ? &old->v[k++] : NULL;
        ptc_ie_phone *p = o ? by_mac(in, o->mac) : NULL;
        if (!o || (!p && mode == PTC_IE_MERGE)) {
            emit_line(res, t + pos, end - pos, NULL);       /* comment, blank, kept phone */
        } else if (!p) {
            res->removed++;
            note(report, "remove", o);
        } else {
            done[p - in->v] = 1;
            fill_passwords(p, o, &res->passwords);
            ptc_buf_reset(&a); ptc_buf_reset(&b);
            ptc_ie_line(o, 0, &a);
            ptc_ie_line(p, 0, &b);
            int same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
            if (same) { res->unchanged++; emit_line(res, t + pos, end - pos, NULL); }
            else { res->changed++; note(report, "change", p); emit_line(res, b.data, b.len, p); }
        }
        pos = end < list->len ? end + 1 : end;
    }
    for (size_t i = 0; i < in->n; i++) {
        if (done[i]) continue;
        fill_passwords(&in->v[i], NULL, &res->passwords);
        ptc_buf_reset(&b);
        ptc_ie_line(&in->v[i], 0, &b);
        res->added++;
        note(report, "add", &in->v[i]);
        emit_line(res, b.data, b.len, &in->v[i]);
    }
    ptc_buf_free(&a);
    ptc_buf_free(&b);
    free(done);
}
