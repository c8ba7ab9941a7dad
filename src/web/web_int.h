/* The web interface's parts (private to src/web/): the server state, a
 * request, and what each part offers the router in web.c.
 *
 * Ownership: the ptc_web owns everything in it; a request owns its body
 * and borrows the server. */
#ifndef PTC_WEB_INT_H
#define PTC_WEB_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <time.h>
#include "ptc/buf.h"
#include "ptc/cfg.h"
#include "ptc/listen.h"
#include "ptc/users.h"
#include "ptc/web.h"

#define WEB_SESSIONS    256     /* at most; the least recently used goes */
#define WEB_FAILS       1024    /* failed-login counters kept (per address, per user) */
#define WEB_BODY_MAX    (1u << 20)
#define WEB_IMPORT_MAX  (16u << 20)
#define WEB_IDLE_S      60      /* a connection's idle timeout */

typedef struct web_session {
    char token[65], csrf[65];   /* hex of 32 random bytes each */
    char user[33];
    ptc_role role;
    time_t born, last;
} web_session;

typedef struct web_fail {
    uint64_t key;               /* hash of "a:ADDR" or "u:USER" */
    unsigned count;
    time_t last, until;
} web_fail;

typedef struct web_gen {
    int running;
    char user[33];
    time_t started;
    unsigned done, total;
    json_t *last;               /* the last result */
} web_gen;

struct ptc_web {
    char *root, *rc_file, *list_path, *users_path, *db_opt, *audit_opt, *cache_dir;
    char *dir;                  /* beside the users file: settings, log, certificate */
    char *settings_path, *log_path;
    unsigned idle_s;
    ptc_listen ls[2];
    int tls[2];
    struct MHD_Daemon *d[2];
    int nls;
    ptc_buf cert, key;
    pthread_mutex_t mu;         /* sessions, fails, users, the list and settings */
    ptc_users users;
    struct timespec users_mtime;
    web_session sess[WEB_SESSIONS];
    web_fail fails[WEB_FAILS];
    pthread_mutex_t gen_mu;     /* gen */
    web_gen gen;
    pthread_mutex_t log_mu;
    pthread_mutex_t set_mu;     /* the settings file (taken inside mu) */
    uint64_t lint_key;          /* under mu: what lint_diags is the lint of */
    json_t *lint_diags;
};

/* One API request. */
typedef struct wreq {
    ptc_web *W;
    struct MHD_Connection *c;
    const char *method, *url;
    const char *arg;            /* what follows the route's prefix ("" when none) */
    char addr[64];
    int tls;
    ptc_buf body;
    int too_big;
    web_session s;              /* a copy of the caller's session (s.user "" when none) */
    const char *etag;           /* sent as the ETag header when set */
    const char *encoding;       /* Content-Encoding of the body, when set */
    int vary_encoding;          /* the body depends on Accept-Encoding */
    int cacheable;              /* a page file: may be cached (revalidated) */
    char *set_cookie;           /* sent as Set-Cookie when set (owned: wiped and freed) */
} wreq;

/* ---- web.c: responses ---------------------------------------------------- */
enum MHD_Result web_json(wreq *r, int status, json_t *body);   /* steals body */
enum MHD_Result web_error(wreq *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 422 {"errors": errors}: the field errors of a change (steals errors). */
enum MHD_Result web_field_errors(wreq *r, json_t *errors);
json_t *web_field_error(const char *field, const char *code, const char *message);
enum MHD_Result web_text(wreq *r, int status, const char *type, const char *data, size_t len,
                         const char *disposition);
/* The request body as JSON (an object), or NULL after replying 400. */
json_t *web_body_json(wreq *r, enum MHD_Result *ret);
const char *web_header(wreq *r, const char *name);
const char *web_query(wreq *r, const char *name);
ptc_cfg *web_cfg(ptc_web *W, ptc_diag *diag);  /* loaded fresh; NULL after reporting */
void web_cfg_free(ptc_cfg *c);
void web_random_hex(char *out, size_t nbytes);  /* 2 * nbytes hex digits and a NUL */

/* Diagnostics gathered in memory as JSON objects ({file, line, column,
 * severity, code, message}: ptc lint --format json), no limit. */
typedef struct web_diags {
    ptc_diag d;
    FILE *f;
    char *buf;
    size_t len;
} web_diags;
void    web_diags_open(web_diags *w);
json_t *web_diags_close(web_diags *w);  /* the array (new reference) */
/* Lines of JSON objects (text is cut in place) as an array; lines that
 * are not JSON are skipped. */
json_t *web_json_lines(char *text);

/* ---- web_static.c: the pages -------------------------------------------- */
enum MHD_Result web_static(wreq *r);

/* ---- web_auth.c: sessions ------------------------------------------------ */
enum MHD_Result web_login(wreq *r);
enum MHD_Result web_logout(wreq *r);
enum MHD_Result web_session_get(wreq *r);
enum MHD_Result web_users(wreq *r);
/* Fills r->s from the cookie; 1 when a live session was found. */
int  web_session_find(wreq *r);
/* 1 when the request carries the session's CSRF token. */
int  web_csrf_ok(wreq *r);

/* ---- web_phones.c -------------------------------------------------------- */
enum MHD_Result web_phones(wreq *r);
enum MHD_Result web_import(wreq *r);
enum MHD_Result web_export(wreq *r);
enum MHD_Result web_templates(wreq *r);
/* The ETag the list file has now (of an empty list when there is none). */
void web_list_etag(ptc_web *W, char out[48]);

/* ---- web_gen.c ----------------------------------------------------------- */
enum MHD_Result web_generate(wreq *r);
enum MHD_Result web_settings(wreq *r);
enum MHD_Result web_status(wreq *r);
enum MHD_Result web_notify(wreq *r);
/* The settings file: gw_if ("" for rc.conf's) and lines shown (1-6). */
void web_settings_read(ptc_web *W, char *gw_if, size_t n, int *lines_shown);

/* ---- web_log.c ----------------------------------------------------------- */
/* One line of the admin log: action, and the MACs touched (NULL: none). */
void web_log(wreq *r, const char *action, json_t *macs);

/* ---- web_cert.c ---------------------------------------------------------- */
/* A self-signed certificate and key for host names and addresses of the
 * listeners, written 0600 to cert and key.  0, or -1 with why. */
int  web_make_cert(const char *cert, const char *key, char *why, size_t whylen);

#endif
