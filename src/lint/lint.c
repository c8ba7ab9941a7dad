/* ptc lint: the command, file classification, suggestions, reporting.
 * The checks are in lint_template.c and lint_list.c. */
#include "ptc/lint.h"
#include "ptc/commit.h"
#include "ptc/buf.h"
#include "ptc/cmd.h"
#include "ptc/templates.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the linter ------------------------------------------------------------ */

static int checks_disabled(void *ctx, const char *code)
{
    return ptc_lint_disabled(ctx, code);
}

void ptc_lint_init(ptc_lint *L, ptc_diag *diag, ptc_cfg *cfg)
{
    memset(L, 0, sizeof *L);
    L->diag = diag;
    L->cfg = cfg;
    ptc_diag_init_null(&L->checks);
    L->checks.forward = diag;
    L->checks.disabled = checks_disabled;
    L->checks.disabled_ctx = L;
}

void ptc_lint_free(ptc_lint *L)
{
    if (!L) return;
    for (size_t i = 0; i < L->nt; i++) {
        ptc_lint_tmpl *t = L->t[i];
        ptc_prog_free(t->prog);
        ptc_ir_free(t->ir);              /* the IR borrows src: free it first */
        ptc_src_free(t->src);
        free(t->name);
        free(t->real);
        free(t);
    }
    free(L->t);
    L->t = NULL;
    L->nt = 0;
}

ptc_lint_tmpl *ptc_lint_find(const ptc_lint *L, const char *real)
{
    for (size_t i = 0; i < L->nt; i++)
        if (L->t[i]->real && strcmp(L->t[i]->real, real) == 0) return L->t[i];
    return NULL;
}

/* Codes reported only when asked for: notes for users who must stay
 * compatible with phoneprov-tools. */
static const char *const off_by_default[] = {"ptc-only-syntax", NULL};

static int listed(char *const *list, const char *code)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], code) == 0) return 1;
    return 0;
}

int ptc_lint_disabled(const ptc_lint *L, const char *code)
{
    if (listed(L->disabled, code)) return 1;
    return listed((char *const *)off_by_default, code) && !listed(L->enabled, code);
}

/* ---- classification ------------------------------------------------------- */

ptc_lint_kind ptc_lint_classify(const ptc_src *src)
{
    const char *t = src->text;
    int list = 0;
    size_t i = 0;
    while (i < src->len) {
        size_t e = i;
        while (e < src->len && t[e] != '\n') e++;
        if (t[i] == '[' && memchr(t + i, ']', e - i)) return PTC_LINT_TEMPLATE;
        size_t p = i;
        while (p < e && (t[p] == ' ' || t[p] == '\t')) p++;
        if (p < e && t[p] != '#') {
            unsigned fields = 0;
            while (p < e) {
                while (p < e && isspace((unsigned char)t[p])) p++;
                if (p >= e) break;
                fields++;
                while (p < e && !isspace((unsigned char)t[p])) p++;
            }
            if (fields >= 3) list = 1;
        }
        i = e + 1;
    }
    return list ? PTC_LINT_LIST : PTC_LINT_UNKNOWN;
}

/* ---- suggestions -------------------------------------------------------- */


/* ---- the command -------------------------------------------------------- */

static const char usage_text[] =
    "Usage: ptc lint [options] PATH...\n"
    "\n"
    "Checks templates (files in the template language, or directories of\n"
    "*.conf) and phone lists (massdeployment.conf) and writes nothing.  A\n"
    "phone list is checked against the templates it names, which are checked\n"
    "too.  A file with a [context] line is a template; a file without one\n"
    "whose lines have three or more fields is a phone list.\n"
    "\n"
    "Options:\n"
    "      --template FILE     Check FILE as a template\n"
    "      --list FILE         Check FILE as a phone list\n"
    "      --templates DIR     Find the phone lists' templates in DIR\n"
    "                          (default $PHONEPROV_BASE_DIR/templates)\n"
    "      --root DIR          Read every default path under DIR (as ptc run)\n"
    "      --rc FILE           Configuration file (default /etc/rc.conf)\n"
    "      --format FORMAT     text (default), json (one object per line) or\n"
    "                          github (workflow annotations)\n"
    "  -W error, -Werror       Warnings make the exit status 1\n"
    "  -W no-CODE, -Wno-CODE   Do not report lint check CODE (e.g. -Wno-xml-unescaped)\n"
    "  -Wptc-only-syntax       Note every use of syntax the original phoneprov-tools\n"
    "                          does not know (filters, escape=): off by default\n"
    "  -q, --quiet             Print errors only\n"
    "  -h, --help              Show this help text\n"
    "\n"
    "Diagnostics go to standard error as file:line:col: severity: message [code];\n"
    "json and github go to standard output.\n"
    "Exit status: 0 clean, 1 errors (or warnings with -Werror), 2 bad command line.\n";

