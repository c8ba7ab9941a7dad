/* Phone lists to and from CSV and JSON (include/ptc/import.h). */
#include "ptc/import.h"
#include "ptc/listedit.h"
#include "ptc/rec.h"
#include "ptc/serve.h"

#include <csv.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The empty field every phone starts with, shared and never freed: a list
 * of 100,000 phones would otherwise cost three million allocations of "". */
static char no_text[1];

static void str_free(char *s)
{
    if (s != no_text) free(s);
}

static void phone_init(ptc_ie_phone *p)
{
    memset(p, 0, sizeof *p);
    p->tmpl = p->mac_text = no_text;
    for (int i = 0; i < PTC_MAX_LINES; i++)
        p->ext[i] = p->cid_name[i] = p->cid_num[i] = p->password[i] = p->account[i] = no_text;
    p->nlines = 1;
    p->enabled = 1;
}

static void phone_free(ptc_ie_phone *p)
{
    str_free(p->tmpl);
    str_free(p->mac_text);
    for (int i = 0; i < PTC_MAX_LINES; i++) {
        str_free(p->ext[i]); str_free(p->cid_name[i]); str_free(p->cid_num[i]);
        if (p->password[i] != no_text) explicit_bzero(p->password[i], strlen(p->password[i]));
        str_free(p->password[i]); str_free(p->account[i]);
    }
}

