/* Template discovery and the registry (include/ptc/templates.h). */
#include "ptc/templates.h"
#include "ptc/buf.h"
#include "ptc/rec.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void ptc_pathlist_add(ptc_pathlist *l, const char *path)
{
    l->v = ptc_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = ptc_xstrdup(path);
}

void ptc_pathlist_free(ptc_pathlist *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_conf(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n >= 6 && strcmp(name + n - 5, ".conf") == 0;
}

/* The *.conf entries of dir, sorted; -1 when it cannot be read. */
static int scan_conf(const char *dir, ptc_pathlist *names)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (is_conf(e->d_name)) ptc_pathlist_add(names, e->d_name);
    closedir(d);
    if (names->n) qsort(names->v, names->n, sizeof *names->v, cmp_str);
    return 0;
}

char **ptc_templates_names(const char *dir)
{
    ptc_pathlist found = {0};
    scan_conf(dir, &found);
    char **v = ptc_xcalloc(found.n + 1, sizeof *v);
    for (size_t i = 0; i < found.n; i++) v[i] = ptc_xstrndup(found.v[i], strlen(found.v[i]) - 5);
    ptc_pathlist_free(&found);
    return v;
}

void ptc_names_free(char **names)
{
    for (size_t i = 0; names && names[i]; i++) free(names[i]);
    free(names);
}

char *ptc_templates_dir(const ptc_cfg *cfg)
{
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_printf(&b, "%s/templates", cfg ? ptc_cfg_base_dir(cfg) : PTC_DEFAULT_BASE_DIR);
    char *p = cfg ? ptc_cfg_path(cfg, ptc_buf_cstr(&b)) : ptc_xstrdup(ptc_buf_cstr(&b));
    ptc_buf_free(&b);
    return p;
}

int ptc_templates_expand(const char *path, ptc_pathlist *out, ptc_diag *diag)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ptc_pathlist_add(out, path);
        return 0;
    }
    ptc_pathlist found = {0};
    if (scan_conf(path, &found) != 0) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < found.n; i++) {
        ptc_buf b = PTC_BUF_INIT;
        ptc_buf_printf(&b, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", found.v[i]);
        ptc_pathlist_add(out, ptc_buf_cstr(&b));
        ptc_buf_free(&b);
    }
    ptc_pathlist_free(&found);
    return 0;
}

/* ---- the registry ----------------------------------------------------------- */

void ptc_tmpls_init(ptc_tmpls *T, const char *dir)
{
    memset(T, 0, sizeof *T);
    T->dir = ptc_xstrdup(dir);
}

void ptc_tmpls_free(ptc_tmpls *T)
{
    if (!T) return;
    for (size_t i = 0; i < T->n; i++) {
        free(T->v[i]->name);
        free(T->v[i]->path);
        ptc_prog_free(T->v[i]->prog);
        free(T->v[i]);
    }
    free(T->v);
    free(T->dir);
    ptc_names_free(T->avail);
    memset(T, 0, sizeof *T);
}

ptc_tmpl *ptc_tmpls_get(ptc_tmpls *T, const char *name, size_t len)
{
    for (size_t i = 0; i < T->n; i++)
        if (strlen(T->v[i]->name) == len && memcmp(T->v[i]->name, name, len) == 0) return T->v[i];
    T->v = ptc_xrealloc(T->v, (T->n + 1) * sizeof *T->v);
    ptc_tmpl *t = ptc_xcalloc(1, sizeof *t);
    T->v[T->n] = t;
    t->order = (int)T->n++;
    t->name = ptc_xstrndup(name, len);
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_printf(&b, "%s/%s.conf", T->dir, t->name);
    t->path = ptc_xstrdup(ptc_buf_cstr(&b));
    ptc_buf_free(&b);
    /* Names the phone list grammar refuses are never opened: no path is
     * built from them. */
    if (!ptc_rec_valid_template_name(name, len)) t->err = EINVAL;
    return t;
}

ptc_tmpl *ptc_tmpls_program(ptc_tmpls *T, const char *name, size_t len, ptc_cache *cache, ptc_diag *diag)
{
    ptc_tmpl *t = ptc_tmpls_get(T, name, len);
    if (t->looked) return t;
    t->looked = 1;
    if (t->err) return t;
    ptc_src *src = ptc_src_load(t->path, NULL);
    if (!src) {
        t->err = errno;
        return t;
    }
    t->prog = ptc_cache_get(cache, src, diag);
    ptc_src_free(src);
    return t;
}

void ptc_tmpls_report_missing(ptc_tmpls *T, ptc_tmpl *t, ptc_src *list, size_t off, unsigned line,
                              int suggest, ptc_diag *diag)
{
    if (t->reported) return;
    t->reported = 1;
    ptc_diag_at(diag, list, off, PTC_ERROR, "unknown-template", "template \"%s\" not found: %s: %s",
                t->name, t->path, strerror(t->err));
    if (!suggest) return;
    if (!T->avail) T->avail = ptc_templates_names(T->dir);
    const char *s = ptc_diag_suggest(t->name, strlen(t->name), (const char *const *)T->avail);
    if (s) ptc_diag_line(diag, list, line, PTC_NOTE, "unknown-template", "did you mean \"%s\"?", s);
}