enum { LINT_USAGE = 2 };

typedef struct item { const char *path; ptc_lint_kind kind; } item;

typedef struct lint_args {
    item *items;
    size_t nitems;
    const char *templates, *root, *rc;
    ptc_diag_format format;
    int werror, quiet;
    char **disabled, **enabled;
    size_t ndisabled, nenabled;
} lint_args;

static void add_item(lint_args *a, const char *path, ptc_lint_kind kind)
{
    a->items = ptc_xrealloc(a->items, (a->nitems + 1) * sizeof *a->items);
    a->items[a->nitems].path = path;
    a->items[a->nitems++].kind = kind;
}

static int parse_w(lint_args *a, const char *v)
{
    if (strcmp(v, "error") == 0) { a->werror = 1; return 0; }
    if (strncmp(v, "no-", 3) == 0 && v[3]) {
        a->disabled = ptc_xrealloc(a->disabled, (a->ndisabled + 2) * sizeof *a->disabled);
        a->disabled[a->ndisabled++] = (char *)v + 3;
        a->disabled[a->ndisabled] = NULL;
        return 0;
    }
    if (listed((char *const *)off_by_default, v)) {
        a->enabled = ptc_xrealloc(a->enabled, (a->nenabled + 2) * sizeof *a->enabled);
        a->enabled[a->nenabled++] = (char *)v;
        a->enabled[a->nenabled] = NULL;
        return 0;
    }
    fprintf(stderr, "ptc lint: unknown -W%s (use -Werror, -Wno-CODE or -Wptc-only-syntax)\n", v);
    return -1;
}

static int parse_args(int argc, char **argv, lint_args *a)
{
    static const struct option longs[] = {
        {"template", required_argument, NULL, 1}, {"list", required_argument, NULL, 2},
        {"templates", required_argument, NULL, 3}, {"root", required_argument, NULL, 4},
        {"rc", required_argument, NULL, 5}, {"format", required_argument, NULL, 6},
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "W:qh", longs, NULL)) != -1) {
        switch (c) {
        case 1: add_item(a, optarg, PTC_LINT_TEMPLATE); break;
        case 2: add_item(a, optarg, PTC_LINT_LIST); break;
        case 3: a->templates = optarg; break;
        case 4: a->root = optarg; break;
        case 5: a->rc = optarg; break;
        case 6:
            if (!strcmp(optarg, "text")) a->format = PTC_FMT_TEXT;
            else if (!strcmp(optarg, "json")) a->format = PTC_FMT_JSON;
            else if (!strcmp(optarg, "github")) a->format = PTC_FMT_GITHUB;
            else { fprintf(stderr, "ptc lint: unknown format '%s' (text, json or github)\n", optarg); return -1; }
            break;
        case 'W': if (parse_w(a, optarg) != 0) return -1; break;
        case 'q': a->quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return 1;
        default: fputs(usage_text, stderr); return -1;
        }
    }
    for (int i = optind; i < argc; i++) add_item(a, argv[i], PTC_LINT_UNKNOWN);
    if (a->nitems == 0) {
        fputs("ptc lint: nothing to check\n", stderr);
        fputs(usage_text, stderr);
        return -1;
    }
    return 0;
}

/* The template name of a path: its file name without .conf. */
static char *name_of(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".conf") == 0) n -= 5;
    return ptc_xstrndup(b, n);
}

