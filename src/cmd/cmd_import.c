/* ptc export and ptc import: options and wiring (src/import.c, src/export.c
 * do the work; the checks are ptc lint's, run on the list as it would be). */
#include "ptc/cmd.h"
#include "ptc/buf.h"
#include "ptc/cfg.h"
#include "ptc/import.h"
#include "ptc/lint.h"
#include "ptc/listedit.h"
#include "ptc/rec.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ptc export ------------------------------------------------------------------ */

static const char export_usage[] =
    "Usage: ptc export [--format csv|json|conf] [--with-passwords] LIST\n"
    "Writes the phones of LIST (disabled ones too) as CSV (RFC 4180, CRLF),\n"
    "JSON or phone-list lines on standard output (docs/import.md).  Passwords\n"
    "only with --with-passwords.\n"
    "Exit status: 0, 1 when LIST cannot be read or has bad lines, 64 for usage.\n";

static int parse_format(const char *v, int *out)
{
    if (!strcmp(v, "csv")) *out = PTC_IE_CSV;
    else if (!strcmp(v, "json")) *out = PTC_IE_JSON;
    else if (!strcmp(v, "conf")) *out = PTC_IE_CONF;
    else return -1;
    return 0;
}

int ptc_cmd_export(int argc, char **argv)
{
    static const struct option longs[] = {
        {"format", required_argument, NULL, 'f'}, {"with-passwords", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int fmt = PTC_IE_CSV, pw = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == 'f' && parse_format(optarg, &fmt) == 0) continue;
        if (c == 'p') { pw = 1; continue; }
        fputs(export_usage, c == 'h' ? stdout : stderr);
        return c == 'h' ? PTC_EXIT_OK : PTC_EXIT_USAGE;
    }
    if (optind + 1 != argc) { fputs(export_usage, stderr); return PTC_EXIT_USAGE; }
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    ptc_src *src = ptc_src_load(argv[optind], NULL);
    if (!src) {
        ptc_diag_plain(&diag, PTC_ERROR, "io", "cannot read %s: %s", argv[optind], strerror(errno));
        return PTC_EXIT_ERROR;
    }
    src->redact = ptc_rec_redact;
    ptc_ie_set set = {0};
    int rc = ptc_ie_read_list(src, &set, &diag) == 0 ? PTC_EXIT_OK : PTC_EXIT_ERROR;
    if (rc == PTC_EXIT_OK) {
        ptc_ie_write(&set, fmt, pw, stdout);
        if (fflush(stdout) != 0) rc = PTC_EXIT_ERROR;
    }
    ptc_ie_set_free(&set);
    ptc_src_free(src);
    return rc;
}

/* ---- ptc import ------------------------------------------------------------------ */

static const char import_usage[] =
    "Usage: ptc import [options] FILE... --into LIST\n"
    "Merges phones from CSV files or phone lists into LIST, which is edited in\n"
    "place: its comments and the lines of phones the import does not change stay\n"
    "byte for byte (docs/import.md).  Every phone is checked as ptc run and\n"
    "ptc lint check it; nothing is written unless all pass.\n"
    "\n"
    "  --into LIST             the phone list to change\n"
    "  --format csv|conf       what FILE is (default: conf for *.conf, else csv)\n"
    "  --mode merge|replace    merge (default): update phones by MAC, add the\n"
    "                          others; replace: LIST keeps only the imported phones\n"
    "  --map 'THEIRS=ours,...' rename another system's CSV columns\n"
    "  --dry-run               print what would be added, changed and removed\n"
    "  --templates DIR, --root DIR, --rc FILE   where the templates are (as ptc lint)\n"
    "\n"
    "Exit status: 0; 1 on errors (nothing written); 64 for usage.\n";

typedef struct import_args {
    const char *into, *map, *templates, *root, *rc;
    int format, mode, dry_run;  /* format: -1 by extension */
    char **files;
    int nfiles;
} import_args;

