/* The pages: the embedded files of web/ (web_assets.h), with an ETag
 * (304 for a client that has them) and gzip for a client that takes it.
 * "/" is index.html; everything the pages do goes through /api/. */
#include "web_int.h"
#include "web_assets.h"

#include <stdio.h>
#include <string.h>

static const web_asset *find_asset(const char *url)
{
    if (!strcmp(url, "/")) url = "/index.html";
    for (const web_asset *a = web_assets; a->path; a++)
        if (!strcmp(a->path, url)) return a;
    return NULL;
}

/* 1 when the Accept-Encoding header names gzip (without q=0). */
static int takes_gzip(wreq *r)
{
    const char *ae = web_header(r, "Accept-Encoding");
    const char *g = ae ? strstr(ae, "gzip") : NULL;
    if (!g) return 0;
    const char *end = g + strcspn(g, ",");
    const char *q = strstr(g, "q=");
    return !(q && q < end && strtod(q + 2, NULL) == 0.0);
}

enum MHD_Result web_static(wreq *r)
{
    const web_asset *a = find_asset(r->url);
    if (!a) return web_error(r, 404, "not-found", "no such page: %s", r->url);
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        return web_error(r, 405, "method", "%s takes GET, not %s", r->url, r->method);
    char etag[40];
    snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)ptc_hash64(a->data, a->len));
    r->etag = etag;
    r->vary_encoding = 1;
    r->cacheable = 1;
    const char *inm = web_header(r, "If-None-Match");
    if (inm && strstr(inm, etag)) return web_text(r, 304, a->type, "", 0, NULL);
    if (takes_gzip(r)) {
        r->encoding = "gzip";
        return web_text(r, 200, a->type, (const char *)a->gz, a->gzlen, NULL);
    }
    return web_text(r, 200, a->type, (const char *)a->data, a->len, NULL);
}
