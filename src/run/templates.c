/* Template discovery. */
#include "ptc/templates.h"
#include "ptc/buf.h"

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
    DIR *d = opendir(path);
    if (!d) {
        ptc_diag_plain(diag, PTC_ERROR, "io", "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    ptc_pathlist found = {0};
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".conf") != 0) continue;
        ptc_buf b = PTC_BUF_INIT;
        ptc_buf_printf(&b, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", e->d_name);
        ptc_pathlist_add(&found, ptc_buf_cstr(&b));
        ptc_buf_free(&b);
    }
    closedir(d);
    if (found.n) qsort(found.v, found.n, sizeof *found.v, cmp_str);
    for (size_t i = 0; i < found.n; i++) ptc_pathlist_add(out, found.v[i]);
    ptc_pathlist_free(&found);
    return 0;
}
