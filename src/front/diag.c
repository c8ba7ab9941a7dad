/* Diagnostics: file:line:col: severity: message [code], source line, caret. */
#include "ptc/diag.h"
#include "ptc/buf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *sev_name[] = { "note", "warning", "error" };
static const char *sev_color[] = { "\033[1;36m", "\033[1;35m", "\033[1;31m" };

void ptc_diag_init(ptc_diag *d, FILE *out)
{
    memset(d, 0, sizeof *d);
    d->out = out;
    d->format = PTC_FMT_TEXT;
    d->show_warnings = 1;
    d->limit = 100;
}

void ptc_diag_init_null(ptc_diag *d)
{
    ptc_diag_init(d, NULL);
    d->limit = 0;
}

/* GitHub workflow commands need %, CR and LF escaped in the message. */
static void github_escape(FILE *f, const char *s, int property)
{
    for (; *s; s++) {
        if (*s == '%') fputs("%25", f);
        else if (*s == '\r') fputs("%0D", f);
        else if (*s == '\n') fputs("%0A", f);
        else if (property && *s == ':') fputs("%3A", f);
        else if (property && *s == ',') fputs("%2C", f);
        else if ((unsigned char)*s < 0x20 || *s == 0x7f) fputc('?', f);   /* ESC, tabs... */
        else fputc(*s, f);
    }
}

/* Prints a message with control bytes (an ESC from a phone list, a CR)
 * shown as `?`, so input echoed in a message cannot drive the terminal. */
static void put_clean(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
    }
}

/* Prints the source line (tabs kept so the caret lines up) and a caret. */
static void print_excerpt(ptc_diag *d, ptc_src *src, unsigned line, unsigned col)
{
    size_t start, len;
    ptc_src_line(src, line, &start, &len);
    if (len > 400) len = 400;
    char *shown = ptc_xmalloc(len + 1);
    if (src->redact) src->redact(src->text + start, len, shown);
    else memcpy(shown, src->text + start, len);
    fputs("    ", d->out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)shown[i];
        fputc(c < 0x20 && c != '\t' ? '?' : (c == 0x7f ? '?' : c), d->out);
    }
    fputs("\n    ", d->out);
    for (unsigned i = 1; i < col && i - 1 < len; i++)
        fputc(shown[i - 1] == '\t' ? '\t' : ' ', d->out);
    fputs(d->color ? "\033[1;32m^\033[0m\n" : "^\n", d->out);
    free(shown);
}

static void emit(ptc_diag *d, ptc_src *src, unsigned line, unsigned col,
                 ptc_severity sev, const char *code, const char *msg)
{
    if (sev == PTC_ERROR) d->errors++;
    else if (sev == PTC_WARNING) d->warnings++;
    else d->notes++;
    snprintf(d->last, sizeof d->last, "%s", msg);
    d->last_code = code;
    if (!d->out) return;
    if (sev != PTC_ERROR && !d->show_warnings) return;
    if (d->limit && d->printed >= d->limit) { d->suppressed++; return; }
    d->printed++;
    const char *file = src ? src->name : NULL;
    switch (d->format) {
    case PTC_FMT_JSON:
        fputs("{\"file\":", d->out);
        if (file) ptc_json_fput(d->out, file, strlen(file)); else fputs("null", d->out);
        fprintf(d->out, ",\"line\":%u,\"column\":%u,\"severity\":\"%s\",\"code\":",
                line, col, sev_name[sev]);
        if (code) ptc_json_fput(d->out, code, strlen(code)); else fputs("null", d->out);
        fputs(",\"message\":", d->out);
        ptc_json_fput(d->out, msg, strlen(msg));
        fputs("}\n", d->out);
        break;
    case PTC_FMT_GITHUB:
        fprintf(d->out, "::%s ", sev == PTC_NOTE ? "notice" : sev_name[sev]);
        if (file) { fputs("file=", d->out); github_escape(d->out, file, 1); fputc(',', d->out); }
        if (line) fprintf(d->out, "line=%u,", line);
        if (col) fprintf(d->out, "col=%u,", col);
        fputs("title=", d->out);
        github_escape(d->out, code ? code : "ptc", 1);
        fputs("::", d->out);
        github_escape(d->out, msg, 0);
        fputc('\n', d->out);
        break;
    default:
        if (d->color) fputs("\033[1m", d->out);
        if (file && line && col) fprintf(d->out, "%s:%u:%u: ", file, line, col);
        else if (file && line) fprintf(d->out, "%s:%u: ", file, line);
        else if (file) fprintf(d->out, "%s: ", file);
        else fputs("ptc: ", d->out);
        if (d->color) fprintf(d->out, "%s%s:\033[0m\033[1m ", sev_color[sev], sev_name[sev]);
        else fprintf(d->out, "%s: ", sev_name[sev]);
        put_clean(d->out, msg);
        if (d->color) fputs("\033[0m", d->out);
        if (code) fprintf(d->out, " [%s]", code);
        fputc('\n', d->out);
        if (src && line && col) print_excerpt(d, src, line, col);
        break;
    }
}

