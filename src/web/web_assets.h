/* The web interface's pages (the files of web/), compiled into the binary by
 * tools/embed.sh (build/gen/web_assets.c), each also gzip'd.
 * Ownership: static data, never freed. */
#ifndef PTC_WEB_ASSETS_H
#define PTC_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *path;           /* "/app.js" */
    const char *type;           /* its Content-Type */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz;    /* the same, gzip'd */
    size_t gzlen;
} web_asset;

/* Every page file; the last entry's path is NULL.  Static data. */
extern const web_asset web_assets[];

#endif