static int parse_import(int argc, char **argv, import_args *a)
{
    static const struct option longs[] = {
        {"into", required_argument, NULL, 'i'}, {"format", required_argument, NULL, 'f'},
        {"mode", required_argument, NULL, 'm'}, {"map", required_argument, NULL, 'M'},
        {"dry-run", no_argument, NULL, 'n'}, {"templates", required_argument, NULL, 't'},
        {"root", required_argument, NULL, 'r'}, {"rc", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    a->format = -1;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'i': a->into = optarg; break;
        case 'f':
            if (strcmp(optarg, "csv") && strcmp(optarg, "conf")) goto bad;
            a->format = strcmp(optarg, "csv") == 0 ? PTC_IE_CSV : PTC_IE_CONF;
            break;
        case 'm':
            if (strcmp(optarg, "merge") && strcmp(optarg, "replace")) goto bad;
            a->mode = strcmp(optarg, "replace") == 0 ? PTC_IE_REPLACE : PTC_IE_MERGE;
            break;
        case 'M': a->map = optarg; break;
        case 'n': a->dry_run = 1; break;
        case 't': a->templates = optarg; break;
        case 'r': a->root = optarg; break;
        case 'c': a->rc = optarg; break;
        case 'h': fputs(import_usage, stdout); return 1;
        default: goto bad;
        }
    }
    a->files = argv + optind;
    a->nfiles = argc - optind;
    if (a->into && a->nfiles > 0) return 0;
bad:
    fputs(import_usage, stderr);
    return -1;
}

static int is_conf(const char *path)
{
    size_t n = strlen(path);
    return n > 5 && strcmp(path + n - 5, ".conf") == 0;
}

/* Reads every FILE into in (their sources kept in srcs for the names). */
static int read_inputs(const import_args *a, ptc_ie_set *in, ptc_src **srcs, ptc_diag *diag)
{
    int bad = 0;
    for (int i = 0; i < a->nfiles; i++) {
        srcs[i] = ptc_src_load(a->files[i], NULL);
        if (!srcs[i]) {
            ptc_diag_plain(diag, PTC_ERROR, "io", "cannot read %s: %s", a->files[i], strerror(errno));
            bad = 1;
            continue;
        }
        srcs[i]->redact = ptc_rec_redact;
        int fmt = a->format >= 0 ? a->format : is_conf(a->files[i]) ? PTC_IE_CONF : PTC_IE_CSV;
        bad |= (fmt == PTC_IE_CONF ? ptc_ie_read_list(srcs[i], in, diag)
                                   : ptc_ie_read_csv(srcs[i], a->map, in, diag)) != 0;
    }
    return bad ? -1 : 0;
}

/* A value of "key":"..." or "key":N in one of lint's JSON lines, into out. */
static int json_field(const char *line, const char *key, char *out, size_t n)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) return -1;
    p += strlen(pat);
    size_t k = 0;
    if (*p != '"') {
        while (*p && *p != ',' && *p != '}' && k + 1 < n) out[k++] = *p++;
    } else {
        for (p++; *p && *p != '"' && k + 1 < n; p++) {
            if (*p == '\\' && p[1]) p++;
            out[k++] = *p;
        }
    }
    out[k] = '\0';
    return 0;
}

/* "line N" in a message about the new list, said of where line N came from:
 * "row R of FILE" for an imported phone, "line N of LIST" otherwise. */
static void retell_line_ref(const char *msg, const ptc_ie_result *res, const char *list_name, char *out, size_t n)
{
    const char *p = strstr(msg, "line ");
    while (p && !(p[5] >= '0' && p[5] <= '9')) p = strstr(p + 1, "line ");
    if (!p) { snprintf(out, n, "%s", msg); return; }
    char *end;
    unsigned long line = strtoul(p + 5, &end, 10);
    const ptc_ie_phone *ph = line && line <= res->nfrom ? res->from[line] : NULL;
    if (ph) snprintf(out, n, "%.*srow %u of %s%s", (int)(p - msg), msg, ph->line, ph->file, end);
    else snprintf(out, n, "%.*sline %lu of %s%s", (int)(p - msg), msg, line, list_name, end);
}

/* One of lint's findings on the new list, said of the file it came from:
 * FILE:ROW:COLUMN for an imported phone, the list's own line otherwise. */