void ptc_ie_set_free(ptc_ie_set *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) phone_free(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static ptc_ie_phone *set_add(ptc_ie_set *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = ptc_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    ptc_ie_phone *p = &s->v[s->n++];
    phone_init(p);
    return p;
}

static void set_str(char **dst, const char *s, size_t n)
{
    str_free(*dst);
    *dst = ptc_xstrndup(s, n);
}

ptc_ie_phone *ptc_ie_set_add(ptc_ie_set *s)
{
    return set_add(s);
}

void ptc_ie_set_str(char **dst, const char *s)
{
    set_str(dst, s, strlen(s));
}

/* ---- reading a phone list ------------------------------------------------ */

/* The entries of a `;` list, into v (at most PTC_MAX_LINES). */
static unsigned split_semis(const char *s, size_t n, char **v)
{
    unsigned k = 0;
    size_t from = 0;
    for (size_t i = 0; i <= n && k < PTC_MAX_LINES; i++)
        if (i == n || s[i] == ';') {
            set_str(&v[k++], s + from, i - from);
            from = i + 1;
        }
    return k;
}

/* A CallerID as the list writes it: Name_With_Underscores<number>. */
static void split_cid(ptc_ie_phone *p, int i, const char *s, size_t n)
{
    const char *lt = memchr(s, '<', n);
    size_t nn = lt ? (size_t)(lt - s) : n;
    char *name = ptc_xstrndup(s, nn);
    for (char *c = name; *c; c++) if (*c == '_') *c = ' ';
    str_free(p->cid_name[i]);
    p->cid_name[i] = name;
    if (lt) {
        const char *gt = memchr(lt, '>', n - nn);
        set_str(&p->cid_num[i], lt + 1, gt ? (size_t)(gt - lt - 1) : n - nn - 1);
    }
}

static void from_rec(ptc_ie_phone *p, const ptc_src *src, const ptc_rec *r)
{
    const char *t = src->text;
    set_str(&p->tmpl, t + r->tmpl.off, r->tmpl.len);
    set_str(&p->mac_text, t + r->macf.off, r->macf.len);
    for (int i = 0; i < 12; i++) p->mac[i] = (char)tolower((unsigned char)r->mac[i]);
    p->mac[12] = '\0';
    p->nlines = r->nexts ? r->nexts : 1;
    for (unsigned i = 0; i < r->nexts; i++) {
        set_str(&p->ext[i], t + r->ext[i].off, r->ext[i].len);
        if (r->has_cid[i]) split_cid(p, (int)i, t + r->cid[i].off, r->cid[i].len);
    }
    if (r->passf.len) split_semis(t + r->passf.off, r->passf.len, p->password);
    if (r->acctf.len) split_semis(t + r->acctf.off, r->acctf.len, p->account);
    p->has_passwords = 1;
}

int ptc_ie_read_list(ptc_src *src, ptc_ie_set *out, ptc_diag *diag)
{
    const char *t = src->text;
    const size_t plen = sizeof PTC_LIST_DISABLED - 1;
    unsigned line = 0;
    int bad = 0;
    for (uint32_t pos = 0; pos < src->len;) {
        uint32_t off = pos, end = pos;
        while (end < src->len && t[end] != '\n') end++;
        pos = end < src->len ? end + 1 : end;
        line++;
        uint32_t len = end - off;
        if (len && t[off + len - 1] == '\r') len--;
        int disabled = len > plen && memcmp(t + off, PTC_LIST_DISABLED, plen) == 0;
        uint32_t s = disabled ? off + (uint32_t)plen : off;
        while (s < off + len && (t[s] == ' ' || t[s] == '\t')) s++;
        if (s == off + len || (!disabled && t[s] == '#')) continue;
        ptc_rec r;
        if (ptc_rec_parse(src, s, off + len - s, line, &r, diag) != 0) { bad = 1; continue; }
        ptc_ie_phone *p = set_add(out);
        from_rec(p, src, &r);
        p->enabled = !disabled;
        p->file = src->name;
        p->line = line;
        p->off = off;
        p->len = len;
    }
    return bad ? -1 : 0;
}

/* ---- reading CSV ------------------------------------------------------------ */

/* Our column names: template, mac, enabled, then extN, cid_nameN, cid_numN,
 * passwordN, accountN; the unindexed form means 1. */
enum { COL_NONE = -1, COL_TEMPLATE = 0, COL_MAC, COL_ENABLED, COL_LINE0 };
static const char *const per_line[] = {"ext", "cid_name", "cid_num", "password", "account"};

static int column_id(const char *name)
{
    if (!strcasecmp(name, "template")) return COL_TEMPLATE;
    if (!strcasecmp(name, "mac")) return COL_MAC;
    if (!strcasecmp(name, "enabled")) return COL_ENABLED;
    for (int k = 0; k < 5; k++) {
        size_t n = strlen(per_line[k]);
        if (strncasecmp(name, per_line[k], n) != 0) continue;
        const char *d = name + n;
        if (!*d) return COL_LINE0 + k;
        if (d[0] >= '1' && d[0] <= '6' && !d[1]) return COL_LINE0 + (d[0] - '1') * 5 + k;
    }
    return COL_NONE;
}

static void column_name(int id, char *out, size_t n)
{
    if (id == COL_TEMPLATE) snprintf(out, n, "template");
    else if (id == COL_MAC) snprintf(out, n, "mac");
    else if (id == COL_ENABLED) snprintf(out, n, "enabled");
    else snprintf(out, n, "%s%d", per_line[(id - COL_LINE0) % 5], (id - COL_LINE0) / 5 + 1);
}

typedef struct csvread {
    ptc_src *src;
    ptc_diag *diag;
    const char *map;
    ptc_ie_set *out;
    ptc_buf *fields;            /* this row's fields */
    size_t nfields, cap;
    int *cols;                  /* per header column: our id, or COL_NONE */
    size_t ncols;
    unsigned row;
    int bad, has_passwords;
} csvread;

/* The name a header cell stands for, after --map THEIRS=ours. */
static void mapped(const char *map, const char *cell, char *out, size_t n)
{
    snprintf(out, n, "%s", cell);
    for (const char *m = map; m && *m;) {
        size_t k = strcspn(m, ",");
        const char *eq = memchr(m, '=', k);
        if (eq && (size_t)(eq - m) == strlen(cell) && strncasecmp(m, cell, (size_t)(eq - m)) == 0) {
            snprintf(out, n, "%.*s", (int)(k - (size_t)(eq - m) - 1), eq + 1);
            return;
        }
        m += k;
        if (*m) m++;
    }
}

static void csv_err(csvread *R, int col, const char *fmt, const char *what)
{
    char name[32];
    column_name(col, name, sizeof name);
    ptc_diag_plain(R->diag, PTC_ERROR, "import", "%s:%u:%s: %s%s", R->src->name, R->row, name, fmt, what);
    R->bad = 1;
}

static int enabled_value(const char *v, int *out)
{
    if (!*v || !strcasecmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "y")) *out = 1;
    else if (!strcasecmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "n")) *out = 0;
    else return -1;
    return 0;
}