/* One file: a template (linted once, however often it is named) or a list. */
static void lint_file(ptc_lint *L, const char *path, ptc_lint_kind kind)
{
    char real[PATH_MAX];
    int have_real = realpath(path, real) != NULL;
    ptc_src *src = ptc_src_load(path, NULL);
    if (!src) {
        ptc_diag_plain(L->diag, PTC_ERROR, "io", "cannot read %s: %s", path, strerror(errno));
        return;
    }
    if (kind == PTC_LINT_UNKNOWN) kind = ptc_lint_classify(src);
    if (kind == PTC_LINT_TEMPLATE) {
        if (have_real && ptc_lint_find(L, real)) { ptc_src_free(src); return; }
        char *name = name_of(path);
        ptc_lint_template(L, src, name, have_real ? real : NULL);
        free(name);
        return;
    }
    if (kind == PTC_LINT_LIST) ptc_lint_list(L, src);
    else
        ptc_diag_line(L->diag, src, 0, PTC_ERROR, "file-kind",
                      "neither a template (no [context] line) nor a phone list (no line of 3 or more "
                      "fields); use --template or --list to say which");
    ptc_src_free(src);
}

static void lint_path(ptc_lint *L, const item *it)
{
    struct stat st;
    if (it->kind != PTC_LINT_UNKNOWN || stat(it->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        lint_file(L, it->path, it->kind);
        return;
    }
    ptc_pathlist files = {0};
    if (ptc_templates_expand(it->path, &files, L->diag) == 0)
        for (size_t i = 0; i < files.n; i++) lint_file(L, files.v[i], PTC_LINT_UNKNOWN);
    ptc_pathlist_free(&files);
}

/* lint writes nothing, so it does not finish an interrupted run: it says
 * that the tree it may be looking at is half old, half new. */
static void report_pending_commit(const ptc_cfg *cfg, ptc_diag *diag)
{
    char *db = ptc_cfg_phone_db(cfg, NULL), *state = ptc_commit_state_dir(cfg, db);
    if (ptc_commit_pending(state))
        ptc_diag_plain(diag, PTC_WARNING, "commit-pending",
                       "a run stopped after its commit point (%s): the files may be half old and half new "
                       "until `ptc run` (or `ptc serve`) finishes it", db);
    free(state);
    free(db);
}

int ptc_cmd_lint(int argc, char **argv)
{
    lint_args a;
    memset(&a, 0, sizeof a);
    int rc = LINT_USAGE, prc = parse_args(argc, argv, &a);
    ptc_diag diag;
    ptc_cfg cfg;
    ptc_lint L;
    memset(&cfg, 0, sizeof cfg);
    ptc_lint_init(&L, NULL, NULL);
    if (prc != 0) { rc = prc > 0 ? PTC_EXIT_OK : LINT_USAGE; goto out; }
    ptc_diag_init(&diag, a.format == PTC_FMT_TEXT ? stderr : stdout);
    diag.format = a.format;
    /* Machine formats are read whole by tools: no limit there. */
    diag.limit = a.format == PTC_FMT_TEXT ? 100 : 0;
    diag.show_warnings = !a.quiet;
    ptc_diag_set_color_auto(&diag);
    ptc_lint_init(&L, &diag, &cfg);
    L.templates_dir = a.templates;
    L.disabled = a.disabled;
    L.enabled = a.enabled;
    rc = PTC_EXIT_ERROR;
    if (ptc_cfg_load(&cfg, a.root, a.rc, &diag) != 0) goto out;
    report_pending_commit(&cfg, &diag);
    for (size_t i = 0; i < a.nitems; i++) lint_path(&L, &a.items[i]);
    ptc_diag_finish(&diag);
    if (a.format == PTC_FMT_TEXT && (diag.errors || diag.warnings))
        fprintf(diag.out, "ptc lint: %u error%s, %u warning%s\n", diag.errors, diag.errors == 1 ? "" : "s",
                diag.warnings, diag.warnings == 1 ? "" : "s");
    rc = diag.errors || (a.werror && diag.warnings) ? PTC_EXIT_ERROR : PTC_EXIT_OK;
out:
    ptc_lint_free(&L);
    ptc_cfg_free(&cfg);
    free(a.items);
    free(a.disabled);
    free(a.enabled);
    return rc;
}
