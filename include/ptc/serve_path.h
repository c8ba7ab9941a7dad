/* ptc_serve_path: what a request path may name (src/serve/serve_path.c).
 * Pure functions.
 * Ownership: returned strings point into the argument or are static. */
#ifndef PTC_SERVE_PATH_H
#define PTC_SERVE_PATH_H

enum {
    PTC_SERVE_PATH_OK = 0,
    PTC_SERVE_PATH_MALFORMED,   /* 400: .., encoded / or NUL, control bytes */
    PTC_SERVE_PATH_HIDDEN,      /* 404: never served (see above) */
    PTC_SERVE_PATH_ELSEWHERE    /* 404: not under /phoneprov/, or a directory */
};

/* Checks a decoded request path (as the server's unescaper left it: encoded
 * `/`, `\` and NUL become byte 0x01) against the serving rules.  On OK sets
 * *rel to the path below /phoneprov/ (inside url).  Otherwise *why names
 * the rule (a static string). */
int ptc_serve_path_check(const char *url, const char **rel, const char **why);
/* The same rules for a path relative to the base directory (used again on
 * the target of a symlink).  PTC_SERVE_PATH_OK or the class, with *why. */
int ptc_serve_rel_check(const char *rel, const char **why);
/* The Content-Type for a file name (by extension). */
const char *ptc_serve_content_type(const char *name);

#endif