static void header_row(csvread *R)
{
    R->cols = ptc_xcalloc(R->nfields ? R->nfields : 1, sizeof *R->cols);
    R->ncols = R->nfields;
    int seen_mac = 0, seen_tmpl = 0;
    for (size_t i = 0; i < R->nfields; i++) {
        char name[128];
        const char *cell = ptc_buf_cstr(&R->fields[i]);
        while (*cell == ' ') cell++;
        mapped(R->map, cell, name, sizeof name);
        R->cols[i] = column_id(name);
        if (R->cols[i] == COL_MAC) seen_mac = 1;
        if (R->cols[i] == COL_TEMPLATE) seen_tmpl = 1;
        if (R->cols[i] >= COL_LINE0 && (R->cols[i] - COL_LINE0) % 5 == 3) R->has_passwords = 1;
    }
    if (!seen_mac || !seen_tmpl) {
        ptc_diag_plain(R->diag, PTC_ERROR, "import", "%s:1: the header row needs the columns template and mac "
                       "(use --map THEIRS=ours for another system's names)", R->src->name);
        R->bad = 1;
    }
}

/* A cell for a phone-list field: no blanks (a CallerID name's become `_`). */
static void set_cell(csvread *R, ptc_ie_phone *p, int col, const char *v)
{
    int line = (col - COL_LINE0) / 5, k = (col - COL_LINE0) % 5;
    char **dst = col == COL_TEMPLATE ? &p->tmpl : col == COL_MAC ? &p->mac_text
               : k == 0 ? &p->ext[line] : k == 1 ? &p->cid_name[line] : k == 2 ? &p->cid_num[line]
               : k == 3 ? &p->password[line] : &p->account[line];
    while (*v == ' ') v++;
    size_t n = strlen(v);
    while (n && v[n - 1] == ' ') n--;
    if (k != 1 || col < COL_LINE0)
        for (size_t i = 0; i < n; i++)
            if (v[i] == ' ' || v[i] == '\t' || v[i] == ';' || (unsigned char)v[i] < 0x20) {
                csv_err(R, col, "a blank, `;` or control character, which the phone list cannot hold", "");
                break;
            }
    set_str(dst, v, n);
    if (col >= COL_LINE0 && (unsigned)line + 1 > p->nlines && n) p->nlines = (unsigned)line + 1;
}

static void data_row(csvread *R)
{
    int any = 0;
    for (size_t i = 0; i < R->nfields; i++) any |= R->fields[i].len != 0;
    if (!any) return;                           /* a blank row */
    ptc_ie_phone *p = set_add(R->out);
    p->file = R->src->name;
    p->line = R->row;
    p->has_passwords = R->has_passwords;
    for (size_t i = 0; i < R->nfields && i < R->ncols; i++) {
        int col = R->cols[i];
        const char *v = ptc_buf_cstr(&R->fields[i]);
        if (col == COL_NONE) continue;
        if (col == COL_ENABLED) {
            if (enabled_value(v, &p->enabled) != 0) csv_err(R, col, "want 1 or 0 (yes, no), got ", v);
            continue;
        }
        set_cell(R, p, col, v);
    }
    char mac[13];
    if (ptc_mac_norm(p->mac_text, mac)) memcpy(p->mac, mac, 13);
}

static void on_field(void *s, size_t n, void *ctx)
{
    csvread *R = ctx;
    if (R->nfields == R->cap) {
        R->cap = R->cap ? R->cap * 2 : 64;
        R->fields = ptc_xrealloc(R->fields, R->cap * sizeof *R->fields);
        for (size_t i = R->nfields; i < R->cap; i++) memset(&R->fields[i], 0, sizeof R->fields[i]);
    }
    ptc_buf *b = &R->fields[R->nfields++];
    ptc_buf_reset(b);
    ptc_buf_put(b, s ? s : "", s ? n : 0);
}

static void on_row(int c, void *ctx)
{
    (void)c;
    csvread *R = ctx;
    R->row++;
    if (R->row == 1) header_row(R);
    else if (R->cols) data_row(R);
    R->nfields = 0;
}

int ptc_ie_read_csv(ptc_src *src, const char *map, ptc_ie_set *out, ptc_diag *diag)
{
    csvread R = {.src = src, .diag = diag, .map = map, .out = out};
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) return -1;
    const char *text = src->text;
    size_t len = src->len;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) { text += 3; len -= 3; }   /* Excel's BOM */
    if (csv_parse(&p, text, len, on_field, on_row, &R) != len || csv_fini(&p, on_field, on_row, &R) != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "import", "%s:%u: %s", src->name, R.row + 1, csv_strerror(csv_error(&p)));
        R.bad = 1;
    }
    csv_free(&p);
    for (size_t i = 0; i < R.cap; i++) ptc_buf_free(&R.fields[i]);
    free(R.fields);
    free(R.cols);
    if (R.row == 0) {
        ptc_diag_plain(diag, PTC_ERROR, "import", "%s: empty: want a header row and a row per phone", src->name);
        R.bad = 1;
    }
    return R.bad ? -1 : 0;
}
