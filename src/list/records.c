/* The phone list reader: one line -> one checked ptc_rec. */
#include "ptc/rec.h"
#include "ptc/mac.h"

#include <ctype.h>
#include <string.h>

static int is_blank(char c) { return c == ' ' || c == '\t'; }

int ptc_rec_next_line(const ptc_src *src, uint32_t *pos, uint32_t *off, uint32_t *len, unsigned *line)
{
    const char *t = src->text;
    while (*pos < src->len) {
        uint32_t s = *pos, e = s;
        while (e < src->len && t[e] != '\n') e++;
        *pos = e < src->len ? e + 1 : e;
        (*line)++;
        uint32_t end = e;
        while (end > s && (is_blank(t[end - 1]) || t[end - 1] == '\r')) end--;
        uint32_t first = s;
        while (first < end && is_blank(t[first])) first++;
        if (first == end || t[first] == '#') continue;
        *off = s;
        *len = end - s;
        return 1;
    }
    return 0;
}

/* Splits the line into blank-separated fields. */
static unsigned split_fields(const char *t, uint32_t off, uint32_t len, ptc_span *f, unsigned max)
{
    unsigned n = 0;
    uint32_t i = off, end = off + len;
    while (i < end) {
        while (i < end && is_blank(t[i])) i++;
        if (i >= end) break;
        uint32_t s = i;
        while (i < end && !is_blank(t[i])) i++;
        if (n < max) { f[n].off = s; f[n].len = i - s; }
        n++;
    }
    return n;
}

/* Splits a `;` list into at most max spans; returns how many entries the
 * field really has (so the caller can complain about extras). */
static unsigned split_list(const char *t, ptc_span field, ptc_span *out, unsigned max)
{
    unsigned n = 0;
    uint32_t i = field.off, end = field.off + field.len;
    for (;;) {
        uint32_t s = i;
        while (i < end && t[i] != ';') i++;
        if (n < max) { out[n].off = s; out[n].len = i - s; }
        n++;
        if (i >= end) break;
        i++;
    }
    return n;
}

/* aa:bb:cc:dd:ee:ff, aa-bb-..., or aabbccddeeff (ptc_mac_parse); case is
 * kept. */
static int parse_mac(const char *s, uint32_t n, ptc_rec *r)
{
    if (ptc_mac_parse(s, n, PTC_MAC_LIST, r->mac) != 0) return -1;
    for (int i = 0; i < 6; i++) {
        r->mac_addr[i * 3] = r->mac[i * 2];
        r->mac_addr[i * 3 + 1] = r->mac[i * 2 + 1];
        r->mac_addr[i * 3 + 2] = i < 5 ? ':' : '\0';
    }
    return 0;
}

int ptc_rec_valid_template_name(const char *s, size_t n)
{
    if (n == 0 || n > 250 || s[0] == '.' || s[0] == '-') return 0;   /* NAME.conf fits NAME_MAX */
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !(s[i] && strchr("._-+", s[i]))) return 0;
    return 1;
}

static int valid_ext(const char *s, uint32_t n)
{
    if (n == 0) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && s[i] != '*' && s[i] != '#' && s[i] != '+') return 0;
    return 1;
}

/* Characters an account may hold: what a sip.conf peer name, a PJSIP
 * section and a SIP user part all accept, nothing that breaks out of
 * `[account]`, a quoted string or a file name. */
static int valid_account(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && !(c && strchr("._-+*#@!~%=$", c))) return 0;   /* strchr finds NUL */
    }
    return 1;
}

static int has_ctl(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 1;
    return 0;
}

/* No message quotes a field that failed its check: a field out of place
 * (a line without its extension, say) may be the password.  The caret line
 * shows where; ptc_rec_redact masks what it must. */

#define ERR(at, code, ...) do { ptc_diag_at(diag, src, (at), PTC_ERROR, code, __VA_ARGS__); bad = 1; } while (0)

static void parse_exts(ptc_src *src, ptc_rec *r, ptc_diag *diag, int *badp)
{
    const char *t = src->text;
    int bad = 0;
    ptc_span e[PTC_MAX_LINES];
    unsigned n = split_list(t, r->extf, e, PTC_MAX_LINES);
    r->multi = n > 1;
    if (n > PTC_MAX_LINES)
        ERR(r->extf.off, "too-many-lines", "%u extensions: a phone has at most %d lines", n, PTC_MAX_LINES);
    r->nexts = n > PTC_MAX_LINES ? PTC_MAX_LINES : n;
    for (unsigned i = 0; i < r->nexts; i++) {
        const char *s = t + e[i].off;
        const char *slash = memchr(s, '/', e[i].len);
        uint32_t elen = slash ? (uint32_t)(slash - s) : e[i].len;
        r->ext[i].off = e[i].off;
        r->ext[i].len = elen;
        r->has_cid[i] = slash != NULL;
        r->cid[i].off = slash ? e[i].off + elen + 1 : e[i].off;
        r->cid[i].len = slash ? e[i].len - elen - 1 : 0;
        if (i == 0 && elen == 0)
            ERR(e[i].off, "no-extension", "missing extension");
        else if (elen && !valid_ext(s, elen))
            ERR(e[i].off, "bad-extension", "invalid extension: use digits, `*`, `#` and `+`");
        if (has_ctl(t + r->cid[i].off, r->cid[i].len))
            ERR(r->cid[i].off, "bad-cid", "control character in CallerID name");
    }
    *badp |= bad;
}

