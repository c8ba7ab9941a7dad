/* Finding templates: a file, or a directory's *.conf files in name order;
 * and the one registry of the templates a phone list names, shared by run,
 * lint and notify.
 *
 * Ownership: a ptc_pathlist owns its strings (ptc_pathlist_free, NULL
 * accepted).  A ptc_tmpls owns its entries, their names, paths and
 * programs (ptc_tmpls_free, NULL accepted); an entry stays at its address
 * until then, and its user pointer is the caller's.
 */
#ifndef PTC_TEMPLATES_H
#define PTC_TEMPLATES_H

#include <stddef.h>
#include "ptc/cache.h"
#include "ptc/cfg.h"
#include "ptc/diag.h"
#include "ptc/prog.h"

typedef struct ptc_pathlist { char **v; size_t n; } ptc_pathlist;

/* Appends path, or the sorted *.conf files of a directory path.  -1 with
 * an error reported when path cannot be read. */
int  ptc_templates_expand(const char *path, ptc_pathlist *out, ptc_diag *diag);
void ptc_pathlist_add(ptc_pathlist *l, const char *path);
void ptc_pathlist_free(ptc_pathlist *l);

/* The names (without .conf) of the templates in dir, sorted, NULL-terminated
 * (empty when dir cannot be read).  Caller frees with ptc_names_free. */
char **ptc_templates_names(const char *dir);
void   ptc_names_free(char **names);

/* The templates directory to open: PHONEPROV_BASE_DIR/templates under
 * --root (cfg NULL: the default base).  Caller frees. */
char *ptc_templates_dir(const ptc_cfg *cfg);

typedef struct ptc_tmpl {
    char *name;
    char *path;                 /* DIR/NAME.conf, to open */
    int order;                  /* first appearance in the list, from 0 */
    int looked;                 /* the caller has tried to load it */
    int err;                    /* errno of a failed load (EINVAL: a name the
                                 * phone list grammar refuses: never opened) */
    int reported;               /* its absence was reported (once a list) */
    ptc_prog *prog;             /* from ptc_tmpls_program: NULL when missing or broken */
    void *user;                 /* the caller's (lint: its findings) */
} ptc_tmpl;

typedef struct ptc_tmpls {
    char *dir;
    ptc_tmpl **v;
    size_t n;
    char **avail;               /* ptc_templates_names(dir), read when needed */
} ptc_tmpls;

void ptc_tmpls_init(ptc_tmpls *T, const char *dir);
void ptc_tmpls_free(ptc_tmpls *T);
/* The entry of template name (len bytes), added on first sight. */
ptc_tmpl *ptc_tmpls_get(ptc_tmpls *T, const char *name, size_t len);
/* ptc_tmpls_get, and its program through the cache the first time (errors
 * of the template reported to diag; a missing file only recorded in err). */
ptc_tmpl *ptc_tmpls_program(ptc_tmpls *T, const char *name, size_t len, ptc_cache *cache, ptc_diag *diag);
/* Reports "template NAME not found: PATH: reason" at byte off of list,
 * once per entry; with suggest, a did-you-mean note from the directory. */
void ptc_tmpls_report_missing(ptc_tmpls *T, ptc_tmpl *t, ptc_src *list, size_t off, unsigned line,
                              int suggest, ptc_diag *diag);

#endif
