/* ptc compile, ptc disasm. */
#include "ptc/cmd.h"
#include "ptc/cache.h"
#include "ptc/disasm.h"
#include "ptc/buf.h"
#include "ptc/templates.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char compile_usage[] =
    "Usage: ptc compile [--cache-dir DIR] [-v] PATH...\n"
    "\n"
    "Compiles templates (files, or directories of *.conf) into the bytecode\n"
    "cache.  Errors are reported as file:line:col; the exit status is 1 when\n"
    "any template has errors, 64 for a bad command line.\n"
    "\n"
    "  --cache-dir DIR  the cache (default $PTC_CACHE_DIR, $XDG_CACHE_HOME/ptc,\n"
    "                   or ~/.cache/ptc); it must not be served to phones\n"
    "  -v, --verbose    say for each template whether the cache held it\n"
    "  -h, --help       this text\n";

static const char disasm_usage[] =
    "Usage: ptc disasm [--cache-dir DIR] [-v] TEMPLATE...\n"
    "       ptc disasm --opcodes\n"
    "\n"
    "Prints each context's bytecode, one instruction per line with its\n"
    "operands and the source line it came from.  The exit status is 1 when\n"
    "a template has errors, 64 for a bad command line.\n"
    "\n"
    "  --cache-dir DIR  the cache (default as for ptc compile)\n"
    "  -v, --verbose    also explain each opcode used, and say on stderr\n"
    "                   whether the cache held each template\n"
    "  --opcodes        print the instruction set (a Markdown table)\n"
    "  -h, --help       this text\n";

typedef struct {
    const char *cache_dir;
    int verbose;
    int opcodes;                /* disasm --opcodes */
} common_opts;

static int parse_common(int argc, char **argv, common_opts *o, const char *usage)
{
    static const struct option longs[] = {
        {"cache-dir", required_argument, NULL, 'C'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"opcodes", no_argument, NULL, 'O'},
        {NULL, 0, NULL, 0}
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "vh", longs, NULL)) != -1) {
        switch (c) {
        case 'C': o->cache_dir = optarg; break;
        case 'v': o->verbose = 1; break;
        case 'O':
            if (usage != disasm_usage) { fputs(usage, stderr); return -1; }
            o->opcodes = 1;
            break;
        case 'h': fputs(usage, stdout); exit(0);
        default:  fputs(usage, stderr); return -1;
        }
    }
    if (o->opcodes ? optind < argc : optind >= argc) { fputs(usage, stderr); return -1; }
    return optind;
}

/* Loads one template through the cache; reports its errors. */
static ptc_prog *load(ptc_cache *cache, const char *path, ptc_diag *diag)
{
    ptc_src *src = ptc_src_load(path, NULL);
    if (!src) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    ptc_prog *p = ptc_cache_get(cache, src, diag);
    ptc_src_free(src);
    return p;
}

/* Options, a reporter and the cache: what both commands work with. */
typedef struct session {
    common_opts o;
    ptc_diag diag;
    ptc_cache cache;
    int first;                  /* the first path of argv */
} session;

/* 0, or -1 for a bad command line. */
static int open_session(session *S, int argc, char **argv, const char *usage)
{
    memset(S, 0, sizeof *S);
    S->first = parse_common(argc, argv, &S->o, usage);
    if (S->first < 0) return -1;
    ptc_diag_init(&S->diag, stderr);
    ptc_diag_set_color_auto(&S->diag);
    ptc_cache_init(&S->cache, S->o.cache_dir);
    if (S->o.verbose) S->cache.log = stderr;
    return 0;
}

static int close_session(session *S)
{
    ptc_diag_finish(&S->diag);
    ptc_cache_free(&S->cache);
    return S->diag.errors ? PTC_EXIT_ERROR : PTC_EXIT_OK;
}

int ptc_cmd_compile(int argc, char **argv)
{
    session S;
    if (open_session(&S, argc, argv, compile_usage) != 0) return PTC_EXIT_USAGE;
    ptc_pathlist list = {0};
    for (int i = S.first; i < argc; i++) ptc_templates_expand(argv[i], &list, &S.diag);
    for (size_t i = 0; i < list.n; i++) ptc_prog_free(load(&S.cache, list.v[i], &S.diag));
    ptc_diag_finish(&S.diag);           /* "and N more" before the count */
    if (S.o.verbose)
        fprintf(stderr, "ptc: %zu template%s: %u from cache, %u compiled\n", list.n,
                list.n == 1 ? "" : "s", S.cache.hits, S.cache.misses);
    ptc_pathlist_free(&list);
    return close_session(&S);
}

int ptc_cmd_disasm(int argc, char **argv)
{
    session S;
    if (open_session(&S, argc, argv, disasm_usage) != 0) return PTC_EXIT_USAGE;
    if (S.o.opcodes) ptc_disasm_opcodes(stdout);
    for (int i = S.first; i < argc; i++) {
        ptc_prog *p = load(&S.cache, argv[i], &S.diag);
        if (!p) continue;
        if (i > S.first) putchar('\n');
        ptc_disasm_print(p, argv[i], stdout);
        if (S.o.verbose) ptc_disasm_legend(p, stdout);
        ptc_prog_free(p);
    }
    return close_session(&S);
}