static void parse_accounts(ptc_src *src, ptc_rec *r, ptc_diag *diag, int *badp)
{
    const char *t = src->text;
    int bad = 0;
    if (r->acctf.len == 0) return;
    unsigned n = split_list(t, r->acctf, r->acct, PTC_MAX_LINES);
    r->acct_multi = n > 1;
    if (n > PTC_MAX_LINES)
        ERR(r->acctf.off, "too-many-lines", "%u accounts: a phone has at most %d lines", n, PTC_MAX_LINES);
    if (t[r->acctf.off] == '#')
        ERR(r->acctf.off, "comment-field", "the account looks like a comment: comments must start the line");
    else
        for (unsigned i = 0; i < n && i < PTC_MAX_LINES; i++)
            if (!valid_account(t + r->acct[i].off, r->acct[i].len))
                ERR(r->acct[i].off, "bad-account", "invalid account: use letters, digits and ._-+*#@!~%%=$");
    *badp |= bad;
}

int ptc_rec_parse(ptc_src *src, uint32_t off, uint32_t len, unsigned line, ptc_rec *r, ptc_diag *diag)
{
    const char *t = src->text;
    int bad = 0;
    memset(r, 0, sizeof *r);
    r->line = line;
    r->off = off;
    r->len = len;
    if (len > PTC_REC_LINE_MAX) {       /* checked first: nothing of it is echoed */
        ERR(off, "line-too-long", "line of %u bytes: a phone line has at most %d", len, PTC_REC_LINE_MAX);
        return -1;
    }
    ptc_span f[6];
    unsigned nf = split_fields(t, off, len, f, 6);
    if (nf < 3) {
        ERR(off + len, "missing-field", "expected `template mac extension password [account]`, got %u field%s",
            nf, nf == 1 ? "" : "s");
        return -1;
    }
    if (nf > 5) {
        if (t[f[5].off] == '#')
            ERR(f[5].off, "comment-field", "a trailing comment: comments must start the line");
        else
            ERR(f[5].off, "extra-field", "unexpected field %u: a line has at most 5 fields", 6);
    }
    r->tmpl = f[0];
    r->macf = f[1];
    r->extf = f[2];
    if (nf > 3) r->passf = f[3];
    if (nf > 4) r->acctf = f[4];

    if (!ptc_rec_valid_template_name(t + r->tmpl.off, r->tmpl.len))
        ERR(r->tmpl.off, "bad-template", "invalid template name: use letters, digits and ._-+");
    if (parse_mac(t + r->macf.off, r->macf.len, r) != 0)
        ERR(r->macf.off, "bad-mac", "invalid MAC address: expected six hex pairs like 00:11:22:aa:bb:cc");
    parse_exts(src, r, diag, &bad);
    if (r->passf.len) {
        if (t[r->passf.off] == '#' && r->passf.len == 1)
            ERR(r->passf.off, "comment-field", "password field is `#`: comments must start the line");
        unsigned n = split_list(t, r->passf, r->pass, PTC_MAX_LINES);
        r->pass_multi = n > 1;
        if (n > PTC_MAX_LINES)
            ERR(r->passf.off, "too-many-lines", "%u passwords: a phone has at most %d lines", n, PTC_MAX_LINES);
        if (has_ctl(t + r->passf.off, r->passf.len))     /* a NUL, CR, ESC...: never echoed */
            ERR(r->passf.off, "bad-password", "control character in the password");
        if (r->pass[0].len == 0) r->missing_password = 1;
    } else {
        r->missing_password = 1;
    }
    parse_accounts(src, r, diag, &bad);
    return bad ? -1 : 0;
}

/* 1 if field k (1-based) of a phone line is what its place wants; only
 * such fields are shown in a caret line. */
static int field_shown(unsigned k, const char *s, uint32_t n)
{
    ptc_rec scratch;
    ptc_span all = {0, n}, v[PTC_MAX_LINES + 1];
    unsigned m;
    switch (k) {
    case 1: return ptc_rec_valid_template_name(s, n);
    case 2: return parse_mac(s, n, &scratch) == 0;
    case 3:
        m = split_list(s, all, v, PTC_MAX_LINES + 1);
        for (unsigned i = 0; i < m && i < PTC_MAX_LINES + 1; i++) {
            const char *slash = memchr(s + v[i].off, '/', v[i].len);
            uint32_t elen = slash ? (uint32_t)(slash - (s + v[i].off)) : v[i].len;
            if ((elen || i == 0) && !valid_ext(s + v[i].off, elen)) return 0;
        }
        return m <= PTC_MAX_LINES;
    case 5:
        if (s[0] == '#') return 0;
        m = split_list(s, all, v, PTC_MAX_LINES + 1);
        for (unsigned i = 0; i < m && i < PTC_MAX_LINES + 1; i++)
            if (!valid_account(s + v[i].off, v[i].len)) return 0;
        return m <= PTC_MAX_LINES;
    default: return 0;          /* the password, and anything after the account */
    }
}

void ptc_rec_redact(const char *line, size_t len, char *out)
{
    memcpy(out, line, len);
    unsigned field = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && is_blank(line[i])) i++;
        if (i >= len) break;
        field++;
        size_t start = i;
        while (i < len && !is_blank(line[i])) i++;
        if (!field_shown(field, line + start, (uint32_t)(i - start))) memset(out + start, '*', i - start);
    }
}
