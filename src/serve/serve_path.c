/* What a request path may name (include/ptc/serve_path.h): the rules of
 * docs/serve.md, applied to the decoded path and again to a symlink's
 * target.  The provisioning tree holds every phone's SIP password, so
 * everything not plainly a phone's file is refused. */
#include "ptc/serve_path.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

static int ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* The rules for one path segment; first says it is the top one. */
static int segment_check(const char *seg, size_t n, int first, const char **why)
{
    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
        *why = "dot segment";
        return PTC_SERVE_PATH_MALFORMED;
    }
    if (seg[0] == '.') {
        /* ptc's temporary files (.NAME.ptc-XXXXXX), its manifest and lock,
         * editors' and version control's files. */
        *why = "dot file";
        return PTC_SERVE_PATH_HIDDEN;
    }
    if (first && n == 9 && strncasecmp(seg, "templates", 9) == 0) {
        *why = "templates directory";
        return PTC_SERVE_PATH_HIDDEN;
    }
    /* Phone lists and templates are *.conf (massdeployment.conf,
     * webgui-massdeployment.conf); their copies too (x.conf.bak, x.conf~). */
    for (size_t i = 0; i + 5 <= n; i++) {
        if (strncasecmp(seg + i, ".conf", 5) == 0 &&
            (i + 5 == n || seg[i + 5] == '.' || seg[i + 5] == '~' || seg[i + 5] == '-' || seg[i + 5] == '_')) {
            *why = "phone list or template (*.conf)";
            return PTC_SERVE_PATH_HIDDEN;
        }
    }
    static const char *const hidden_suffix[][2] = {
        {".ptcb", "bytecode cache file"},
        {".sqlite3", "database"}, {".sqlite", "database"}, {".db", "database"},
        {"-journal", "database"}, {"-wal", "database"}, {"-shm", "database"},
        {"~", "backup file"}, {".bak", "backup file"}, {".orig", "backup file"},
        {".swp", "backup file"}, {".tmp", "temporary file"},
    };
    for (size_t i = 0; i < sizeof hidden_suffix / sizeof hidden_suffix[0]; i++) {
        if (ends_with_ci(seg, n, hidden_suffix[i][0])) {
            *why = hidden_suffix[i][1];
            return PTC_SERVE_PATH_HIDDEN;
        }
    }
    return PTC_SERVE_PATH_OK;
}

int ptc_serve_rel_check(const char *rel, const char **why)
{
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *why = "control byte, encoded '/' or NUL in path";
            return PTC_SERVE_PATH_MALFORMED;
        }
        if (*p == '\\') {
            *why = "backslash in path";
            return PTC_SERVE_PATH_MALFORMED;
        }
    }
    const char *s = rel;
    int first = 1, rc = PTC_SERVE_PATH_OK;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n) {
            const char *w = NULL;
            int r = segment_check(s, n, first, &w);
            /* A malformed path wins over a hidden one: it is an attack, not
             * a mistake, and the log should say so. */
            if (r == PTC_SERVE_PATH_MALFORMED) { *why = w; return r; }
            if (r != PTC_SERVE_PATH_OK && rc == PTC_SERVE_PATH_OK) { rc = r; *why = w; }
            first = 0;
        }
        if (!e) break;
        s = e + 1;
    }
    if (rc != PTC_SERVE_PATH_OK) return rc;
    size_t len = strlen(rel);
    if (len == 0 || rel[len - 1] == '/') {
        *why = "directory (listings are off)";
        return PTC_SERVE_PATH_ELSEWHERE;
    }
    return PTC_SERVE_PATH_OK;
}

int ptc_serve_path_check(const char *url, const char **rel, const char **why)
{
    static const char prefix[] = "/phoneprov/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0) {
        *why = strcmp(url, "/phoneprov") == 0 ? "directory (listings are off)" : "not under /phoneprov/";
        /* Still reject attacks outside the prefix as such, for the log. */
        const char *w2;
        if (ptc_serve_rel_check(url[0] == '/' ? url + 1 : url, &w2) == PTC_SERVE_PATH_MALFORMED) {
            *why = w2;
            return PTC_SERVE_PATH_MALFORMED;
        }
        return PTC_SERVE_PATH_ELSEWHERE;
    }
    const char *r = url + sizeof prefix - 1;
    while (*r == '/') r++;      /* openat2 would take a leading '/' as absolute */
    int rc = ptc_serve_rel_check(r, why);
    if (rc == PTC_SERVE_PATH_OK) *rel = r;
    return rc;
}

const char *ptc_serve_content_type(const char *name)
{
    static const char *const types[][2] = {
        {".cfg", "text/plain"}, {".txt", "text/plain"}, {".ini", "text/plain"},
        {".csv", "text/csv"}, {".xml", "application/xml"}, {".htm", "text/html"},
        {".html", "text/html"}, {".json", "application/json"}, {".png", "image/png"},
        {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".gif", "image/gif"},
        {".bmp", "image/bmp"}, {".wav", "audio/wav"}, {".pem", "application/x-pem-file"},
        {".crt", "application/x-x509-ca-cert"},
    };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (ends_with_ci(name, n, types[i][0])) return types[i][1];
    /* Grandstream's cfgMAC (binary config, no extension), firmware images. */
    return "application/octet-stream";
}