static void retell(const char *json, const ptc_ie_result *res, const char *list_name, ptc_diag *diag)
{
    char line_s[16], col_s[16], sev[16], code[64], msg[1024], where[512];
    if (json_field(json, "line", line_s, sizeof line_s) || json_field(json, "column", col_s, sizeof col_s) ||
        json_field(json, "severity", sev, sizeof sev) || json_field(json, "code", code, sizeof code) ||
        json_field(json, "message", msg, sizeof msg))
        return;
    if (strcmp(sev, "note") == 0) return;
    size_t line = strtoul(line_s, NULL, 10);
    unsigned col = (unsigned)strtoul(col_s, NULL, 10);
    const ptc_ie_phone *p = line && line <= res->nfrom ? res->from[line] : NULL;
    if (p && col) {
        char name[32];
        ptc_ie_column_at(p, col - 1, name, sizeof name);
        snprintf(where, sizeof where, "%s:%u:%s", p->file, p->line, name);
    } else if (p) {
        snprintf(where, sizeof where, "%s:%u", p->file, p->line);
    } else {
        snprintf(where, sizeof where, "%s:%zu:%u", list_name, line, col);
    }
    char told[1200];
    retell_line_ref(msg, res, list_name, told, sizeof told);
    ptc_diag_plain(diag, strcmp(sev, "error") == 0 ? PTC_ERROR : PTC_WARNING, code, "%s: %s", where, told);
}

/* ptc lint's list checks on the new list: 0 when it has no errors. */
static int check_result(const ptc_ie_result *res, const import_args *a, ptc_cfg *cfg, ptc_diag *diag)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    ptc_diag jd;
    ptc_diag_init(&jd, f);
    jd.format = PTC_FMT_JSON;
    jd.limit = 0;
    ptc_lint L;
    ptc_lint_init(&L, &jd, cfg);
    L.templates_dir = a->templates;
    ptc_src *src = ptc_src_from_mem(a->into, res->text.data ? res->text.data : "", res->text.len);
    src->redact = ptc_rec_redact;
    ptc_lint_list(&L, src);
    unsigned errors = jd.errors;
    fclose(f);
    for (char *s = out; s && *s;) {
        char *e = strchr(s, '\n');
        if (e) *e = '\0';
        retell(s, res, a->into, diag);
        if (!e) break;
        s = e + 1;
    }
    free(out);
    ptc_src_free(src);
    ptc_lint_free(&L);
    return errors ? -1 : 0;
}

int ptc_cmd_import(int argc, char **argv)
{
    import_args a;
    memset(&a, 0, sizeof a);
    int prc = parse_import(argc, argv, &a);
    if (prc) return prc > 0 ? PTC_EXIT_OK : PTC_EXIT_USAGE;
    ptc_diag diag;
    ptc_diag_init(&diag, stderr);
    ptc_cfg cfg;
    ptc_src **srcs = ptc_xcalloc((size_t)a.nfiles, sizeof *srcs);
    ptc_ie_set old = {0}, in = {0};
    ptc_ie_result res;
    memset(&res, 0, sizeof res);
    ptc_src *list = NULL;
    int rc = PTC_EXIT_ERROR;
    if (ptc_cfg_load(&cfg, a.root, a.rc, &diag) != 0) goto out;
    if (!(list = ptc_src_load(a.into, NULL))) {
        ptc_diag_plain(&diag, PTC_ERROR, "io", "cannot read %s: %s", a.into, strerror(errno));
        goto out;
    }
    list->redact = ptc_rec_redact;
    /* Read errors do not stop here: the checks of the list as it would be
     * report everything else too, then nothing is written. */
    int bad = ptc_ie_read_list(list, &old, &diag) != 0;
    bad |= read_inputs(&a, &in, srcs, &diag) != 0;
    ptc_ie_merge(list, &old, &in, a.mode, &res, a.dry_run && !bad ? stdout : NULL);
    bad |= check_result(&res, &a, &cfg, &diag) != 0;
    if (bad) goto refused;
    int same = res.text.len == list->len && memcmp(res.text.data, list->text, list->len) == 0;
    if (!a.dry_run && !same && ptc_list_rewrite(a.into, res.text.data, res.text.len, &diag) != 0) goto out;
    printf("ptc import: %u added, %u changed, %u removed, %u unchanged%s%s\n", res.added, res.changed,
           res.removed, res.unchanged, res.passwords ? "; missing passwords generated" : "",
           a.dry_run ? " (dry run: nothing written)" : same ? " (the list is unchanged)" : "");
    rc = PTC_EXIT_OK;
    goto out;
refused:
    ptc_diag_finish(&diag);
    fprintf(stderr, "ptc import: nothing was written: fix the errors above and run again.\n");
out:
    ptc_ie_result_free(&res);
    ptc_ie_set_free(&old);
    ptc_ie_set_free(&in);
    for (int i = 0; i < a.nfiles; i++) ptc_src_free(srcs[i]);
    free(srcs);
    ptc_src_free(list);
    ptc_cfg_free(&cfg);
    return rc;
}