static void report(ptc_diag *d, ptc_src *src, unsigned line, unsigned col,
                   ptc_severity sev, const char *code, const char *fmt, va_list ap)
{
    if (code && d->disabled && d->disabled(d->disabled_ctx, code)) return;
    if (d->forward) d = d->forward;
    ptc_buf msg = PTC_BUF_INIT;
    ptc_buf_vprintf(&msg, fmt, ap);
    emit(d, src, line, col, sev, code, ptc_buf_cstr(&msg));
    ptc_buf_free(&msg);
}

void ptc_diag_at(ptc_diag *d, ptc_src *src, size_t off, ptc_severity sev,
                 const char *code, const char *fmt, ...)
{
    unsigned line = 0, col = 0;
    if (src) ptc_src_linecol(src, off, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    report(d, src, line, col, sev, code, fmt, ap);
    va_end(ap);
}

void ptc_diag_line(ptc_diag *d, ptc_src *src, unsigned line, ptc_severity sev,
                   const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, src, line, 0, sev, code, fmt, ap);
    va_end(ap);
}

void ptc_diag_plain(ptc_diag *d, ptc_severity sev, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, NULL, 0, 0, sev, code, fmt, ap);
    va_end(ap);
}

void ptc_diag_finish(ptc_diag *d)
{
    if (!d->suppressed) return;
    if (d->format == PTC_FMT_TEXT)
        fprintf(d->out, "ptc: ... and %u more diagnostic%s not shown\n",
                d->suppressed, d->suppressed == 1 ? "" : "s");
    d->suppressed = 0;
}

void ptc_diag_set_color_auto(ptc_diag *d)
{
    const char *nc = getenv("NO_COLOR");
    d->color = d->format == PTC_FMT_TEXT && d->out && isatty(fileno(d->out)) && !(nc && *nc);
}

/* ---- did you mean ---------------------------------------------------------- */

/* Optimal string alignment distance (edits and adjacent swaps), ignoring
 * case; stops early above max. */
static size_t distance(const char *a, size_t n, const char *b, size_t m)
{
    if (n > 64 || m > 64) return SIZE_MAX;
    size_t d[65][65];
    for (size_t i = 0; i <= n; i++) d[i][0] = i;
    for (size_t j = 0; j <= m; j++) d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t v = d[i - 1][j - 1] + !same;
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

/* Length of the common prefix or suffix of a and b, whichever is longer. */
static size_t common_end(const char *a, size_t n, const char *b, size_t m)
{
    size_t p = 0, s = 0;
    while (p < n && p < m && tolower((unsigned char)a[p]) == tolower((unsigned char)b[p])) p++;
    while (s < n && s < m && tolower((unsigned char)a[n - 1 - s]) == tolower((unsigned char)b[m - 1 - s])) s++;
    return p > s ? p : s;
}

const char *ptc_diag_suggest(const char *word, size_t len, const char *const *cands)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; cands && cands[i]; i++) {
        size_t m = strlen(cands[i]);
        /* Up to a third of the longer word, and beyond two edits only when
         * half the candidate is intact at one end: `account_suffix` finds
         * `auto_account_suffix` and `MAC_ADRESS` finds `MAC_ADDR`, while
         * `nothere` does not find `three`. */
        size_t max = ((len > m ? len : m) + 2) / 3;
        size_t d = distance(word, len, cands[i], m);
        if (d > max || d >= best_d) continue;
        if (d > 2 && common_end(word, len, cands[i], m) * 2 < m) continue;
        best = cands[i];
        best_d = d;
    }
    return best;
}

