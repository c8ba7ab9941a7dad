/* Finding templates: a file, or a directory's *.conf files in name order. */
#ifndef PTC_TEMPLATES_H
#define PTC_TEMPLATES_H

#include <stddef.h>
#include "ptc/diag.h"

typedef struct ptc_pathlist { char **v; size_t n; } ptc_pathlist;

/* Appends path, or the sorted *.conf files of a directory path.  -1 with
 * an error reported when path cannot be read. */
int  ptc_templates_expand(const char *path, ptc_pathlist *out, ptc_diag *diag);
void ptc_pathlist_add(ptc_pathlist *l, const char *path);
void ptc_pathlist_free(ptc_pathlist *l);

#endif
